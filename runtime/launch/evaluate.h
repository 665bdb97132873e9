// Evaluation of a finished (or running) run from the files its peers wrote.
//
// The launcher averages the peers' model snapshots of an evaluation round (in peer-id order, in
// double precision), evaluates the average model on the training set (the objective) and on the
// held-out set (loss and accuracy), and measures the consensus distance
// (1/n) sum_i ||x_i - x_bar||^2. It also writes the results: eval.jsonl per run, curves.csv and
// summary.csv per experiment, and the table printed at the end.
// Thread-safety: free functions over files; no shared state.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/peer/workload.h"

namespace hearsay {

struct EvalPoint {
  int64_t round = 0;
  double wall_s = 0;            // slowest peer's wall time at this round
  double mb_sent_per_peer = 0;  // mean wire megabytes (1e6 bytes) sent per peer so far
  double train_loss = 0;        // average model, whole training set (the objective)
  double test_loss = 0;         // average model, held-out set
  double accuracy = 0;          // average model, held-out set
  double consensus = 0;         // (1/n) sum_i ||x_i - x_bar||^2
};

struct RunSummary {
  std::string run, algorithm, compressor, transport;
  int64_t rounds = 0;
  EvalPoint final_point;
  std::vector<EvalPoint> curve;
};

// Reads peer_<i>.jsonl and snap_r<round>_p<i>.f32 (i = 0..n-1) in run_dir and evaluates `round`.
Result<EvalPoint> EvaluateRound(const Workload& workload, const std::string& run_dir, int num_peers,
                                int64_t round);

// Evaluates every round that has snapshots from all peers, writes run_dir/eval.jsonl.
Result<std::vector<EvalPoint>> EvaluateRun(const Workload& workload, const std::string& run_dir,
                                           int num_peers, int64_t rounds, int64_t eval_every);

// out_dir/summary.csv (one row per run) and out_dir/curves.csv (one row per evaluation).
Status WriteSummaryFiles(const std::vector<RunSummary>& runs, const std::string& out_dir);
// The closing table, one row per run.
void PrintSummaryTable(const std::vector<RunSummary>& runs, std::ostream& os);

}  // namespace hearsay
