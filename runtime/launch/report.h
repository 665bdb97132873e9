// `hearsay report DIR`: an experiment's results rebuilt from the files its peers wrote into
// DIR/<run>/, however the peers were started (`hearsay launch`, srun, mpirun, by hand). It
// evaluates each run exactly as the launcher does after its peers finish -- the launcher calls
// SummarizeRunFolder too -- and writes DIR/summary.csv, DIR/curves.csv, the plots and each
// DIR/<run>/eval.jsonl (runtime/launch/results.h), so for the same peer files the two are equal.
//
// Which runs: ReportOptions::runs, else every run of the experiment that has a folder with
// peer_0.jsonl. The experiment: ReportOptions::experiment_path, else the one a run folder's
// run.json names (the launcher writes it). Errors are one line: InvalidArgument / NotFound for
// bad input (no experiment, no run folder, an unknown run), the evaluation's error otherwise.
// Thread-safety: blocking free functions over files.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/launch/evaluate.h"
#include "runtime/launch/faults.h"
#include "runtime/launch/results.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/workload.h"

namespace hearsay {

// The summary row of `run` from its evaluated curves (round 0 first; the time grid, maybe
// empty), how its peers ended, and what its peers recorded in run_dir (staleness, goodput,
// rejoin times): `metrics` when already read, else read from run_dir.
RunSummary MakeRunSummary(const Experiment& exp, const RunConfig& run, const std::string& run_dir,
                          const std::vector<PeerOutcome>& outcomes, std::vector<EvalPoint> curve,
                          std::vector<EvalPoint> time_curve, const RunMetrics* metrics = nullptr);

// Evaluates the peers' files in run_dir (EvaluateRun and EvaluateTimeGrid over the peers that
// finished: writes run_dir/eval.jsonl and eval_time.jsonl) and summarizes.
Result<RunSummary> SummarizeRunFolder(const Experiment& exp, const RunConfig& run,
                                      const Workload& workload, const std::string& run_dir,
                                      const std::vector<PeerOutcome>& outcomes);

// How the peers of a run folder ended: run_dir/peers.csv when the launcher wrote it, else a peer
// finished when it left its final model (peer_<i>.final.f32) and failed otherwise.
std::vector<PeerOutcome> ReadPeerOutcomes(const std::string& run_dir, int num_peers);

struct ReportOptions {
  std::string dir;                   // the output folder: DIR/<run>/peer_*.jsonl
  std::string experiment_path;       // "" = from DIR/<run>/run.json
  std::vector<std::string> runs;     // only these (empty = every run with a folder)
  std::ostream* progress = nullptr;  // the table (null = quiet)
};

Result<std::vector<RunSummary>> BuildReport(const ReportOptions& options);

}  // namespace hearsay
