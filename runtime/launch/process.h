// ChildProcess: a spawned `hearsay peer` daemon, owned by the launcher.
//
// Children get PR_SET_PDEATHSIG(SIGTERM), so they stop if the launcher dies; the launcher stops
// them explicitly on Ctrl-C or when a sibling fails (Terminate, then Kill after a grace period):
// no orphans. stdout and stderr go to a log file. Thread-safety: one owner thread.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace hearsay {

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // kills and reaps a child still running

  // Starts argv[0] (a path) with argv, output appended to log_path.
  static Result<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                    const std::string& log_path);

  // Exit code once the child has ended (128 + signal for a signal), nullopt while it runs.
  std::optional<int> Poll();
  // Sends SIGTERM (clean stop), or SIGKILL.
  void Terminate();
  void Kill();
  // Sends `sig` (SIGSTOP, SIGCONT: the fault schedule's pause) to a child still running.
  void Signal(int sig);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace hearsay
