// hearsay launch: run every run of an experiment and print the comparison table.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "apps/commands.h"
#include "apps/signals.h"
#include "common/logging.h"
#include "runtime/launch/launcher.h"

namespace hearsay::apps {
namespace {

struct LaunchArgs {
  std::string experiment;
  std::string transport = "tcp";
  std::string out;
  std::vector<std::string> runs;
  std::string log_level = "warn";
};

int RunLaunch(const LaunchArgs& a) {
  InitLogging("launch", a.log_level);
  LaunchOptions o;
  o.experiment_path = a.experiment;
  o.transport = a.transport;
  o.out_dir = a.out;
  o.runs = a.runs;
  o.log_level = a.log_level;
  o.stop = &InstallStopHandlers();
  o.progress = &std::cout;
  o.progress_is_tty = isatty(STDOUT_FILENO);
  std::error_code ec;
  o.peer_binary = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) {
    std::cerr << "hearsay launch: cannot find my own executable: " << ec.message() << "\n";
    return 2;
  }
  auto result = Launch(o);
  if (!result.ok()) {
    std::cout << std::flush;
    std::cerr << "hearsay launch: " << result.status().message() << "\n";
    if (result.status().code() == StatusCode::kCancelled) return 130;
    return result.status().code() == StatusCode::kInvalidArgument ||
                   result.status().code() == StatusCode::kNotFound
               ? 1
               : 2;
  }
  return 0;
}

}  // namespace

void RegisterLaunchCommand(CLI::App& app) {
  auto args = std::make_shared<LaunchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "launch",
      "Run an experiment: every run in the file, one after another, each on all nodes of the\n"
      "topology, through the network emulator. Shows live progress, then a table; writes\n"
      "OUT/summary.csv, OUT/curves.csv and per-peer metrics in OUT/<run>/.\n"
      "Exit codes: 0 done, 1 bad input, 2 run failed, 130 interrupted (Ctrl-C).");
  cmd->add_option("experiment", args->experiment, "Experiment file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--transport,-t", args->transport,
                  "tcp: one `hearsay peer` process per node over loopback TCP;\n"
                  "inproc: peers as threads of this process;\n"
                  "sim: all peers in a discrete-event simulation in virtual time")
      ->check(CLI::IsMember({"tcp", "inproc", "sim"}))
      ->capture_default_str();
  cmd->add_option("--out,-o", args->out, "Output folder (default: the experiment's `output:`)");
  cmd->add_option("--run", args->runs, "Only this run (repeatable; default: all runs)");
  cmd->add_option("--log-level", args->log_level, "Peers' log level: debug | info | warn | error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  cmd->callback([args] {
    const int rc = RunLaunch(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace hearsay::apps
