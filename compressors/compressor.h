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

#include "common/byte_buffer.h"
#include "common/random.h"
#include "common/status.h"

namespace hearsay {

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
};

// Builds a codec from its spec string ("identity", "qsgd:8", ...). Errors name the spec and what
// would be valid, e.g. "qsgd:9: bits must be 1..8".
Result<std::unique_ptr<Compressor>> MakeCompressor(std::string_view spec);

}  // namespace hearsay
