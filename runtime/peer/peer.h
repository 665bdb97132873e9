// Peer: one gossip-training participant (DESIGN.md "Peer loop").
//
// A Peer owns its Algorithm (the model replica and the replicas of its neighbours) and drives it
// round by round in synchronous-per-neighbour mode: round t+1 starts once every round-t message of
// its in-neighbours has arrived; there is no global barrier. Messages of later rounds that arrive
// early are kept until their round. Received payloads are absorbed in ascending peer id (self
// included), so a run over TCP is bit-identical to the same run in one process.
//
// Output, in PeerOptions::out_dir: peer_<id>.jsonl (one JSON line per round: loss, bytes, compute
// and wait seconds), snap_r<round>_p<id>.f32 at evaluation rounds and peer_<id>.final.f32 (raw
// little-endian float32 models, read by the launcher to evaluate the average model).
//
// Threading: Run() executes on the calling thread (the compute thread); the transport does its
// I/O on its own threads. Every wait has a deadline (RunConfig::round_timeout_s); `stop` is polled
// at least every 200 ms so SIGTERM ends a run promptly and cleanly.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/algorithms/algorithm.h"
#include "runtime/peer/device_backend.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/workload.h"
#include "runtime/transport/transport.h"

namespace hearsay {

struct PeerOptions {
  int id = 0;
  RunConfig run;
  std::shared_ptr<const TopologySpec> topology;
  std::shared_ptr<const Workload> workload;  // built from `run` when null
  std::string out_dir;                       // run folder; created if missing; "" = write nothing
  const std::atomic<bool>* stop = nullptr;   // set to end the run early (Cancelled)
};

class Peer {
 public:
  explicit Peer(PeerOptions options);

  // Trains for run.rounds rounds over `transport` (already wrapped by the emulator if wanted),
  // then says goodbye to its neighbours and shuts the transport down.
  Status Run(Transport& transport);

  // The local model after Run (empty before).
  std::span<const float> params() const;

 private:
  Status Setup();
  Status WaitForRound(Transport& transport, int64_t round);
  Status WriteModel(const std::string& path) const;

  PeerOptions options_;
  std::shared_ptr<const Workload> workload_;
  std::unique_ptr<Algorithm> algorithm_;    // device: cpu
  std::unique_ptr<DeviceTrainer> trainer_;  // device: cuda[:N]
  Algorithm* algo_ = nullptr;               // whichever of the two runs
  // Payloads that arrived, by round then sender (later rounds wait here for their turn).
  std::map<int64_t, std::map<int, ByteBuffer>> inbox_;
  std::vector<bool> done_;  // peers that said kDone
};

// The handshake's topology hash: FNV-1a 64 of TopologySpec::Fingerprint().
uint64_t TopologyHash(const TopologySpec& spec);
// Every peer this one exchanges frames with, over all rounds of the schedule, ascending.
std::vector<int> LinkNeighbors(const Topology& graph, int self);
// TCP transport for peer `id` of the run (addresses from the topology file, handshake from the
// run), wrapped by the network emulator when run.emulate. `stop` (optional) interrupts the wait
// for neighbours at start.
Result<std::unique_ptr<Transport>> MakePeerTcpTransport(
    const RunConfig& run, std::shared_ptr<const TopologySpec> topology, const Model& model, int id,
    const std::atomic<bool>* stop = nullptr);

}  // namespace hearsay
