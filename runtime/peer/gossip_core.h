// GossipCore: the PeerCore of the gossip algorithms (D-PSGD, DCD-PSGD, ECD-PSGD, CHOCO-SGD) in
// synchronous and asynchronous (bounded-staleness) mode; the round structure is described in
// peer_core.h. It owns the Algorithm (CPU) or the DeviceTrainer (cuda: sync only), the buffered
// payloads by (round, sender), and per-link received / absorbed rounds for staleness.
// Thread-safety: none; one driver thread owns it.
#pragma once

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "common/flat_map.h"
#include "runtime/algorithms/algorithm.h"
#include "runtime/peer/device_backend.h"
#include "runtime/peer/peer_core.h"

namespace hearsay {

class GossipCore final : public PeerCore {
 public:
  // The furthest a neighbour's message may be ahead of this peer's round (see OnMessage).
  static constexpr int64_t kMaxRoundsAhead = 4096;

  explicit GossipCore(PeerCoreOptions options) : PeerCore(std::move(options)) {}

  void Compute() override;
  std::span<const float> params() const override;
  const Algorithm* algorithm() const override { return algo_; }

 private:
  enum class Phase : uint8_t {
    kStart,       // nothing done yet
    kBegin,       // ready to Begin round_ (its gradient is computed unless late)
    kComputing,   // a compute job runs; then after_
    kWait,        // round_'s payloads are out; waiting until End is allowed
    kJoining,     // rejoin: JOINs sent, waiting for the neighbours' JOIN_STATEs
    kJoinVerify,  // rejoin: SET_COPYs sent, waiting for the neighbours' COPY_HASHes
  };
  enum class Job : uint8_t { kGradient, kDeviceBegin };

  Status SetupProtocol(std::span<const float> x0) override;
  void OnMessage(double now, Message msg) override;
  CoreStep Step(double now, CoreSink& sink) override;
  Status SaveProtocolState(StateWriter& w) const override;
  Status LoadProtocolState(StateReader& r) override;
  Status CheckpointSupport() const;

  bool async() const { return options_.run.mode == RunMode::kAsync; }
  void OnNeighborDown(double now, int peer) override;
  void OnNeighborUp(double now, int peer) override;
  bool last_round_reached() const;  // round_ is the run's last (rounds, or the replay log's)
  CoreStep Run(double now, Job job, int64_t job_round, Phase after, bool overlapped);
  Status JobDone(double now);
  Status BeginRound(double now, CoreSink& sink);
  // Whether End(round_) may run now; else lists the peers it waits for, and whether one of them
  // is gone (failed, or finished before round_).
  bool ReadyToEnd(std::vector<int>* missing, bool* neighbour_gone) const;
  Status EndRound(double now, CoreSink& sink);
  int RowPos(int peer) const;  // position of `peer` in the static row, -1 if none

  std::unique_ptr<Algorithm> algorithm_;    // device: cpu
  std::unique_ptr<DeviceTrainer> trainer_;  // device: cuda[:N]
  Algorithm* algo_ = nullptr;               // whichever of the two runs

  Phase phase_ = Phase::kStart;
  Phase after_ = Phase::kBegin;
  Job job_ = Job::kGradient;
  Status job_status_;
  double round_loss_ = 0;        // loss reported for round_
  double round_wait_began_ = 0;  // now when round_'s payloads went out (round_timeout)
  ByteBuffer out_;               // round_'s own payload (device jobs produce it in Compute)
  // A buffered payload: a received one, or this peer's own -- then, where the network shares
  // payloads, the very buffer its messages carry (read-only while they do).
  struct Pending {
    ByteBuffer owned;
    std::shared_ptr<const ByteBuffer> shared;
    std::span<const uint8_t> bytes() const {
      return shared ? std::span<const uint8_t>(*shared) : std::span<const uint8_t>(owned);
    }
  };
  // Buffered payloads by (round, sender): the absorb order. A flat sorted vector: a few entries,
  // inserted and erased on every message (common/flat_map.h).
  FlatMap<std::pair<int64_t, int>, Pending> pending_;
  // The buffers of absorbed payloads, kept for the next outgoing ones: a peer sends and receives
  // payloads of the same sizes every round, so after the first rounds none needs fresh memory
  // (a large model's would cost page faults every round: glibc maps buffers over 32 MiB anew).
  // At most spare_limit_ (2 per copy a round sends -- one per out-neighbour, none when the
  // network shares payloads -- + 2).
  std::vector<ByteBuffer> spare_;
  size_t spare_limit_ = 4;
  ByteBuffer TakeSpare();  // empty, with the capacity it had (or a new one)
  // Kept when fewer than spare_limit_ are, else given back to the network (CoreSink::Recycle).
  // A shared own payload is only let go of: its last holder gives it back to the network's pool.
  void KeepSpare(Pending&& payload, CoreSink& sink);
  // Static rows (async): per row position, the latest round received and absorbed.
  std::vector<int64_t> last_received_;
  std::vector<int64_t> last_absorbed_;
  std::vector<char> was_dead_;     // per row position: it was dead for this peer at some point
  std::vector<uint64_t> dropped_;  // per row position: out-of-sequence messages dropped (log)
  bool static_path_ = false;       // static graph on the CPU: the asynchronous machinery
  int64_t tau_ = 0;                // staleness of that machinery (sync: 0)
  // Drops / re-admissions not yet applied to the algorithm (EndRound applies them).
  std::vector<std::pair<int, bool>> liveness_changes_;
  int64_t max_staleness_ = 0;
  double staleness_sum_ = 0;
  int64_t staleness_count_ = 0;
  std::vector<MessageId> applied_;  // scratch for OnApplied

  // Rejoin of a restarted peer (gossip_rejoin.cc, docs/faults.md "Restart and rejoin").
  // Holder side: JOINs wait for this peer's next round boundary (its copies are exact there);
  // SET_COPYs are applied at once and answered with a hash.
  void OnRejoinMessage(double now, Message msg);
  Status ServeJoins(CoreSink& sink);
  Status SendCopyHashes(CoreSink& sink);
  // Joiner side: the kJoining / kJoinVerify phases.
  CoreStep JoinStep(double now, CoreSink& sink);
  Status AdoptJoinState();
  struct JoinState {
    int64_t holder_round = 0;  // the holder's last round ended (its copy is as of it)
    int64_t my_round = 0;      // the last round of this peer in the holder's copy of it
    std::vector<float> copy_of_me, holder_copy;
  };
  std::vector<int> join_requests_;                      // holder: JOINs to answer
  std::vector<std::pair<int, uint64_t>> hash_replies_;  // holder: (joiner, hash) to send
  std::map<int, JoinState> join_states_;                // joiner: by holder
  std::map<int, uint64_t> copy_hashes_;                 // joiner: by holder
  uint64_t adopted_hash_ = 0;
  double join_began_ = 0;
  bool joins_sent_ = false;
};

// FNV-1a 64 of a vector's bytes: the hash holders exchange to verify a rejoin's copies.
uint64_t CopyHash(std::span<const float> v);

}  // namespace hearsay
