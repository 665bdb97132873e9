// Algorithm: the per-peer gossip state machine (DESIGN.md "Core seams", ALGORITHMS.md).
//
// An Algorithm never touches sockets, clocks or threads. The peer drives it, for t = 1, 2, ...:
//   1. g = model gradient at params()                 (late_gradient(): after Begin, see below)
//   2. Begin(t, g, lr, &out)         -> out is the payload sent to every out-neighbour
//   3. Absorb(s, j, payload_j)       payloads of N[i], the peer's own `out` included
//   4. End(t)
// Synchronous protocol (AlgorithmConfig::async false): in round t, every j in N[i] exactly once,
// s = t, in ascending j (invariants 2 and 4). Because the order of every floating-point reduction
// is fixed by this protocol, a synchronous run over TCP is bit-identical to the same run in one
// process. Asynchronous protocol (async true, static topologies only): any payloads that have
// arrived, each link's in consecutive rounds (so every copy of a peer receives the same updates in
// the same order), the peer's own payload of round t before End(t); the peer core (runtime/peer)
// decides which and in which order (by round, then sender), which is what makes a synchronous
// run and an asynchronous run with staleness 0 identical.
//
// Late gradient: an algorithm whose rule uses the gradient only at End (D-PSGD: the model is sent
// first, then mixed) says late_gradient(); the peer may then call Begin with an empty gradient,
// compute the gradient at params() (still x_i^t) while the payload is on the wire, and hand it in
// with SetGradient(t, g) before End(t). For the other algorithms params() after Begin(t) is already
// the model the round-(t+1) gradient is taken at, so the peer computes that gradient while round
// t's payloads travel. Either way communication overlaps computation with unchanged arithmetic.
//
// Begin replaces *out (it does not append). Protocol violations (Absorb outside a round, from a
// peer not in N[i], twice or out of order; End before what it needs was absorbed; rounds not
// increasing) return FailedPrecondition / InvalidArgument and change nothing.
// Absorb decodes into scratch space first and mutates state only on success: a bad payload gives
// Corruption and leaves the model untouched.
// Thread-safety: none; one peer's compute thread owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/byte_buffer.h"
#include "common/state_io.h"
#include "common/status.h"
#include "compressors/compressor.h"
#include "topology/topology.h"

namespace hearsay {

struct AlgorithmConfig {
  std::string name = "dpsgd";   // dpsgd | dcd | ecd | choco
  double consensus_step = 0.5;  // CHOCO's gamma_c in (0, 1]
  uint64_t seed = 1;            // run seed (compressor keys)
  bool allow_biased = false;    // let DCD/ECD run with a biased codec (they require unbiased ones)
  bool async = false;           // asynchronous protocol (see above); needs a static topology
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;

  virtual std::string name() const = 0;
  // Current local model x_i.
  virtual std::span<float> params() = 0;
  virtual std::span<const float> params() const = 0;

  virtual Status Begin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) = 0;
  virtual Status Absorb(int64_t round, int from, std::span<const uint8_t> payload) = 0;
  // Absorb for a payload in a buffer the caller owns and no longer needs: an algorithm that keeps
  // received models (asynchronous D-PSGD) may keep the buffer itself instead of a copy, and then
  // leaves in *payload a buffer it let go of (perhaps empty) for the caller to reuse. Same checks,
  // errors and result as Absorb; on error *payload is unchanged. Default: Absorb(*payload).
  virtual Status AbsorbBuffer(int64_t round, int from, ByteBuffer* payload) {
    return Absorb(round, from, *payload);
  }
  virtual Status End(int64_t round) = 0;

  // True when the gradient may be given after Begin (see above). Default: false.
  virtual bool late_gradient() const { return false; }
  // The gradient of the open round, for late_gradient() algorithms that got none in Begin.
  virtual Status SetGradient(int64_t round, std::span<const float> grad);
  // The copy of peer j this peer holds (j = self: its own public copy, the one neighbours hold
  // of it): DCD's replica, ECD's estimate, async D-PSGD's latest model, CHOCO's own public copy.
  // Unimplemented where the algorithm keeps no such vector (CHOCO keeps only the weighted sum of
  // its neighbours' copies; sync D-PSGD keeps none). For tests and state transfer.
  virtual Result<std::vector<float>> PublicCopy(int j) const;
  // Fault tolerance (static topologies, asynchronous protocol): stop (live = false) or resume
  // mixing with neighbour j. A dead neighbour's weight W_ij moves to this peer's own weight W_ii,
  // so the live part of W stays symmetric and doubly stochastic once both ends of an edge agree
  // (docs/faults.md); the copy of j is still updated by any message of j that arrives, so it is
  // exact again when j comes back. Unimplemented by default.
  virtual Status SetNeighborLive(int j, bool live);
  // Checkpoints: the whole state between rounds (after End, before the next Begin) -- model,
  // per-neighbour copies, mixing weights, protocol position, codec state. LoadState reads it back
  // into an algorithm built from the same experiment (Corruption on any mismatch) and leaves it
  // as if End(round) had just run. Unimplemented by default (device algorithms).
  virtual Status SaveState(StateWriter& w) const;
  virtual Status LoadState(StateReader& r);
  // Rejoin of a restarted peer (static topologies, between rounds): replaces the copy of peer j
  // this peer holds (PublicCopy's; j = self: the own public state, and the model becomes it),
  // keeping every derived quantity consistent (CHOCO's weighted sum). Unimplemented by default.
  virtual Status SetPublicCopy(int j, std::span<const float> copy);
  // Puts the protocol after round `round` with the async per-position last rounds `last`.
  virtual Status RestoreRound(int64_t round, std::vector<int64_t> last);
  // The payload of peer j expected next is that of round `last` + 1 (a rejoined peer's).
  virtual Status SetLinkRound(int j, int64_t last);
};

// Builds the algorithm for peer `self` with initial model x0 (the same on every peer).
// dpsgd sends raw fp32 and takes no codec (null or "identity"); dcd, ecd and choco need one.
// Compressor keys: RngKey{config.seed, peer = sender, round = t, tensor 0}; the codec sets the
// stream. Implementations: dpsgd.h, dcd.h, ecd.h, choco.h.
// Errors: those of ValidateAlgorithmArgs.
Result<std::unique_ptr<Algorithm>> MakeAlgorithm(const AlgorithmConfig& config,
                                                 std::shared_ptr<const Topology> topology, int self,
                                                 std::span<const float> x0,
                                                 std::unique_ptr<Compressor> compressor);

// The argument checks of MakeAlgorithm, shared with the CUDA factory (CudaAlgorithm::Make), in
// the order they are made: unknown name; no topology; self out of range; empty x0; a codec other
// than identity with dpsgd; no codec with dcd/ecd/choco; dcd/ecd/choco on a time-varying topology
// (they keep per-neighbour state; not supported yet); the async protocol on a time-varying
// topology (any algorithm); a biased codec with dcd/ecd without
// allow_biased (explains why); consensus_step outside (0, 1] for choco.
[[nodiscard]] Status ValidateAlgorithmArgs(const AlgorithmConfig& config, const Topology* topology,
                                           int self, std::span<const float> x0,
                                           const Compressor* compressor);

}  // namespace hearsay
