// AllreduceCore: the centralized baseline -- ring all-reduce of the gradients, i.e. mini-batch
// SGD over n x batch_size samples per round (ALGORITHMS.md "All-reduce baseline";
// docs/algorithms.md).
//
// The model is split into n chunks (chunk c: [c d / n, (c+1) d / n)); peers form the ring
// 0 -> 1 -> ... -> n-1 -> 0 over their ids (whatever the topology's graph; the emulator's link
// i -> i+1 applies). Round t:
//   acc = g_i (the minibatch gradient at x)
//   reduce-scatter, steps k = 0..n-2: send chunk (i - k) mod n of acc to i+1; add the chunk
//     (i - k - 1) mod n received from i-1 into acc. Peer i then holds the sum of chunk (i+1) mod n.
//   all-gather, steps k = 0..n-2: send chunk (i + 1 - k) mod n (its own sum first, then what it
//     received) to i+1; the chunk (i - k) mod n received from i-1 replaces acc's.
//   x <- x - lr_t * acc / n
// With local steps (docs/algorithms.md) acc starts from the pseudo-gradient update u_i instead of
// g_i and x <- s - acc / n: with H > 1 and an outer Nesterov optimizer this is DiLoCo exactly.
// Messages carry (round, tag = step 0..2n-3). Per round each peer sends 2(n-1) chunks, 2(n-1)/n
// of the model, and every round takes 2(n-1) one-hop latencies in sequence -- the latency term
// that makes gossip win on high-latency networks. Every sum is computed once, by one peer, and its
// bytes are forwarded unchanged, so all peers keep bit-identical models.
// Compression (optional `compressor`): each send is C(chunk) with error feedback (a residual per
// reduce-scatter step and one for the own sum; `ef(C)` as in docs/compressors.md); the identity
// codec sends raw fp32. Thread-safety: none; one driver thread owns it.
#pragma once

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "compressors/compressor.h"
#include "runtime/peer/peer_core.h"

namespace hearsay {

class AllreduceCore final : public PeerCore {
 public:
  explicit AllreduceCore(PeerCoreOptions options) : PeerCore(std::move(options)) {}

  // The ring's two neighbours of `self` among n peers (one when n = 2), ascending.
  static std::vector<int> RingNeighbors(int n, int self);

  void Compute() override { ComputeLocalWork(x_, job_round_); }
  std::span<const float> params() const override { return x_; }

 private:
  enum class Phase : uint8_t { kStart, kComputing, kSteps };

  Status SetupProtocol(std::span<const float> x0) override;
  void OnMessage(double now, Message msg) override;
  CoreStep Step(double now, CoreSink& sink) override;

  std::span<float> Chunk(int c) {
    return std::span<float>(acc_).subspan(lo_[c], lo_[c + 1] - lo_[c]);
  }
  RngKey Key(int sender, uint32_t step) const;
  Status SendStep(uint32_t step, CoreSink& sink);
  Status ReceiveStep(uint32_t step, ByteBuffer bytes);

  int n_ = 1, next_ = 0, prev_ = 0;
  std::vector<size_t> lo_;  // chunk c is [lo_[c], lo_[c + 1])
  std::vector<float> x_, acc_, scratch_;
  bool compressed_ = false;
  std::vector<std::unique_ptr<Compressor>> codecs_;  // per step kind (n-1 RS slots + own sum)
  std::unique_ptr<Compressor> decoder_;
  ByteBuffer forward_;  // all-gather: the bytes received last step, sent on unchanged
  Phase phase_ = Phase::kStart;
  uint32_t step_ = 0;  // the next step whose chunk must arrive
  double round_started_ = 0;
  std::map<std::pair<int64_t, uint32_t>, ByteBuffer> pending_;  // (round, step) from prev
};

}  // namespace hearsay
