// hearsay report DIR: the results of peers started by any means (srun, mpirun, by hand), built
// as `hearsay launch` builds them (runtime/launch/report.h).
#include <CLI/CLI.hpp>

#include <iostream>

#include "apps/commands.h"
#include "common/logging.h"
#include "runtime/launch/report.h"

namespace hearsay::apps {
namespace {

struct ReportArgs {
  std::string dir;
  std::string experiment;
  std::vector<std::string> runs;
};

int RunReport(const ReportArgs& a) {
  InitLogging("report", "warn");
  ReportOptions o;
  o.dir = a.dir;
  o.experiment_path = a.experiment;
  o.runs = a.runs;
  o.progress = &std::cout;
  auto result = BuildReport(o);
  if (!result.ok()) {
    std::cout << std::flush;
    std::cerr << "hearsay report: " << result.status().message() << "\n";
    const StatusCode code = result.status().code();
    return code == StatusCode::kInvalidArgument || code == StatusCode::kNotFound ? 1 : 2;
  }
  std::cout << "\nresults: " << a.dir << "/summary.csv, " << a.dir << "/curves.csv, plots " << a.dir
            << "/*.svg\n";
  return 0;
}

}  // namespace

void RegisterReportCommand(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Build DIR/summary.csv, DIR/curves.csv and the plots from the files peers wrote into\n"
      "DIR/<run>/, however they were started (srun, mpirun, hearsay peer by hand): the same\n"
      "evaluation and files as `hearsay launch`.\n"
      "Exit codes: 0 done, 1 bad input, 2 evaluation failed.");
  cmd->add_option("dir", args->dir, "Output folder (the experiment's `output:` or --out)")
      ->required();
  cmd->add_option("--experiment,-e", args->experiment,
                  "Experiment file (default: the one DIR/<run>/run.json names)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--run", args->runs,
                  "Only this run (repeatable; default: every run with peer files in DIR);\n"
                  "other runs' rows are kept");
  cmd->callback([args] {
    const int rc = RunReport(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace hearsay::apps
