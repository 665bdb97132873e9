// RunConfig: one run of an experiment, fully resolved (defaults filled, grid values applied,
// every name parsed into its enum once). Built by LoadExperiment (runtime/peer/experiment.h);
// the format users write is docs/experiment_format.md.
//
// Units: durations in seconds, rates in bits per second. Every field's comment gives its default.
// Ownership: a RunConfig owns its values and shares the immutable topology it runs on.
// Thread-safety: plain values, immutable after loading.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "runtime/data/csv_data.h"
#include "runtime/data/partition.h"
#include "runtime/data/synthetic.h"
#include "runtime/model/lr_schedule.h"
#include "runtime/model/model.h"
#include "runtime/model/optimizer.h"
#include "topology/topology_spec.h"

namespace hearsay {

enum class AlgorithmKind { kDpsgd, kDcd, kEcd, kChoco, kAdpsgd, kAllreduce };
enum class RunMode { kSync, kAsync };
enum class TransportKind { kTcp, kInproc, kSim };
enum class DeviceKind { kCpu, kCuda };

// "dpsgd", "dcd", "ecd", "choco", "adpsgd", "allreduce": the names files and handshakes use.
const char* AlgorithmName(AlgorithmKind kind);
const char* ModeName(RunMode mode);             // "sync" | "async"
const char* TransportName(TransportKind kind);  // "tcp" | "inproc" | "sim"
// Every valid name, in enum order (for "valid: ..." lists and "did you mean").
const std::vector<std::string>& AlgorithmNames();
const std::vector<std::string>& ModeNames();
const std::vector<std::string>& TransportNames();
// Name -> enum; errors list the valid names and suggest the closest.
Result<AlgorithmKind> ParseAlgorithm(std::string_view name);
Result<RunMode> ParseMode(std::string_view name);
Result<TransportKind> ParseTransport(std::string_view name);

// Where a peer computes: `cpu`, `cuda` (the default GPU) or `cuda:N`.
struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int index = -1;                // cuda:N; -1 = the default device
  std::string ToString() const;  // "cpu", "cuda", "cuda:1"
  bool operator==(const Device&) const = default;
};
Result<Device> ParseDevice(std::string_view text);

// `staleness: unbounded`.
inline constexpr int64_t kUnboundedStaleness = -1;
// `rounds` when only `duration` bounds the run: loops over rounds must stop on time instead.
inline constexpr int64_t kUnlimitedRounds = std::numeric_limits<int64_t>::max();

// One entry of a run's `faults:` schedule (issue 11), executed by the launcher. Exactly one of
// the time fields is set: at_s >= 0 (seconds since the run started) or at_round >= 1.
struct FaultSpec {
  enum class Kind {
    kKill,       // SIGKILL of `peers[0]` (in-process: the peer stops without saying goodbye)
    kRestart,    // start `peers[0]` again (after a kill); it rejoins the run
    kPause,      // SIGSTOP `peers[0]` for `for_s` seconds, then SIGCONT
    kPartition,  // cut every link between different `groups` for `for_s` seconds
    kLinkDown,   // take the link peers[0] <-> peers[1] down for `for_s` seconds
    kJoin,       // `peers[0]` is not started with the run; it joins it here (docs/faults.md)
  };
  Kind kind = Kind::kKill;
  double at_s = -1;                      // seconds since the run started; -1 = round-based
  int64_t at_round = 0;                  // 1-based round; 0 = time-based
  std::vector<int> peers;                // kill / restart / pause / join: one; link_down: two
  std::vector<std::vector<int>> groups;  // partition: disjoint, ascending ids; nodes not listed
                                         // form one more group
  double for_s = 0;                      // pause (required), partition / link_down: how long;
                                         // 0 = until the run ends
  int64_t until_round = 0;               // partition / link_down at a round: the links come
                                         // back at this round (0 = for_s, or the run's end)
  int line = 0;                          // experiment-file line (for messages); 0: --chaos
};
const char* FaultKindName(FaultSpec::Kind kind);  // "kill", "restart", ...

struct DataConfig {
  std::string kind = "synthetic";  // synthetic | libsvm | csv | idx
  SyntheticConfig synthetic;       // kind == synthetic
  std::string path;                // libsvm, csv: training file; idx: training images
  std::string test_path;           // optional held-out file (idx: held-out images)
  std::string labels;              // idx: training labels file
  std::string test_labels;         // idx: held-out labels (required with test_path)
  int64_t features = 0;            // libsvm: feature count (0 = infer)
  CsvOptions csv;                  // csv: label_column 0, header auto, delimiter ','
  double test_fraction = 0.2;      // held-out share when no test file is given
  PartitionMode partition = PartitionMode::kIid;  // iid | label_sorted | dirichlet
  double alpha = 0.5;  // dirichlet: concentration, in (0, 1e6]; smaller = more skewed
};

