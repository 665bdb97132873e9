// Helpers shared by the compressor tests: seeded inputs and codec construction.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "common/random.h"
#include "compressors/compressor.h"

namespace hearsay::testing {

// d values, roughly N(0, 1) scaled by `scale`, with a few exact zeros, from a fixed seed.
inline std::vector<float> SeededVector(size_t d, uint64_t seed, float scale = 1.0f) {
  RngKey k{seed, 0, 0, kStreamData, 0};
  std::vector<float> x(d);
  for (size_t i = 0; i < d; ++i) {
    const float u1 = UniformAt(k, 2 * i) + 1e-7f, u2 = UniformAt(k, 2 * i + 1);
    x[i] = scale * std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
    if (i % 17 == 3) x[i] = 0.0f;
  }
  return x;
}

inline std::unique_ptr<Compressor> MustMake(const std::string& spec) {
  auto c = MakeCompressor(spec);
  EXPECT_TRUE(c.ok()) << spec << ": " << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

inline RngKey Key(uint64_t seed, uint32_t round = 1, uint32_t peer = 0) {
  return RngKey{seed, peer, round, 0, 0};
}

}  // namespace hearsay::testing
