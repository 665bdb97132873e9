// Workload: the model and data of one run, built identically on every peer and in the launcher.
//
// Every process derives the same datasets, split and partition from the run's seeds, so no data
// travels: peer i trains on shard i of the training set, the launcher evaluates the average model
// on the held-out set. Thread-safety: immutable after Build; const methods are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/data/dataset.h"
#include "runtime/model/model.h"
#include "runtime/peer/experiment.h"

namespace hearsay {

struct Workload {
  Dataset train;
  Dataset test;
  std::vector<std::vector<int64_t>> shards;  // training-set row indices per peer
  std::unique_ptr<Model> model;
};

// `index_dir` (may be empty): a folder the launcher and its peer processes share (the run's
// output folder). BuildWorkload leaves there the index of each CSV or LIBSVM file it parses
// (runtime/data/text_index.h); BuildPeerWorkload reads its shard through such an index when it
// is one of the file as it is now, instead of parsing the whole file once more. Nothing else
// changes: the same rows, the same errors.
Result<Workload> BuildWorkload(const RunConfig& run, int num_peers,
                               const std::string& index_dir = "");

// The workload of peer `peer` alone, for a process that runs one peer (`hearsay peer`, an
// embedded peer): the same model, and shard `peer` with the same rows in the same order as
// BuildWorkload's -- so training is the same bit for bit -- stored as rows 0..m-1 of `train`;
// the other shards are empty and there is no test set (the launcher evaluates). Synthetic data
// generates only those rows, so n peer processes together generate the data set once, not n
// times, and each holds 1/n of it. Errors: BuildWorkload's; peer outside [0, num_peers).
Result<Workload> BuildPeerWorkload(const RunConfig& run, int num_peers, int peer,
                                   const std::string& index_dir = "");

}  // namespace hearsay