struct RunConfig {
  std::string name;  // unique within the experiment; names the output folder ([A-Za-z0-9._:-])
  AlgorithmKind algorithm = AlgorithmKind::kDpsgd;  // dpsgd
  std::string compressor = "identity";              // codec spec (docs/compressors.md)
  double consensus_step = 0.5;                      // CHOCO gamma_c
  bool allow_biased = false;                        // let dcd/ecd use a biased codec
  ModelConfig model;                                // softmax, l2 1e-4
  DataConfig data;                                  // synthetic
  LrSchedule lr;                                    // 0.1 constant
  // Local steps and optimizers (issue 14; docs/algorithms.md "Local steps and outer optimizers").
  OptimizerConfig optimizer;             // inner optimizer: sgd
  int64_t local_steps = 1;               // inner steps per communication round (H >= 1)
  OuterOptimizerConfig outer_optimizer;  // on the pseudo-gradient: sgd, lr 1 (plain local SGD)
  int64_t rounds = 100;     // local steps per peer; kUnlimitedRounds when only duration bounds it
  int64_t batch_size = 32;  // minibatch per peer and round
  uint64_t seed = 1;        // run seed: model init, minibatches, codec randomness
  int64_t eval_every = 10;  // average-model evaluation cadence (rounds); last round always
  Device device;            // cpu
  bool emulate = true;      // route traffic through the network emulator
  double round_timeout_s = 120;               // a round waiting longer than this fails the run
  double connect_timeout_s = 30;              // peers must all be reachable within this
  std::string cluster_id = "hearsay";         // at most 256 printable bytes
  std::string secret = "hearsay-dev-secret";  // shared cluster secret (handshake proof)
  std::string secret_file;  // file holding the secret ("" = none); absolute after loading
  // TCP connections per link (1..16): large messages are striped over them (docs/wire_format.md
  // "Streams"). The in-process transport and the simulator have no connections and ignore it.
  int64_t streams = 1;

  // Asynchrony (issue 10).
  RunMode mode = RunMode::kSync;  // sync
  int64_t staleness = 2;          // async: max rounds ahead of an in-neighbour; or unbounded
  double duration_s = 0;          // wall-clock bound on the run (0 = none; rounds bound it)
  double eval_every_s = 0;        // also evaluate every this many seconds (0 = off)

  // Simulation and sweeps (issue 12).
  double compute_time_s = 0;  // simulated seconds per local step (0 = measured at start)
  double target_loss = std::numeric_limits<double>::quiet_NaN();  // time-to-target (NaN = none)
  // The grid point this run is (key, value as written), in the grid's key order; empty when the
  // experiment has no grid. Summary columns.
  std::vector<std::pair<std::string, std::string>> grid_values;
  // The topology this run trains on: the experiment's, or its own when a grid changes links,
  // generator or node count. Never null after loading.
  std::shared_ptr<const TopologySpec> topology;

  // Fault tolerance (issue 11).
  double heartbeat_s = 0.5;      // heartbeat on idle links
  double dead_after_s = 5;       // a silent neighbour is dead after this (> heartbeat)
  int64_t checkpoint_every = 0;  // rounds between checkpoints (0 = off)
  int64_t min_neighbors = 0;     // live neighbours a peer needs to train (0 = none)
  // AD-PSGD: a step waits for the reply to the previous step's average (`adpsgd_wait: reply`,
  // one average per step) or never waits (`none`, the default: steps go on at the pace of the
  // computation, and each average starts at the first step end after the previous one ended).
  bool adpsgd_wait_reply = false;
  std::vector<FaultSpec> faults;  // the fault schedule, in file order

  // "exp.yaml:12:10" of the model and data settings, for errors only found once the data is read
  // (a LIBSVM file's class count against the model kind).
  std::string model_at, data_at;
};

// Peer `peer` is not started with the run: a `join:` fault starts it later, and it joins the
// running run by the rejoin state transfer (docs/faults.md "Late joiners").
bool JoinsLate(const RunConfig& run, int peer);

// "dcd/qsgd:8": the algorithm and codec, as peers compare them in the handshake.
std::string AlgorithmLabel(const RunConfig& run);
// The codec the run actually uses: "fp32" for dpsgd (full models), else the compressor spec.
std::string CompressorLabel(const RunConfig& run);

}  // namespace hearsay
