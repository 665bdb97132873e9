// Compressor: the codec seam (DESIGN.md "Core seams", ALGORITHMS.md "Compressors").
//
// A Compressor turns a float vector into bytes with a documented, byte-exact wire format
// (docs/compressors.md) and back. Randomness comes only from the counter-based generator keyed
// by RngKey (run seed, sending peer, round, tensor); the codec sets key.stream itself
// (kStreamCodec for dithering, kStreamCodecIndex for rand-k indices), so the sender and every
// receiver that decode with the same key see the same samples.
//
// Ownership/threading: one instance per sender (combinators like ef(C) keep sender state, the
// residual); Encode is not thread-safe; Decode is const and may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/byte_buffer.h"
#include "common/random.h"
#include "common/state_io.h"
#include "common/status.h"

namespace hearsay {

// Buffers ef(C) lends to EncodeWithFeedback, kept across rounds so no call allocates.
struct FeedbackScratch {
  std::vector<float> sent;     // p = x + residual
  std::vector<float> decoded;  // decode(encode(p)), or what a codec needs of it
};

// Takes a decoded vector a chunk at a time (Compressor::DecodeChunks).
class DecodedChunks {
 public:
  // values are the elements [lo, lo + values.size()) of the decoded vector.
  virtual void Take(size_t lo, std::span<const float> values) = 0;

 protected:
  ~DecodedChunks() = default;
};

// DecodedChunks calling fn(lo, values).
template <typename Fn>
class DecodedChunksFn final : public DecodedChunks {
 public:
  explicit DecodedChunksFn(Fn fn) : fn_(std::move(fn)) {}
  void Take(size_t lo, std::span<const float> values) override { fn_(lo, values); }

 private:
  Fn fn_;
};

class Compressor {
 public:
  virtual ~Compressor() = default;

  // Canonical spec string, e.g. "qsgd:8" or "ef(topk:0.01)"; MakeCompressor(Spec()) rebuilds it.
  virtual std::string Spec() const = 0;
  // True when E[decode(encode(x))] = x for every x.
  virtual bool Unbiased() const = 0;
  // Average wire bits per element for a vector of d elements (headers included).
  virtual double BitsPerElement(size_t d) const = 0;

  // Appends the encoding of x to *out. `key` identifies (seed, peer, round, tensor).
  virtual Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) = 0;
  // Decodes `bytes` (exactly one encoding, nothing more) into out, whose size is the encoded
  // vector's length. Never trusts bytes: wrong sizes, bad headers or trailing bytes give
  // Corruption and leave `out` unspecified but never touch memory outside it.
  virtual Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                        std::span<float> out) const = 0;

  // Decode of a vector of d elements, handed to `sink` in chunks that cover [0, d) in ascending
  // order: a caller that adds the values into its state then reads them from cache instead of
  // writing a decoded vector to memory and reading it back. The same checks and errors as
  // Decode, all made before the first chunk is handed over, and the same floats. `scratch` is
  // the caller's (resized as needed; its first elements stay in cache from call to call). The
  // default decodes into *scratch and hands it over as one chunk; qsgd, terngrad, fp16 and bf16
  // decode a cache-sized run of elements at a time (feedback_chunks.h, DecodeInChunks), and
  // identity hands over the payload's own values where they are aligned for float.
  virtual Status DecodeChunks(std::span<const uint8_t> bytes, const RngKey& key, size_t d,
                              std::vector<float>* scratch, DecodedChunks& sink) const;

  // Error feedback (ef(C), error_feedback.h): appends Encode(p) for p = x + residual and sets
  // residual = p - decode(that encoding), element for element the same floats as Encode, Decode
  // into a vector q and residual[i] = p[i] - q[i]. residual.size() == x.size(). The default does
  // exactly those steps (leaving the residual unchanged on failure); codecs that can skip some
  // override it -- the sparsifiers, whose decoding is zero off k elements, form p in the residual
  // itself, so on failure it holds p; qsgd works in cache-sized chunks, so on failure the chunks
  // before the bad block hold their new residual. Not thread-safe (it encodes).
  virtual Status EncodeWithFeedback(std::span<const float> x, std::span<float> residual,
                                    const RngKey& key, ByteBuffer* out, FeedbackScratch* scratch);

  // Sender state that survives a round (checkpoints): none for a stateless codec; ef(C) writes
  // its residual. LoadState reads what SaveState wrote (Corruption on a mismatch).
  virtual void SaveState(StateWriter& w) const {}
  virtual Status LoadState(StateReader& r) { return Status::Ok(); }
};

// Builds a codec from its spec string ("identity", "qsgd:8", ...). Errors name the spec and what
// would be valid, e.g. "qsgd:9: bits must be 1..8".
Result<std::unique_ptr<Compressor>> MakeCompressor(std::string_view spec);

}  // namespace hearsay
