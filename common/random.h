// Counter-based random numbers (ALGORITHMS.md invariant 3).
//
// Every random draw in hearsay is a pure function of (run seed, peer, round, stream, index):
// no generator state, so results do not depend on threads, on chunking or on CPU vs GPU.
//   - RngKey names the stream of draws: run seed, the peer that draws, the round, and a
//     `stream` tag that separates uses (codec dithering, rand-k indices, data shuffles, ...).
//   - Philox4x32-10 (Salmon et al., SC'11) maps (key, 64-bit counter) to four 32-bit words.
//   - UniformAt(key, i) is the i-th uniform in [0, 1) of the stream: word (i % 4) of block i/4.
//
// All functions are HEARSAY_HD (host and device) and header-only. Thread-safe: pure functions.
#pragma once

#include <cstdint>

#include "common/hostdevice.h"

namespace hearsay {

// Stream tags. New uses add a tag; never reuse one for two purposes.
enum RngStream : uint32_t {
  kStreamCodec = 1,       // stochastic rounding in compressors
  kStreamCodecIndex = 2,  // rand-k index selection (shared by sender and receivers)
  kStreamData = 3,        // dataset generation and shuffles
  kStreamInit = 4,        // model initialisation
  kStreamEmulator = 5,    // emulator jitter and loss
  kStreamTopology = 6,    // random graph generators
  kStreamPartner = 7,     // AD-PSGD: the neighbour a peer averages with
};

struct RngKey {
  uint64_t seed = 0;    // run seed
  uint32_t peer = 0;    // peer that draws
  uint32_t round = 0;   // training round (or 0 when not round-based)
  uint32_t stream = 0;  // RngStream tag
  uint32_t tensor = 0;  // tensor id within a message (0 for a flat model)
};

struct Philox4 {
  uint32_t v[4];
};

HEARSAY_HD uint32_t MulHiLo32(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// Philox4x32-10 of counter (c0..c3) with key (k0, k1).
HEARSAY_HD Philox4 Philox4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                              uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
#if defined(__CUDACC__)
#pragma unroll
#endif
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, hi1;
    uint32_t lo0 = MulHiLo32(kM0, c0, &hi0);
    uint32_t lo1 = MulHiLo32(kM1, c2, &hi1);
    uint32_t n0 = hi1 ^ c1 ^ k0;
    uint32_t n1 = lo1;
    uint32_t n2 = hi0 ^ c3 ^ k1;
    uint32_t n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += kW0;
    k1 += kW1;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// Block `block` (4 words) of the stream named by `key`.
HEARSAY_HD Philox4 PhiloxBlock(const RngKey& key, uint64_t block) {
  const uint32_t k0 = static_cast<uint32_t>(key.seed);
  const uint32_t k1 = static_cast<uint32_t>(key.seed >> 32) ^ (key.stream * 0x85EBCA6Bu);
  const uint32_t c2 = key.peer ^ (key.tensor << 20) ^ (key.tensor >> 12);
  return Philox4x32(static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), c2, key.round,
                    k0, k1);
}

// 24-bit mantissa uniform in [0, 1) from a 32-bit word; exactly representable in float.
HEARSAY_HD float WordToUniform(uint32_t w) {
  return static_cast<float>(w >> 8) * (1.0f / 16777216.0f);
}

// The index-th 32-bit word of the stream.
HEARSAY_HD uint32_t WordAt(const RngKey& key, uint64_t index) {
  Philox4 b = PhiloxBlock(key, index >> 2);
  return b.v[index & 3];
}

// The index-th uniform in [0, 1) of the stream.
HEARSAY_HD float UniformAt(const RngKey& key, uint64_t index) {
  return WordToUniform(WordAt(key, index));
}

// SplitMix64 finaliser: a cheap bijective 64-bit mix, for hashing keys and deriving seeds.
HEARSAY_HD uint64_t Mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace hearsay
