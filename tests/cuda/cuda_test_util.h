// Helpers for the CUDA oracle tests: skip without a GPU, seeded non-zero inputs, host<->device.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/cuda/cuda_device.h"
#include "common/random.h"

namespace hearsay::cuda::testing {

// GTEST_SKIP()s the test when this machine has no usable GPU (no driver counts as none).
#define HEARSAY_REQUIRE_GPU()                                                                \
  do {                                                                                       \
    auto _n = ::hearsay::cuda::CudaDeviceCount();                                            \
    if (!_n.ok() || *_n == 0) {                                                              \
      GTEST_SKIP() << "no usable CUDA device ("                                              \
                   << (_n.ok() ? std::string("0 devices") : _n.status().ToString())          \
                   << "): GPU-vs-CPU check not run; run it on a GPU machine (docs/cuda.md)"; \
    }                                                                                        \
  } while (0)

// Seeded input with magnitudes spread over several decades and both signs; never all zero.
inline std::vector<float> SeededInput(size_t n, uint64_t seed) {
  const RngKey key{seed, 7, 0, kStreamData, 0};
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    const float u = UniformAt(key, 2 * i) - 0.5f;
    const float e = UniformAt(key, 2 * i + 1);
    x[i] = u * std::exp2(8.0f * e - 4.0f);
  }
  return x;
}

inline bool AnyNonZero(const std::vector<float>& x) {
  for (float v : x) {
    if (v != 0.0f) return true;
  }
  return false;
}

template <typename T>
DeviceBuffer<T> Upload(const std::vector<T>& h) {
  auto d = DeviceBuffer<T>::Create(h.size());
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(CopyToDevice(d->data(), h.data(), h.size() * sizeof(T), nullptr, "test").ok());
  return std::move(*d);
}

template <typename T>
std::vector<T> Download(const T* d, size_t n) {
  std::vector<T> h(n);
  EXPECT_TRUE(CopyToHost(h.data(), d, n * sizeof(T), nullptr, "test").ok());
  EXPECT_TRUE(CudaDeviceSynchronize().ok());
  return h;
}

// Bitwise equality of float vectors (NaN-safe, -0 != +0), with the first mismatch reported.
inline ::testing::AssertionResult SameBits(const std::vector<float>& a,
                                           const std::vector<float>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t ua, ub;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    if (ua != ub) {
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i]
                                           << " (bits " << std::hex << ua << " vs " << ub << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace hearsay::cuda::testing
