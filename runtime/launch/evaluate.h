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
};
// Every round's metrics of peer_<peer>.jsonl, read in one pass. Lines that are not JSON objects
// (a partial last line) are skipped; non-numeric fields (null) read as 0.
std::map<int64_t, RoundMetrics> ReadPeerMetrics(const std::string& run_dir, int peer);

// The round-0 point: x0 (Init from `seed`) evaluated; wall time, bytes and consensus are 0.
EvalPoint EvaluateInitialModel(const Workload& workload, uint64_t seed);

// Reads snap_r<round>_p<i>.f32 (i = 0..n-1) in run_dir and evaluates `round`; wall time and bytes
// come from `metrics` (one map per peer, as ReadPeerMetrics returns).
Result<EvalPoint> EvaluateRound(const Workload& workload, const std::string& run_dir,
                                const std::vector<std::map<int64_t, RoundMetrics>>& metrics,
                                int64_t round);

// Evaluates round 0 and every evaluation round (multiples of eval_every, and the last round) of
// a run, writes run_dir/eval.jsonl. `rounds` is the run's bound; with kUnlimitedRounds (a run
// bounded by its duration) the evaluation rounds go up to the last round every peer completed
// and the last point averages the peers' final models (peer_<i>.final.f32).
Result<std::vector<EvalPoint>> EvaluateRun(const Workload& workload, const std::string& run_dir,
                                           int num_peers, uint64_t seed, int64_t rounds,
                                           int64_t eval_every);

}  // namespace hearsay
