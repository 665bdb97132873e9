#include "runtime/model/linear_kernels.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace hearsay {
namespace {

// Eight floats as one GCC vector: AVX2 code in the avx2 clone, two SSE registers in the default
// one, the same per-lane arithmetic in both. (GCC warns that passing such vectors by value has
// another ABI without AVX; these helpers are inlined file-local functions, so no ABI is involved.)
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float V8 __attribute__((vector_size(32)));

// The helpers and bodies below are always inlined into an AVX2 and a baseline entry point, so
// each gets compiled for both (an explicit dispatch, not target_clones: ifunc resolvers run at
// load time, before a ThreadSanitizer runtime is up).
#define HEARSAY_INLINE inline __attribute__((always_inline))

HEARSAY_INLINE V8 Load(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

HEARSAY_INLINE void Store(float* p, V8 v) { std::memcpy(p, &v, sizeof v); }

constexpr int64_t kLanes = 16;  // partial sums per dot product (two V8)
// Features per chunk: k weight rows and n batch rows of 1024 floats (4 KiB each) stay in L2
// while all n * k dot products consume them.
constexpr int64_t kChunk = 1024;
constexpr int kSegment = 8;  // gradient outputs kept in registers: 8 V8 = 64 floats

// sums[c * 16 + l] += x[f + l] * w_c[f + l] over [lo, hi) for kC classes at once (w_c = w + c * d),
// hi - lo a multiple of 16. Each load of x serves kC classes; per (row, class) lane l still adds
// its products in increasing f.
template <int kC>
HEARSAY_INLINE void DotLanes(const float* x, const float* w, int64_t d, int64_t lo, int64_t hi,
                             float* sums) {
  V8 s[kC][2];
  for (int c = 0; c < kC; ++c) {
    s[c][0] = Load(sums + c * kLanes);
    s[c][1] = Load(sums + c * kLanes + 8);
  }
  for (int64_t f = lo; f < hi; f += kLanes) {
    const V8 x0 = Load(x + f), x1 = Load(x + f + 8);
    for (int c = 0; c < kC; ++c) {
      s[c][0] += x0 * Load(w + c * d + f);
      s[c][1] += x1 * Load(w + c * d + f + 8);
    }
  }
  for (int c = 0; c < kC; ++c) {
    Store(sums + c * kLanes, s[c][0]);
    Store(sums + c * kLanes + 8, s[c][1]);
  }
}

HEARSAY_INLINE float Reduce(const float* s) {
  float t[8];
  for (int l = 0; l < 8; ++l) t[l] = s[l] + s[l + 8];
  for (int l = 0; l < 4; ++l) t[l] = t[l] + t[l + 4];
  return (t[0] + t[2]) + (t[1] + t[3]);
}

HEARSAY_INLINE void RowWeightDotsBody(const Batch& batch, const float* w, int64_t d, int32_t k,
                                      float* out) {
  const int64_t n = batch.rows;
  const int64_t body = d / kLanes * kLanes;  // the rest is added one feature at a time
  std::vector<float> sums(static_cast<size_t>(n * k * kLanes), 0.0f);
  for (int64_t lo = 0; lo < body; lo += kChunk) {
    const int64_t hi = std::min(lo + kChunk, body);
    for (int64_t i = 0; i < n; ++i) {
      const float* x = batch.Row(i);
      float* sum = &sums[static_cast<size_t>(i * k * kLanes)];
      int32_t c = 0;
      for (; c + 4 <= k; c += 4) DotLanes<4>(x, w + c * d, d, lo, hi, sum + c * kLanes);
      for (; c < k; ++c) DotLanes<1>(x, w + c * d, d, lo, hi, sum + c * kLanes);
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const float* x = batch.Row(i);
    for (int32_t c = 0; c < k; ++c) {
      float s = Reduce(&sums[static_cast<size_t>((i * k + c) * kLanes)]);
      const float* wc = w + c * d;
      for (int64_t f = body; f < d; ++f) s += x[f] * wc[f];
      out[i * k + c] = s;
    }
  }
}

HEARSAY_INLINE void WeightGradientBody(const Batch& batch, const float* g, int64_t d, int32_t k,
                                       float l2, const float* w, float* gw) {
  const int64_t n = batch.rows;
  const V8 l2v = {l2, l2, l2, l2, l2, l2, l2, l2};
  for (int64_t lo = 0; lo < d; lo += kChunk) {
    const int64_t hi = std::min(lo + kChunk, d);
    for (int32_t c = 0; c < k; ++c) {
      float* out = gw + c * d;
      const float* wc = w + c * d;
      int64_t f = lo;
      // 64 outputs at a time stay in registers while every row adds its term, in row order.
      for (; f + 8 * kSegment <= hi; f += 8 * kSegment) {
        V8 acc[kSegment];
        for (int j = 0; j < kSegment; ++j) acc[j] = l2v * Load(wc + f + 8 * j);
        for (int64_t i = 0; i < n; ++i) {
          const float a = g[i * k + c];
          const V8 av = {a, a, a, a, a, a, a, a};
          const float* x = batch.Row(i) + f;
          for (int j = 0; j < kSegment; ++j) acc[j] += av * Load(x + 8 * j);
        }
        for (int j = 0; j < kSegment; ++j) Store(out + f + 8 * j, acc[j]);
      }
      for (; f < hi; ++f) {
        float v = l2 * wc[f];
        for (int64_t i = 0; i < n; ++i) v += g[i * k + c] * batch.Row(i)[f];
        out[f] = v;
      }
    }
  }
}

__attribute__((target("avx2"))) void RowWeightDotsAvx2(const Batch& batch, const float* w,
                                                       int64_t d, int32_t k, float* out) {
  RowWeightDotsBody(batch, w, d, k, out);
}
void RowWeightDotsBaseline(const Batch& batch, const float* w, int64_t d, int32_t k, float* out) {
  RowWeightDotsBody(batch, w, d, k, out);
}
__attribute__((target("avx2"))) void WeightGradientAvx2(const Batch& batch, const float* g,
                                                        int64_t d, int32_t k, float l2,
                                                        const float* w, float* gw) {
  WeightGradientBody(batch, g, d, k, l2, w, gw);
}
void WeightGradientBaseline(const Batch& batch, const float* g, int64_t d, int32_t k, float l2,
                            const float* w, float* gw) {
  WeightGradientBody(batch, g, d, k, l2, w, gw);
}

bool HasAvx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
}

}  // namespace

void RowWeightDots(const Batch& batch, const float* w, int64_t d, int32_t k, float* out) {
  HasAvx2() ? RowWeightDotsAvx2(batch, w, d, k, out) : RowWeightDotsBaseline(batch, w, d, k, out);
}

void WeightGradient(const Batch& batch, const float* g, int64_t d, int32_t k, float l2,
                    const float* w, float* gw) {
  HasAvx2() ? WeightGradientAvx2(batch, g, d, k, l2, w, gw)
            : WeightGradientBaseline(batch, g, d, k, l2, w, gw);
}

}  // namespace hearsay
