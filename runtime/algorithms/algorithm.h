// Algorithm: the per-peer gossip state machine (DESIGN.md "Core seams", ALGORITHMS.md).
//
// An Algorithm never touches sockets, clocks or threads. The peer drives it, for t = 1, 2, ...:
//   1. g = model gradient at params()
//   2. Begin(t, g, lr, &out)         -> out is the payload sent to every out-neighbour
//   3. Absorb(t, j, payload_j)       for every j in N[i] at round t INCLUDING i itself (with
//   `out`),
//                                    in ascending j (invariants 2 and 4)
//   4. End(t)
// Because the order of every floating-point reduction is fixed by this protocol, a synchronous
// run over TCP is bit-identical to the same run in one process.
//
// Begin replaces *out (it does not append). Protocol violations (Absorb outside a round, from a
// peer not in N[i], twice or out of ascending order; End before every j was absorbed; rounds not
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
#include "common/status.h"
#include "compressors/compressor.h"
#include "topology/topology.h"

namespace hearsay {

struct AlgorithmConfig {
  std::string name = "dpsgd";   // dpsgd | dcd | ecd | choco
  double consensus_step = 0.5;  // CHOCO's gamma_c in (0, 1]
  uint64_t seed = 1;            // run seed (compressor keys)
  bool allow_biased = false;    // let DCD/ECD run with a biased codec (they require unbiased ones)
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
  virtual Status End(int64_t round) = 0;
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
// (they keep per-neighbour state; not supported yet); a biased codec with dcd/ecd without
// allow_biased (explains why); consensus_step outside (0, 1] for choco.
[[nodiscard]] Status ValidateAlgorithmArgs(const AlgorithmConfig& config, const Topology* topology,
                                           int self, std::span<const float> x0,
                                           const Compressor* compressor);

}  // namespace hearsay
