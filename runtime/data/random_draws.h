// Random draws built on common/random.h for data generation, shuffles and model initialisation.
//
// Each draw is a pure function of (key, index): draw i uses Philox block i of the key's stream,
// so results never depend on call order, threads or chunking (ALGORITHMS.md invariant 3).
// Callers separate independent uses by key.stream and key.tensor.
// Thread-safety: pure functions.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/random.h"

namespace hearsay {

// 64 random bits: words 0 and 1 of block i.
inline uint64_t Bits64At(const RngKey& key, uint64_t i) {
  const Philox4 b = PhiloxBlock(key, i);
  return (static_cast<uint64_t>(b.v[1]) << 32) | b.v[0];
}

// Uniform integer in [0, n) (n > 0); bias below 2^-64 * n, i.e. none in practice.
inline uint64_t UniformIntAt(const RngKey& key, uint64_t i, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(Bits64At(key, i)) * n) >> 64);
}

// Uniform double in [0, 1) with 53 random bits.
inline double UniformDoubleAt(const RngKey& key, uint64_t i) {
  return static_cast<double>(Bits64At(key, i) >> 11) * (1.0 / 9007199254740992.0);
}

// Standard normal N(0, 1) by Box-Muller on words 0-1 (u1 in (0, 1]) and 2-3 (u2) of block i.
inline double GaussianAt(const RngKey& key, uint64_t i) {
  const Philox4 b = PhiloxBlock(key, i);
  const uint64_t a = (static_cast<uint64_t>(b.v[1]) << 32) | b.v[0];
  const uint64_t c = (static_cast<uint64_t>(b.v[3]) << 32) | b.v[2];
  const double u1 = (static_cast<double>(a >> 11) + 1.0) * (1.0 / 9007199254740992.0);
  const double u2 = static_cast<double>(c >> 11) * (1.0 / 9007199254740992.0);
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

}  // namespace hearsay
