// Experiment files: what to train, where, and how (DESIGN.md "Files users write").
//
// An experiment file (YAML) names a topology file, a model, a dataset and its partition, and one
// or more runs (algorithm, compressor, hyper-parameters). Keys under `defaults:` (or at the top
// level) apply to every run; each entry of `runs:` overrides them. The whole format is in
// docs/experiment_format.md. Loading validates everything up front (codec specs, algorithm names,
// model kinds, ranges) so that a bad file fails before any peer starts, with "file:line:col:".
//
// Thread-safety: plain values, immutable after loading.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/data/partition.h"
#include "runtime/data/synthetic.h"
#include "runtime/model/lr_schedule.h"
#include "runtime/model/model.h"
#include "topology/topology_spec.h"

namespace hearsay {

struct DataConfig {
  std::string kind = "synthetic";                 // synthetic | libsvm
  SyntheticConfig synthetic;                      // kind == synthetic
  std::string path;                               // kind == libsvm: training file
  std::string test_path;                          // kind == libsvm: optional held-out file
  int64_t features = 0;                           // libsvm: feature count (0 = infer)
  double test_fraction = 0.2;                     // held-out share when no test file is given
  PartitionMode partition = PartitionMode::kIid;  // iid | label_sorted
};

// Run modes (docs/experiment_format.md, ALGORITHMS.md "Asynchronous and other modes").
enum class RunMode { kSync, kAsync };
inline constexpr int64_t kUnboundedStaleness = -1;

struct RunConfig {
  std::string name;                 // unique within the experiment; names the output folder
  std::string algorithm = "dpsgd";  // dpsgd | dcd | ecd | choco
  std::string compressor = "identity";
  double consensus_step = 0.5;  // CHOCO gamma_c
  bool allow_biased = false;    // let dcd/ecd use a biased codec
  ModelConfig model;
  DataConfig data;
  LrSchedule lr;
  RunMode mode = RunMode::kSync;  // sync: wait for every round-t message; async: bounded staleness
  int64_t staleness = 2;          // async: rounds a peer may run ahead; kUnboundedStaleness = none
  double duration_s = 0;          // > 0: the run also ends after this many seconds
  double eval_every_s = 0;        // > 0: snapshots on a time grid too (async evaluation)
  double compute_time_s = 0;      // simulator: seconds per local step (0 = measured)
  double heartbeat_s = 0.5;       // heartbeat on idle links
  double dead_after_s = 5;        // a silent neighbour is dead after this (> heartbeat)
  int64_t min_neighbors = 0;      // live neighbours a peer needs to train (0 = none)
  int64_t rounds = 100;
  int64_t batch_size = 32;
  uint64_t seed = 1;              // run seed: model init, minibatches, codec randomness
  int64_t eval_every = 10;        // average-model evaluation cadence (rounds); last round always
  std::string device = "cpu";     // cpu (cuda: see docs)
  bool emulate = true;            // route traffic through the network emulator
  double round_timeout_s = 120;   // a round waiting longer than this fails the run
  double connect_timeout_s = 30;  // peers must all be reachable within this
  std::string cluster_id = "hearsay";
  std::string secret = "hearsay-dev-secret";  // `secret:` (discouraged; docs/security.md)
  std::string secret_file;  // file holding the cluster secret ("" = none; docs/security.md)
};

struct Experiment {
  std::string source;         // experiment file path
  std::string name;           // `name:` or the file's stem
  std::string topology_path;  // resolved path of the topology file
  std::shared_ptr<const TopologySpec> topology;
  std::string output_dir = "results";  // `output:`; launch --out overrides
  std::vector<RunConfig> runs;

  // The run called `name`, or nullptr.
  const RunConfig* FindRun(const std::string& name) const;
};

// Loads and validates an experiment file (and the topology file it names, relative to it).
Result<Experiment> LoadExperiment(const std::string& path);

// "dcd/qsgd:8": the algorithm and codec, as peers compare them in the handshake.
std::string AlgorithmLabel(const RunConfig& run);

}  // namespace hearsay
