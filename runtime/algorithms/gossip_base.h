// GossipAlgorithm: shared round bookkeeping for the algorithms in this folder (not a seam).
//
// It enforces the protocol of algorithm.h (through RoundProtocol, which CudaGossip uses too), so
// each algorithm only writes its update rule:
//   Begin(t): no round open, t above the last finished round, grad of the model's size;
//   Absorb(t, j): inside round t, j in N[i] = Row(i, t), each j once, ascending j (invariant 4);
//   End(t): every j in N[i] absorbed.
// A violation returns FailedPrecondition / InvalidArgument and changes nothing. Decoding goes into
// scratch first (DecodeInto), or hands the values over in chunks only once the whole payload
// passed its checks (DecodeApply); subclasses mutate state only after that.
// Thread-safety: none; one peer's compute thread owns it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/algorithms/algorithm.h"
#include "runtime/algorithms/round_protocol.h"

namespace hearsay {

class GossipAlgorithm : public Algorithm {
 public:
  GossipAlgorithm(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
                  std::span<const float> x0, std::unique_ptr<Compressor> compressor);

  std::span<float> params() override { return x_; }
  std::span<const float> params() const override { return x_; }

  Status Begin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) final;
  Status SetNeighborLive(int j, bool live) final;
  Status Absorb(int64_t round, int from, std::span<const uint8_t> payload) final;
  Status AbsorbBuffer(int64_t round, int from, ByteBuffer* payload) final;
  Status End(int64_t round) final;
  Status SaveState(StateWriter& w) const final;
  Status LoadState(StateReader& r) final;
  Status RestoreRound(int64_t round, std::vector<int64_t> last) final {
    return protocol_.Restore(*topology_, round, std::move(last));
  }
  Status SetPublicCopy(int j, std::span<const float> copy) override;
  Status SetLinkRound(int j, int64_t last) final {
    const int pos = StaticPos(j);
    if (pos < 0)
      return InvalidArgument(name() + ": peer " + std::to_string(j) + " is no neighbour");
    protocol_.SetLastAbsorbed(static_cast<size_t>(pos), last);
    return Status::Ok();
  }

 protected:
  // The algorithm's rules. `out` is empty on entry. On error, state must be unchanged.
  virtual Status DoBegin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) = 0;
  // `pos` is j's position in Row(self, round) (ascending ids), `weight` is W_ij.
  virtual Status DoAbsorb(int64_t round, size_t pos, int from, float weight,
                          std::span<const uint8_t> payload) = 0;
  // DoAbsorb for a buffer the algorithm may keep (Algorithm::AbsorbBuffer). Default: DoAbsorb.
  virtual Status DoAbsorbBuffer(int64_t round, size_t pos, int from, float weight,
                                ByteBuffer* payload) {
    return DoAbsorb(round, pos, from, weight, *payload);
  }
  virtual Status DoEnd(int64_t round) { return Status::Ok(); }
  // Called by SetNeighborLive before the weights change: W_ij becomes W_ij + dw and W_ii
  // becomes W_ii - dw (pos: j's row position). CHOCO adjusts its weighted sum.
  virtual void OnReweight(size_t pos, double dw) {}
  // The algorithm's own state vectors beyond x_ (replicas, estimates, public copies), in a fixed
  // order, for checkpoints; scratch space is not state. Vectors may be empty (unused slots).
  virtual std::vector<std::vector<float>*> StateVectors() { return {}; }

  // The mixing weight of row position p (static rows: the topology's, after fault re-weighting).
  float weight(size_t p) const { return static_cast<float>(weights_[p]); }
  // Whether row position p is mixed with (always true on time-varying topologies).
  bool mixed(size_t p) const { return live_.empty() || live_[p]; }

  // The weighted sum of a round's mixing, a block of elements at a time: for each block [b, b+n)
  // of the d elements, acc[k] = 0.0f + w_1 x_1[b+k] + w_2 x_2[b+k] + ... (the terms in the order
  // given, summed left to right: the bits of one pass per term over a d-float sum) is handed to
  // body(b, n, acc). The sum stays in cache: one pass over each input instead of one over the sum
  // per term. body may overwrite the block [b, b+n) of any term.
  using MixTerm = std::pair<float, const float*>;  // (w_ij, x_j)
  template <typename Body>
  void MixBlocks(std::span<const MixTerm> terms, Body&& body) const {
    constexpr size_t kBlock = 2048;
    float acc[kBlock];
    for (size_t b = 0; b < dim(); b += kBlock) {
      const size_t n = std::min(kBlock, dim() - b);
      std::fill_n(acc, n, 0.0f);
      for (const auto& [w, xj] : terms) {
        for (size_t k = 0; k < n; ++k) acc[k] += w * xj[b + k];
      }
      body(b, n, static_cast<const float*>(acc));
    }
  }

  // Compressor key of `peer`'s message of `round` (ALGORITHMS.md invariant 3).
  RngKey KeyFor(int peer, int64_t round) const;
  // Encodes x with this peer's key of `round` (compressor, or raw fp32 when there is none).
  Status EncodeOwn(int64_t round, std::span<const float> x, ByteBuffer* out);
  // Decodes `from`'s payload of `round` into scratch_ (size d); errors name the sender and round.
  Status DecodeInto(int64_t round, int from, std::span<const uint8_t> payload);
  // DecodeInto for a rule that only reads the decoded values element by element: fn(lo, values)
  // gets elements [lo, lo + values.size()) a cache-sized chunk at a time, in ascending order
  // (Compressor::DecodeChunks), and only once the whole payload passed its checks; the same
  // floats as DecodeInto, without writing a d-float vector and reading it back.
  template <typename Fn>
  Status DecodeApply(int64_t round, int from, std::span<const uint8_t> payload, Fn&& fn) {
    DecodedChunksFn<std::decay_t<Fn>> sink(fn);
    return DecodeChunksTo(round, from, payload, sink);
  }
  // With no compressor: checks that `from`'s payload of `round` holds d fp32 values, with
  // DecodeInto's error otherwise (for a payload that need not be decoded).
  Status CheckRawPayload(int64_t round, int from, std::span<const uint8_t> payload) const;

  size_t dim() const { return x_.size(); }
  // Position of `peer` in the static row of round 1, or -1.
  int StaticPos(int peer) const;
  int self() const { return protocol_.self(); }
  bool async() const { return protocol_.async(); }
  const RoundProtocol& protocol() const { return protocol_; }
  size_t self_pos() const { return protocol_.self_pos(); }
  const std::vector<Neighbor>& row() const { return protocol_.row(); }

  AlgorithmConfig config_;
  std::shared_ptr<const Topology> topology_;
  std::unique_ptr<Compressor> compressor_;  // null: raw little-endian fp32
  std::vector<float> x_;                    // the local model x_i
  std::vector<float> scratch_;              // decoded payload (size d)
  std::vector<MixTerm> terms_;              // a round's mixing terms (MixBlocks), reused
  // Static rows: current weights per row position, and which neighbours are mixed with.
  std::vector<double> weights_;
  std::vector<char> live_;

 private:
  Status DecodeChunksTo(int64_t round, int from, std::span<const uint8_t> payload,
                        DecodedChunks& sink);
  // Absorb's checks and bookkeeping around rule(pos, weight), which applies the payload.
  template <typename Rule>
  Status AbsorbWith(int64_t round, int from, Rule&& rule);

  RoundProtocol protocol_;  // self, the open round, its row and what was absorbed
};

}  // namespace hearsay
