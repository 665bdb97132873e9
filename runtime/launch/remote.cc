#include "runtime/launch/remote.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "runtime/launch/process.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

constexpr int kCopyTimeoutSeconds = 300;

// Runs argv to completion (bounded), output appended to log_path.
Status RunToEnd(const std::vector<std::string>& argv, const std::string& log_path,
                const std::string& what) {
  HEARSAY_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::Spawn(argv, log_path));
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(kCopyTimeoutSeconds);
  while (true) {
    if (std::optional<int> code = child.Poll()) {
      if (*code == 0) return Status::Ok();
      return Unavailable(what + ": exit code " + std::to_string(*code) + " (log: " + log_path +
                         ")");
    }
    if (std::chrono::steady_clock::now() > until) {
      child.Kill();
      return DeadlineExceeded(what + ": no answer in " + std::to_string(kCopyTimeoutSeconds) +
                              " s (log: " + log_path + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

std::string ShellQuote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

Result<std::string> FindOnPath(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return NotFound(program + ": not found on PATH (install the OpenSSH client: openssh-client)");
}

std::vector<std::string> SshArgv(const std::string& ssh, const std::string& destination,
                                 const std::string& cwd, const std::vector<std::string>& command) {
  std::string remote = "cd " + ShellQuote(cwd) + " && exec";
  for (const std::string& w : command) remote += " " + ShellQuote(w);
  // BatchMode: fail instead of prompting for a password (the launcher has no terminal to offer).
  return {ssh, "-o", "BatchMode=yes", destination, remote};
}

Status PushFile(const std::string& ssh, const std::string& destination, const std::string& path,
                const std::string& log_path) {
  const std::string dir = fs::path(path).parent_path().string();
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const std::string remote = "mkdir -p " + ShellQuote(dir) + " && cat > " + ShellQuote(tmp) +
                             " && mv -f " + ShellQuote(tmp) + " " + ShellQuote(path);
  // The local shell only redirects stdin; every word reaches it as a positional parameter.
  return RunToEnd({"/bin/sh", "-c", "exec \"$0\" -o BatchMode=yes \"$1\" \"$2\" < \"$3\"", ssh,
                   destination, remote, path},
                  log_path, "copying " + path + " to " + destination);
}

Status PullFolder(const std::string& ssh, const std::string& destination, const std::string& dir,
                  const std::string& log_path) {
  const std::string remote = "tar -C " + ShellQuote(dir) + " -cf - .";
  return RunToEnd({"/bin/bash", "-o", "pipefail", "-c",
                   "\"$0\" -o BatchMode=yes \"$1\" \"$2\" | tar -C \"$3\" -xf - --skip-old-files",
                   ssh, destination, remote, dir},
                  log_path, "copying " + destination + ":" + dir + " back");
}

}  // namespace hearsay
