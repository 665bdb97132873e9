// Element-wise update kernels of the CUDA backend: SGD, momentum, weighted mixing and the
// Begin/End steps of D-PSGD, DCD, ECD and CHOCO (ALGORITHMS.md). Plain C++ launchers: pointers
// are device pointers, `stream` is a cudaStream_t (nullptr = default stream), and every launcher
// only enqueues work and returns the launch Status (InvalidArgument for bad arguments).
//
// Each kernel performs, per element, the same float operations in the same order as the CPU
// code in runtime/algorithms/*.cc (device code is built with -fmad=false, like the host's
// -ffp-contract=off), so results are bit-identical to the CPU path. Mixing sums
//   acc = ((0 + w_0 r_0) + w_1 r_1) + ...    in the order the sources are given (row order).
//
// Ownership: nothing is retained after the call; `sources`/`weights` are host arrays read at
// launch time. Thread-safety: launchers are thread-safe; the buffers belong to the caller.
#pragma once

#include <cstddef>
#include <span>

#include "common/status.h"

namespace hearsay::cuda {

// x[k] = x[k] - lr * g[k]
Status LaunchSgdUpdate(float* x, const float* g, float lr, size_t n, void* stream);

// Heavy-ball momentum (PyTorch convention): v[k] = mu * v[k] + g[k]; x[k] = x[k] - lr * v[k].
Status LaunchMomentumUpdate(float* x, float* v, const float* g, float lr, float mu, size_t n,
                            void* stream);

// out[k] = sum_p weights[p] * sources[p][k], accumulated in order p = 0, 1, ... from 0.0f.
// Any number of sources (chunks of kMaxMixSources continue the same running sum, so the result
// does not depend on the chunking). `out` may alias no source.
inline constexpr int kMaxMixSources = 16;
Status LaunchWeightedMix(float* out, std::span<const float* const> sources,
                         std::span<const float> weights, size_t n, void* stream);

// D-PSGD End: x[k] = acc[k] - lr * g[k].
Status LaunchDpsgdEnd(float* x, const float* acc, const float* g, float lr, size_t n, void* stream);

// DCD Begin: diff[k] = (mix[k] - lr * g[k]) - x[k], mix = sum_p w_p r_p (as LaunchWeightedMix,
// with r_self = x). The mix is fused when there are at most kMaxMixSources sources.
Status LaunchDcdBegin(float* diff, std::span<const float* const> replicas,
                      std::span<const float> weights, const float* g, float lr, const float* x,
                      size_t n, void* stream);

// ECD Begin: x_new = mix(estimates) ; x_new -= lr * g ;
// z = float((1 - half_t) * double(x) + half_t * double(x_new)), half_t = round / 2.
Status LaunchEcdBegin(float* x_new, float* z, std::span<const float* const> estimates,
                      std::span<const float> weights, const float* g, float lr, const float* x,
                      double half_t, size_t n, void* stream);

// CHOCO Begin: local = x - lr * g; x_new = local + gamma * (m - xh); diff = x_new - xh.
Status LaunchChocoBegin(float* x_new, float* diff, const float* x, const float* g, float lr,
                        float gamma, const float* m, const float* xh, size_t n, void* stream);

}  // namespace hearsay::cuda
