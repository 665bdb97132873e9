// Wire helpers shared by the codecs: the 8-byte payload header, size checks, bit-plane packing.
//
// Every codec payload starts with the same header (docs/compressors.md "Common header"):
//   byte 0     codec tag (CodecTag below)
//   byte 1     codec parameter (bits for qsgd, levels for natdither, ...; 0 when unused)
//   bytes 2-3  reserved, zero
//   bytes 4-7  d, the vector length, uint32 little-endian
// Decoders check all four fields against their own configuration and the output span, so a
// payload from another codec or for another vector length is Corruption, not garbage.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "common/byte_buffer.h"
#include "common/status.h"
#include "compressors/compressor.h"

namespace hearsay {

enum class CodecTag : uint8_t {
  kIdentity = 1,
  kFp16 = 2,
  kBf16 = 3,
  kQsgd = 4,
  kMinMax8 = 5,
  kNatural = 6,
  kNatural8 = 7,
  kNatDither = 8,
  kTopK = 9,
  kRandK = 10,
  kRandKUnbiased = 11,
  kSign = 12,
  kTernGrad = 13,
};

inline constexpr size_t kHeaderBytes = 8;
inline constexpr size_t kMaxElements = std::numeric_limits<uint32_t>::max();

// The codec's name in an error message: a spec string, or a compressor whose Spec() is built
// only then (the checks below run on every encode and decode: building the spec string each
// time cost more than some of them).
inline std::string SpecText(std::string_view spec) { return std::string(spec); }
inline std::string SpecText(const Compressor& codec) { return codec.Spec(); }

// Encode-side check: the vector fits the header's 32-bit length.
template <typename Spec>
[[nodiscard]] Status CheckEncodable(const Spec& spec, size_t d) {
  if (d > kMaxElements) {
    return InvalidArgument(SpecText(spec) + ": vector of " + std::to_string(d) +
                           " elements is too long (at most 2^32 - 1 per message)");
  }
  return Status::Ok();
}

// Appends the common header; returns the offset of the first byte after it.
inline size_t AppendHeader(ByteBuffer* out, CodecTag tag, uint8_t param, size_t d) {
  const uint8_t h[4] = {static_cast<uint8_t>(tag), param, 0, 0};
  AppendBytes(out, h, 4);
  AppendPod<uint32_t>(out, static_cast<uint32_t>(d));
  return out->size();
}

// Reads and validates the common header.
template <typename Spec>
[[nodiscard]] Status ReadHeader(ByteReader* r, const Spec& spec, CodecTag tag, uint8_t param,
                                size_t d) {
  uint8_t h[4];
  uint32_t n = 0;
  if (!r->ReadPod(&h) || !r->ReadPod(&n)) {
    return Corruption(SpecText(spec) + ": payload shorter than its 8-byte header");
  }
  if (h[0] != static_cast<uint8_t>(tag) || h[1] != param || h[2] != 0 || h[3] != 0) {
    return Corruption(SpecText(spec) + ": payload header (tag " + std::to_string(h[0]) +
                      ", parameter " + std::to_string(h[1]) + ") was not written by this codec");
  }
  if (n != d) {
    return Corruption(SpecText(spec) + ": payload holds " + std::to_string(n) +
                      " elements but the output has " + std::to_string(d));
  }
  return Status::Ok();
}

// Reads exactly n bytes or reports which section was short.
template <typename Spec>
[[nodiscard]] Status ReadSection(ByteReader* r, const Spec& spec, const char* what, size_t n,
                                 std::span<const uint8_t>* out) {
  if (!r->ReadSpan(n, out)) {
    return Corruption(SpecText(spec) + ": payload truncated in " + what + " (needs " +
                      std::to_string(n) + " bytes, " + std::to_string(r->remaining()) + " left)");
  }
  return Status::Ok();
}

template <typename Spec>
[[nodiscard]] Status ExpectEnd(const ByteReader& r, const Spec& spec) {
  if (r.remaining() != 0) {
    return Corruption(SpecText(spec) + ": " + std::to_string(r.remaining()) +
                      " unexpected trailing bytes after the payload");
  }
  return Status::Ok();
}

// Grows *out by n bytes and returns a pointer to the new region.
inline uint8_t* Grow(ByteBuffer* out, size_t n) {
  const size_t at = out->size();
  out->resize(at + n);
  return out->data() + at;
}

inline size_t DivUp(size_t a, size_t b) { return (a + b - 1) / b; }

// Wire bits per element of an encoding of `bytes` bytes for d elements (0 for d = 0).
inline double BitsPerElementOf(size_t bytes, size_t d) {
  return d == 0 ? 0.0 : 8.0 * static_cast<double>(bytes) / static_cast<double>(d);
}

// "name" for the default block size, else "name:block" (canonical specs omit defaults).
inline std::string BlockSpec(const char* name, int block, int default_block) {
  return block == default_block ? std::string(name)
                                : std::string(name) + ":" + std::to_string(block);
}

// Bit planes are packed LSB first: value j of a plane of b-bit values occupies bits
// [j*b, j*b + b) of the plane, bit k of byte m being bit 8*m + k.
// Packs 8 values of `bits` bits (bits <= 8) into `bits` bytes at dst.
inline void Pack8(const uint8_t* v, int bits, uint8_t* dst) {
  uint64_t acc = 0;
  for (int j = 0; j < 8; ++j) acc |= static_cast<uint64_t>(v[j]) << (j * bits);
  std::memcpy(dst, &acc, static_cast<size_t>(bits));
}
inline void Unpack8(const uint8_t* src, int bits, uint8_t* v) {
  uint64_t acc = 0;
  std::memcpy(&acc, src, static_cast<size_t>(bits));
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  for (int j = 0; j < 8; ++j) v[j] = static_cast<uint8_t>((acc >> (j * bits)) & mask);
}

// Packs n values (n need not be a multiple of 8) into DivUp(n * bits, 8) bytes.
void PackBits(const uint8_t* v, size_t n, int bits, uint8_t* dst);
// Unpacks n values from DivUp(n * bits, 8) bytes.
void UnpackBits(const uint8_t* src, size_t n, int bits, uint8_t* v);

// Sign planes (bit j set when value j is negative) are written by kernels::PackSigns and the
// fused encoders in compressors/kernels.h.

}  // namespace hearsay
