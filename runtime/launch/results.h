// The results of an experiment's runs: OUT/summary.csv (one row per run), OUT/curves.csv (one
// row per evaluation), the SVG plots, and the table printed at the end.
//
// Both CSV files are RFC 4180 (runtime/launch/csv.h). When a launch runs only some runs into a
// folder that already has results (`launch --run X --out DIR`), the other runs' rows are kept
// (and their curves re-read for the plots); X's rows are replaced in place or appended.
// Thread-safety: free functions over files; no shared state.
#pragma once

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "runtime/launch/evaluate.h"

namespace hearsay {

struct RunSummary {
  std::string run, algorithm, compressor, transport;
  int peers = 0, peers_alive = 0;  // peers that finished (others died: OUT/<run>/peers.csv)
  bool simulated = false;          // virtual time (--transport sim): wall_seconds are virtual
  int64_t max_staleness = 0;       // rounds behind at use, worst over peers, edges and rounds
  double mean_staleness = 0;       // mean over peers and rounds
  int64_t rounds = 0;              // rounds the run completed
  // How the run ended: "ok"; "diverged" (a peer's loss became non-finite at diverged_round: a
  // result, and the experiment goes on); "failed" (an error stopped it; the launch stops too).
  // summary.csv has them in its status, diverged_round and reason columns.
  std::string status = "ok";
  int64_t diverged_round = -1;  // status diverged: the round whose loss was not finite
  std::string reason;           // diverged or failed: the peer's one-line message
  std::vector<std::pair<std::string, std::string>> grid_values;  // one column per key
  // `target_loss` (NaN: none): the first evaluation at which the average model's training loss
  // was at or below it -- its wall (or virtual) seconds, round and MB sent per peer; NaN / -1 when
  // the run never got there. Columns time_to_target, rounds_to_target, mb_to_target.
  double target_loss = std::numeric_limits<double>::quiet_NaN();
  double time_to_target_s = std::numeric_limits<double>::quiet_NaN();
  int64_t rounds_to_target = -1;
  double mb_to_target = std::numeric_limits<double>::quiet_NaN();
  // Fault tolerance: rounds the peers completed / (peers x the most rounds any peer completed):
  // 1 when no peer missed a round; and the mean seconds from a scheduled `restart: K` (at:) to
  // K's first round after it (NaN: none).
  double goodput = 1;
  double mean_rejoin_s = std::numeric_limits<double>::quiet_NaN();
  EvalPoint final_point;
  std::vector<EvalPoint> curve;       // round 0 first
  std::vector<EvalPoint> time_curve;  // eval_every_s: the time grid (OUT/<run>/eval_time.jsonl)
};

// "peer K diverged at round R: ..." (an Aborted status from a peer core): R, or -1 when `s` is
// not a divergence.
int64_t DivergedRound(const Status& s);

// Writes out_dir/summary.csv, out_dir/curves.csv and the plots for `runs`. With keep_others, the
// rows of runs not in `runs` that the files already hold stay (in their order).
Status WriteResults(const std::vector<RunSummary>& runs, const std::string& out_dir,
                    bool keep_others);

// The closing table, one row per run.
void PrintSummaryTable(const std::vector<RunSummary>& runs, std::ostream& os);

}  // namespace hearsay
