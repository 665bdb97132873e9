// Kernels of update_kernels.h. Grid-stride loops over size_t indices; one element per thread per
// iteration. The arithmetic of each line mirrors runtime/algorithms/*.cc operation for operation
// (no FMA: this file is compiled with -fmad=false).
#include <cuda_runtime.h>

#include <algorithm>

#include "common/cuda/cuda_check.h"
#include "common/cuda/launch.cuh"
#include "runtime/cuda/update_kernels.h"

namespace hearsay::cuda {
namespace {

struct MixArgs {
  const float* src[kMaxMixSources];
  float w[kMaxMixSources];
  int count;
  bool accumulate;  // continue from out[k] instead of 0.0f
};

__device__ __forceinline__ float Mix(const MixArgs& a, float start, size_t k) {
  float acc = start;
  for (int p = 0; p < a.count; ++p) acc += a.w[p] * a.src[p][k];
  return acc;
}

__global__ void SgdKernel(float* x, const float* g, float lr, size_t n) {
  HEARSAY_GRID_LOOP(k, n) { x[k] = x[k] - lr * g[k]; }
}

__global__ void MomentumKernel(float* x, float* v, const float* g, float lr, float mu, size_t n) {
  HEARSAY_GRID_LOOP(k, n) {
    const float vk = mu * v[k] + g[k];
    v[k] = vk;
    x[k] = x[k] - lr * vk;
  }
}

__global__ void MixKernel(float* out, MixArgs a, size_t n) {
  HEARSAY_GRID_LOOP(k, n) { out[k] = Mix(a, a.accumulate ? out[k] : 0.0f, k); }
}

__global__ void DpsgdEndKernel(float* x, const float* acc, const float* g, float lr, size_t n) {
  HEARSAY_GRID_LOOP(k, n) { x[k] = acc[k] - lr * g[k]; }
}

// DCD: diff = (mix - lr g) - x. With a.count == 0 and a.accumulate the mix is already in diff.
__global__ void DcdBeginKernel(float* diff, MixArgs a, const float* g, float lr, const float* x,
                               size_t n) {
  HEARSAY_GRID_LOOP(k, n) {
    const float mix = Mix(a, a.accumulate ? diff[k] : 0.0f, k);
    diff[k] = (mix - lr * g[k]) - x[k];
  }
}

__global__ void EcdBeginKernel(float* x_new, float* z, MixArgs a, const float* g, float lr,
                               const float* x, double half_t, size_t n) {
  HEARSAY_GRID_LOOP(k, n) {
    float xn = Mix(a, a.accumulate ? x_new[k] : 0.0f, k);
    xn -= lr * g[k];
    x_new[k] = xn;
    z[k] = static_cast<float>((1.0 - half_t) * static_cast<double>(x[k]) +
                              half_t * static_cast<double>(xn));
  }
}

__global__ void ChocoBeginKernel(float* x_new, float* diff, const float* x, const float* g,
                                 float lr, float gamma, const float* m, const float* xh, size_t n) {
  HEARSAY_GRID_LOOP(k, n) {
    const float local = x[k] - lr * g[k];
    const float xn = local + gamma * (m[k] - xh[k]);
    x_new[k] = xn;
    diff[k] = xn - xh[k];
  }
}

Status CheckSources(std::span<const float* const> sources, std::span<const float> weights) {
  if (sources.size() != weights.size()) {
    return InvalidArgument("weighted mix: " + std::to_string(sources.size()) + " sources but " +
                           std::to_string(weights.size()) + " weights");
  }
  return Status::Ok();
}

MixArgs Chunk(std::span<const float* const> sources, std::span<const float> weights, size_t at,
              bool accumulate) {
  MixArgs a{};
  a.count = static_cast<int>(std::min<size_t>(kMaxMixSources, sources.size() - at));
  for (int p = 0; p < a.count; ++p) {
    a.src[p] = sources[at + p];
    a.w[p] = weights[at + p];
  }
  a.accumulate = accumulate;
  return a;
}

// Mixes all sources into out when they do not fit one fused launch; returns the MixArgs the
// fused kernel should still apply (all sources, or none with accumulate = true).
Result<MixArgs> PrepareMix(float* out, std::span<const float* const> sources,
                           std::span<const float> weights, size_t n, void* stream) {
  HEARSAY_RETURN_IF_ERROR(CheckSources(sources, weights));
  if (sources.size() <= static_cast<size_t>(kMaxMixSources)) {
    return Chunk(sources, weights, 0, false);
  }
  HEARSAY_RETURN_IF_ERROR(LaunchWeightedMix(out, sources, weights, n, stream));
  MixArgs none{};
  none.count = 0;
  none.accumulate = true;
  return none;
}

}  // namespace

Status LaunchSgdUpdate(float* x, const float* g, float lr, size_t n, void* stream) {
  if (n == 0) return Status::Ok();
  SgdKernel<<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(x, g, lr, n);
  return LaunchStatus("SgdKernel");
}

Status LaunchMomentumUpdate(float* x, float* v, const float* g, float lr, float mu, size_t n,
                            void* stream) {
  if (n == 0) return Status::Ok();
  MomentumKernel<<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(x, v, g, lr, mu, n);
  return LaunchStatus("MomentumKernel");
}

Status LaunchWeightedMix(float* out, std::span<const float* const> sources,
                         std::span<const float> weights, size_t n, void* stream) {
  HEARSAY_RETURN_IF_ERROR(CheckSources(sources, weights));
  if (n == 0) return Status::Ok();
  if (sources.empty()) {
    return CudaStatus(cudaMemsetAsync(out, 0, n * sizeof(float), AsStream(stream)), "weighted mix");
  }
  for (size_t at = 0; at < sources.size(); at += kMaxMixSources) {
    MixKernel<<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(
        out, Chunk(sources, weights, at, at != 0), n);
    HEARSAY_RETURN_IF_ERROR(LaunchStatus("MixKernel"));
  }
  return Status::Ok();
}

Status LaunchDpsgdEnd(float* x, const float* acc, const float* g, float lr, size_t n,
                      void* stream) {
  if (n == 0) return Status::Ok();
  DpsgdEndKernel<<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(x, acc, g, lr, n);
  return LaunchStatus("DpsgdEndKernel");
}

Status LaunchDcdBegin(float* diff, std::span<const float* const> replicas,
                      std::span<const float> weights, const float* g, float lr, const float* x,
                      size_t n, void* stream) {
  if (n == 0) return CheckSources(replicas, weights);
  HEARSAY_ASSIGN_OR_RETURN(MixArgs a, PrepareMix(diff, replicas, weights, n, stream));
  DcdBeginKernel<<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(diff, a, g, lr, x, n);
  return LaunchStatus("DcdBeginKernel");
}

Status LaunchEcdBegin(float* x_new, float* z, std::span<const float* const> estimates,
                      std::span<const float> weights, const float* g, float lr, const float* x,
                      double half_t, size_t n, void* stream) {
  if (n == 0) return CheckSources(estimates, weights);
  HEARSAY_ASSIGN_OR_RETURN(MixArgs a, PrepareMix(x_new, estimates, weights, n, stream));
  EcdBeginKernel<<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(x_new, z, a, g, lr, x, half_t,
                                                                   n);
  return LaunchStatus("EcdBeginKernel");
}

Status LaunchChocoBegin(float* x_new, float* diff, const float* x, const float* g, float lr,
                        float gamma, const float* m, const float* xh, size_t n, void* stream) {
  if (n == 0) return Status::Ok();
  ChocoBeginKernel<<<GridBlocks(n), kThreads, 0, AsStream(stream)>>>(x_new, diff, x, g, lr, gamma,
                                                                     m, xh, n);
  return LaunchStatus("ChocoBeginKernel");
}

}  // namespace hearsay::cuda
