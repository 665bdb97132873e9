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
  std::string transport;  // "" = the experiment's
  std::string out;
  std::vector<std::string> runs;
  std::string log_level = "warn";
  std::string hosts;
  std::string resume;  // OUT of an earlier launch to resume from its checkpoints
  double chaos = 0;    // kills per minute (0 = off)
  uint64_t chaos_seed = 1;
  bool dry_run = false;
  int threads = 0;                 // inproc worker threads (0 = one per core)
  std::string command = "launch";  // or "simulate": what errors are prefixed with
};

int RunLaunch(const LaunchArgs& a) {
  InitLogging("launch", a.log_level);
  const std::string me = "hearsay " + a.command + ": ";
  LaunchOptions o;
  o.experiment_path = a.experiment;
  if (!a.transport.empty()) o.transport = ParseTransport(a.transport).value();  // CLI11 checked
  o.out_dir = a.out;
  if (!a.resume.empty()) {
    if (!a.out.empty() && a.out != a.resume) {
      std::cerr << me << "--resume " << a.resume << " writes into that folder; drop --out " << a.out
                << "\n";
      return 1;
    }
    o.out_dir = a.resume;
    o.resume = true;
  }
  o.runs = a.runs;
  o.log_level = a.log_level;
  o.dry_run = a.dry_run;
  o.threads = a.threads;
  o.chaos_rate = a.chaos;
  o.chaos_seed = a.chaos_seed;
  o.hosts_file = a.hosts;
  o.stop = &InstallStopHandlers();
  o.progress = &std::cout;
  o.progress_is_tty = isatty(STDOUT_FILENO);
  std::error_code ec;
  o.peer_binary = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) {
    std::cerr << me << "cannot find my own executable: " << ec.message() << "\n";
    return 2;
  }
  auto result = Launch(o);
  if (!result.ok()) {
    std::cout << std::flush;
    std::cerr << me << result.status().message() << "\n";
    switch (result.status().code()) {
      case StatusCode::kCancelled:
        return 130;
      case StatusCode::kInvalidArgument:  // the experiment file, a run name: nothing started
      case StatusCode::kNotFound:
      case StatusCode::kUnimplemented:  // a transport or feature this build lacks
        return 1;
      default:
        return 2;
    }
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
      "OUT/config.yaml (what ran), OUT/summary.csv, OUT/curves.csv, plots, and per-peer\n"
      "metrics in OUT/<run>/.\n"
      "Exit codes: 0 done, 1 bad input or usage, 2 run failed, 130 interrupted (Ctrl-C).");
  cmd->add_option("experiment", args->experiment, "Experiment file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--transport,-t", args->transport,
                  "tcp: one `hearsay peer` process per node over loopback TCP;\n"
                  "inproc: peers in this process, on --threads worker threads; sim: virtual\n"
                  "time (default: the experiment's `transport:`, else tcp, or sim with a grid)")
      ->check(CLI::IsMember(TransportNames()));
  cmd->add_option("--out,-o", args->out, "Output folder (default: the experiment's `output:`)");
  cmd->add_option("--run", args->runs,
                  "Only this run (repeatable; default: all runs). The other runs' rows in\n"
                  "OUT/summary.csv and OUT/curves.csv, and their plots, are kept");
  cmd->add_option("--hosts", args->hosts,
                  "Start the peers on these hosts over ssh (transport tcp): one `[user@]host\n"
                  "slots=N` a line, peers placed in id order; the binary, the experiment and\n"
                  "the working folder must be at the same paths there (docs/deploy.md)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--resume", args->resume,
                  "Resume the runs of an earlier launch into OUT from their last checkpoints\n"
                  "(runs with `checkpoint_every`; every peer continues from the latest round\n"
                  "all peers checkpointed; runs without checkpoints start afresh)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--chaos", args->chaos,
                  "Soak test: random kills, each followed by a restart, at RATE kills per minute\n"
                  "of run time (runs bounded by duration:; in-process or simulated; seeded by\n"
                  "--chaos-seed and the run's seed; docs/faults.md)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--chaos-seed", args->chaos_seed, "Seed of the --chaos schedule")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads,
                  "Transport inproc: worker threads that run the peers (peers share them and\n"
                  "take turns; default: one per CPU core, at most one per peer)")
      ->check(CLI::Range(1, 4096));
  cmd->add_flag("--dry-run", args->dry_run,
                "Print the resolved configuration (OUT/config.yaml) and the runs it would\n"
                "start; start nothing, write nothing");
  cmd->add_option("--log-level", args->log_level, "Peers' log level: debug | info | warn | error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  cmd->callback([args] {
    const int rc = RunLaunch(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  // `hearsay simulate EXP` = `hearsay launch EXP --transport sim` (docs/simulator.md).
  auto sim = std::make_shared<LaunchArgs>();
  CLI::App* scmd = app.add_subcommand(
      "simulate",
      "Run an experiment in virtual time (the same as `launch --transport sim`): every peer in\n"
      "this process, the emulator's link model deciding when each message arrives, each local\n"
      "step taking `compute_time`; same outputs as launch (docs/simulator.md).");
  scmd->add_option("experiment", sim->experiment, "Experiment file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  scmd->add_option("--out,-o", sim->out, "Output folder (default: the experiment's `output:`)");
  scmd->add_option("--run", sim->runs, "Only this run (repeatable; default: all runs)");
  scmd->add_option("--chaos", sim->chaos,
                   "Random kills and restarts at RATE per minute of virtual time (see launch)")
      ->check(CLI::Range(0.0, 1e6));
  scmd->add_option("--chaos-seed", sim->chaos_seed, "Seed of the --chaos schedule")
      ->capture_default_str();
  scmd->add_flag("--dry-run", sim->dry_run,
                 "Print the resolved configuration and the runs; start nothing");
  scmd->callback([sim] {
    sim->transport = "sim";
    sim->command = "simulate";
    const int rc = RunLaunch(*sim);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace hearsay::apps
