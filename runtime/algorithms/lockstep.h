// RunLockstep: n peers' Algorithm objects run synchronously in one thread (tests, quick studies).
//
// No transport: each round every peer computes its gradient on its own minibatch and calls
// Begin; then every peer absorbs the round's payloads of N[i] (itself included) in ascending id
// and calls End -- the same protocol, order and codec keys as a real peer in synchronous mode, so
// the final models are bit-identical to a distributed run with the same seeds.
// Ownership: options are borrowed for the call; samplers are copied (they are counter-based, so
// copies draw the same batches). Thread-safety: reentrant; no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "compressors/compressor.h"
#include "runtime/algorithms/algorithm.h"
#include "runtime/data/dataset.h"
#include "runtime/data/sampler.h"
#include "runtime/model/lr_schedule.h"
#include "runtime/model/model.h"
#include "topology/topology.h"

namespace hearsay {

// Builds one codec per peer; the default calls MakeCompressor(spec).
using CompressorFactory = std::function<Result<std::unique_ptr<Compressor>>()>;

struct LockstepOptions {
  std::shared_ptr<const Topology> topology;  // required
  AlgorithmConfig algorithm;                 // name, consensus step, run seed
  std::string compressor = "identity";       // codec spec (ignored by dpsgd)
  CompressorFactory make_compressor;         // optional: overrides `compressor` (tests)
  const Model* model = nullptr;              // required
  std::vector<float> x0;                     // initial model; empty: model->Init(init_seed)
  uint64_t init_seed = 1;                    // used when x0 is empty
  std::vector<MinibatchSampler> samplers;    // one per peer, required
  int64_t rounds = 100;                      // T >= 1
  LrSchedule lr;                             // step size at round t
  const Dataset* eval = nullptr;             // average-model loss on it; null: no evaluation
  int64_t eval_every = 1;                    // evaluate at rounds k*eval_every and at T
};

struct LockstepRound {
  int64_t round = 0;
  double loss = 0;                // average model's loss on `eval`
  double accuracy = 0;            // average model's accuracy on `eval`
  double consensus_distance = 0;  // mean_i ||x_i - x_bar||^2
};

struct LockstepResult {
  std::vector<std::vector<float>> models;  // final x_i per peer
  std::vector<float> average;              // final x_bar
  std::vector<LockstepRound> history;      // evaluation rounds, ascending
  std::vector<uint64_t> bytes_sent;        // per peer: payload bytes x out-neighbours
};

// Errors: missing or inconsistent options (named), and any Algorithm error (prefixed with the
// peer and round).
Result<LockstepResult> RunLockstep(const LockstepOptions& options);

// x_bar = mean of the models (computed in double).
std::vector<float> AverageModel(const std::vector<std::vector<float>>& models);
// mean_i ||x_i - x_bar||^2 (computed in double).
double ConsensusDistance(const std::vector<std::vector<float>>& models,
                         const std::vector<float>& average);

}  // namespace hearsay
