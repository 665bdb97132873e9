// hearsay replay: re-executes a recorded asynchronous run and compares its final models.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "apps/commands.h"
#include "common/logging.h"
#include "runtime/sim/replay.h"

namespace hearsay::apps {
namespace {

struct ReplayArgs {
  std::string run_dir;
  std::string experiment;  // default: from run_dir/run.json
  std::string run;
};

int RunReplay(const ReplayArgs& a) {
  InitLogging("replay", "warn");
  RunIdentity id{a.experiment, a.run};
  if (id.experiment.empty() || id.run.empty()) {
    auto recorded = ReadRunIdentity(a.run_dir);
    if (!recorded.ok()) {
      std::cerr << "hearsay replay: " << recorded.status().message() << "\n";
      return 1;
    }
    if (id.experiment.empty()) id.experiment = recorded->experiment;
    if (id.run.empty()) id.run = recorded->run;
  }
  auto exp = LoadExperiment(id.experiment);
  if (!exp.ok()) {
    std::cerr << "hearsay replay: " << exp.status().message() << "\n";
    return 1;
  }
  const RunConfig* run = exp->FindRun(id.run);
  if (run == nullptr) {
    std::cerr << "hearsay replay: " << id.experiment << " has no run named '" << id.run << "'\n";
    return 1;
  }
  auto report = ReplayRecordedRun(*run, run->topology, a.run_dir);
  if (!report.ok()) {
    std::cerr << "hearsay replay: " << report.status().message() << "\n";
    const StatusCode c = report.status().code();
    return c == StatusCode::kInvalidArgument || c == StatusCode::kNotFound ||
                   c == StatusCode::kCorruption
               ? 1
               : 2;
  }
  std::printf("%-6s %8s  %-9s %10s %12s\n", "peer", "rounds", "final", "differing", "max |diff|");
  for (const ReplayPeerResult& p : report->peers) {
    std::printf("%-6d %8lld  %-9s %10lld %12.3g\n", p.peer, static_cast<long long>(p.rounds),
                p.identical ? "identical" : "DIFFERS", static_cast<long long>(p.differing),
                p.max_abs_diff);
  }
  std::printf("replayed %zu peers in %.2f s: %s\n", report->peers.size(), report->real_seconds,
              report->all_identical() ? "every final model is bit-identical to the recorded run"
                                      : "final models DIFFER from the recorded run");
  return report->all_identical() ? 0 : 2;
}

}  // namespace

void RegisterReplayCommand(CLI::App& app) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* cmd = app.add_subcommand(
      "replay",
      "Re-execute a recorded asynchronous run (OUT/<run>) in one process from its replay logs\n"
      "and compare the final models with the recorded ones, bit for bit.\n"
      "Exit codes: 0 identical, 1 bad input (no log, sync run, missing files), 2 differences.");
  cmd->add_option("run_dir", args->run_dir, "The run's folder, OUT/<run>")->required();
  cmd->add_option("--experiment", args->experiment,
                  "Experiment file (default: the one recorded in RUN_DIR/run.json)");
  cmd->add_option("--run", args->run, "Run name (default: the one recorded in RUN_DIR/run.json)");
  cmd->callback([args] {
    const int rc = RunReplay(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace hearsay::apps
