// Evaluation of a finished (or running) run from the files its peers wrote.
//
// The launcher averages the peers' model snapshots of an evaluation round (in peer-id order, in
// double precision), evaluates the average model on the training set (the objective) and on the
// held-out set (loss and accuracy), and measures the consensus distance
// (1/n) sum_i ||x_i - x_bar||^2. Round 0 needs no snapshot: every peer starts from the same x0,
// built from the run's seed, so its point is x0's losses with consensus 0.
//
// Cost: each peer's metrics file is read once per run (not once per evaluation round), so an
// evaluation is linear in the number of rounds; each evaluated round reads n snapshots.
// Thread-safety: free functions over files; no shared state.
#pragma once

#include <cstdint>
#include <map>
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

// What a peer's metrics line says about one round (the fields evaluation uses).
struct RoundMetrics {
  double wall_s = 0;
  double bytes_sent = 0;
  double max_staleness = 0;   // rounds behind at use, worst edge (0 in sync mode)
  double mean_staleness = 0;  // mean over the round's absorbed neighbour updates
};
// Every round's metrics of peer_<peer>.jsonl, read in one pass. Lines that are not JSON objects
// (a partial last line) are skipped; non-numeric fields (null) read as 0.
std::map<int64_t, RoundMetrics> ReadPeerMetrics(const std::string& run_dir, int peer);
// Every peer's (0..num_peers-1), read once for everything a summary needs from them.
using RunMetrics = std::vector<std::map<int64_t, RoundMetrics>>;
RunMetrics ReadRunMetrics(const std::string& run_dir, int num_peers);

// Staleness over a whole run (every peer, every round): the worst, and the mean of the rounds'
// means.
struct RunStaleness {
  int64_t max = 0;
  double mean = 0;
};
RunStaleness StalenessOf(const RunMetrics& metrics);

// The round-0 point: x0 (Init from `seed`) evaluated; wall time, bytes and consensus are 0.
EvalPoint EvaluateInitialModel(const Workload& workload, uint64_t seed);

// Reads snap_r<round>_p<i>.f32 (i = 0..n-1) in run_dir and evaluates `round`; wall time and bytes
// come from `metrics` (one map per peer, as ReadPeerMetrics returns). With `alive` (one flag per
// peer), a dead peer counts where it left a snapshot of the round and is left out where it did
// not (it died before); every live peer's snapshot must be there.
Result<EvalPoint> EvaluateRound(const Workload& workload, const std::string& run_dir,
                                const std::vector<std::map<int64_t, RoundMetrics>>& metrics,
                                int64_t round, const std::vector<char>* alive = nullptr);

// Evaluates round 0 and every evaluation round (multiples of eval_every, and the last round) of
// a run, writes run_dir/eval.jsonl. `rounds` is the run's bound; with kUnlimitedRounds (a run
// bounded by its duration) the evaluation rounds go up to the last round every peer completed
// and the last point averages the peers' final models (peer_<i>.final.f32). With `alive`, a run
// some of whose peers died: the last round is the live peers' and the last point averages the
// live peers' models (docs/faults.md). `metrics`: the peers' metrics already read (null: read
// them).
Result<std::vector<EvalPoint>> EvaluateRun(const Workload& workload, const std::string& run_dir,
                                           int num_peers, uint64_t seed, int64_t rounds,
                                           int64_t eval_every,
                                           const std::vector<char>* alive = nullptr,
                                           const RunMetrics* metrics = nullptr);

// The time grid (`eval_every_s`, asynchronous runs): the average model at t = k x eval_every_s
// for k = 1, 2, ... from snap_t<k>_p<i>.f32, as long as every live peer left its snapshot of k
// (dead peers count while they left one). wall_s is the grid time t; round is 0. Writes
// run_dir/eval_time.jsonl (nothing when the grid is off or empty).
Result<std::vector<EvalPoint>> EvaluateTimeGrid(const Workload& workload,
                                                const std::string& run_dir, int num_peers,
                                                double eval_every_s,
                                                const std::vector<char>* alive = nullptr);
// Writes the round curve to run_dir/eval.jsonl (`"simulated": true` on simulated runs).
Status WriteRoundCurve(const std::string& run_dir, const std::vector<EvalPoint>& curve,
                       bool simulated);
// Writes the time-grid points to run_dir/eval_time.jsonl ({"time_s", losses, accuracy,
// consensus_distance}).
Status WriteTimeCurve(const std::string& run_dir, const std::vector<EvalPoint>& points);

// A simulated run's curves, read back: the simulator evaluates the average model in memory and
// writes no snapshots, so `hearsay report` takes what it wrote (run_dir/eval.jsonl, whose lines
// say "simulated": true, and eval_time.jsonl when present) instead of re-evaluating. false in
// *simulated (and nothing read) when eval.jsonl is absent or not a simulated run's; Corruption
// naming the file and line when a line is not a curve point.
Status ReadSimulatedCurves(const std::string& run_dir, bool* simulated,
                           std::vector<EvalPoint>* curve, std::vector<EvalPoint>* time_curve);

}  // namespace hearsay
