// Kernels of model_kernels.h: one thread per example (or class, or element); double atomics for
// the loss (sm_60+), so the loss agrees with the CPU within rounding, not bit for bit.
#include <cuda_runtime.h>

#include <algorithm>

#include "common/cuda/cuda_check.h"
#include "common/cuda/launch.cuh"
#include "runtime/model/cuda/model_kernels.h"

namespace hearsay::cuda {
namespace {

// The atomics of the loss reductions add one value per block: fewer blocks, less contention.
constexpr size_t kModelMaxBlocks = size_t{1} << 16;

__device__ __forceinline__ double BlockSum(double v) {
  __shared__ double part[kThreads / 32];
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xFFFFFFFFu, v, o);
  if ((threadIdx.x & 31) == 0) part[threadIdx.x / 32] = v;
  __syncthreads();
  double s = 0;
  if (threadIdx.x == 0) {
    for (int w = 0; w < kThreads / 32; ++w) s += part[w];
  }
  __syncthreads();
  return s;  // valid in thread 0
}

__global__ void LogisticRowsKernel(const float* z, float bias, const int32_t* labels, int64_t n,
                                   float* dz, double* loss_acc, int64_t* correct_acc) {
  double loss = 0;
  int64_t correct = 0;
  for (int64_t i = blockIdx.x * int64_t{kThreads} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * kThreads) {
    const int32_t y = labels[i];
    const double zi = static_cast<double>(z[i] + bias);
    loss += fmax(zi, 0.0) + log1p(exp(-fabs(zi))) - y * zi;
    if (dz != nullptr) {
      const double sig = zi >= 0 ? 1.0 / (1.0 + exp(-zi)) : exp(zi) / (1.0 + exp(zi));
      dz[i] = static_cast<float>((sig - y) / static_cast<double>(n));
    }
    correct += ((z[i] + bias > 0) == (y == 1)) ? 1 : 0;
  }
  const double s = BlockSum(loss);
  const double c = BlockSum(static_cast<double>(correct));
  if (threadIdx.x == 0) {
    atomicAdd(loss_acc, s);
    if (correct_acc != nullptr) {
      atomicAdd(reinterpret_cast<unsigned long long*>(correct_acc),
                static_cast<unsigned long long>(c));
    }
  }
}

__global__ void SoftmaxRowsKernel(float* logits, const float* bias, const int32_t* labels,
                                  int64_t n, int32_t k, bool want_grad, double* loss_acc,
                                  int64_t* correct_acc) {
  double loss = 0;
  int64_t correct = 0;
  for (int64_t i = blockIdx.x * int64_t{kThreads} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * kThreads) {
    float* row = logits + i * k;
    const int32_t y = labels[i];
    float m = row[0] + bias[0];
    int32_t best = 0;
    for (int32_t c = 0; c < k; ++c) {
      row[c] = row[c] + bias[c];
      if (row[c] > m) {
        m = row[c];
        best = c;
      }
    }
    double sum = 0;
    for (int32_t c = 0; c < k; ++c) sum += exp(static_cast<double>(row[c] - m));
    loss += log(sum) + static_cast<double>(m) - static_cast<double>(row[y]);
    correct += best == y ? 1 : 0;
    if (want_grad) {
      const double inv = 1.0 / (sum * static_cast<double>(n));
      for (int32_t c = 0; c < k; ++c) {
        row[c] = static_cast<float>(exp(static_cast<double>(row[c] - m)) * inv);
      }
      row[y] -= static_cast<float>(1.0 / static_cast<double>(n));
    }
  }
  const double s = BlockSum(loss);
  const double c = BlockSum(static_cast<double>(correct));
  if (threadIdx.x == 0) {
    atomicAdd(loss_acc, s);
    if (correct_acc != nullptr) {
      atomicAdd(reinterpret_cast<unsigned long long*>(correct_acc),
                static_cast<unsigned long long>(c));
    }
  }
}

__global__ void ColumnSumsKernel(const float* m, int64_t n, int32_t k, float* out) {
  const int32_t c = blockIdx.x * kThreads + threadIdx.x;
  if (c >= k) return;
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += m[i * k + c];
  out[c] = s;
}

__global__ void SumKernel(const float* v, size_t n, bool squares, double* acc) {
  double s = 0;
  HEARSAY_GRID_LOOP(i, n) {
    const double x = v[i];
    s += squares ? x * x : x;
  }
  s = BlockSum(s);
  if (threadIdx.x == 0) atomicAdd(acc, s);
}

__global__ void ScaleKernel(float* y, const float* x, float a, size_t n) {
  HEARSAY_GRID_LOOP(i, n) { y[i] = a * x[i]; }
}

__global__ void BiasReluKernel(float* z, const float* bias, size_t count, int32_t s) {
  HEARSAY_GRID_LOOP(i, count) {
    const float v = z[i] + bias[i % static_cast<size_t>(s)];
    z[i] = v > 0.0f ? v : 0.0f;
  }
}

__global__ void ReluBackwardKernel(float* act, const float* prev, size_t count) {
  HEARSAY_GRID_LOOP(i, count) { act[i] = act[i] > 0.0f ? prev[i] : 0.0f; }
}

}  // namespace

Status LaunchLogisticRows(const float* z, float bias, const int32_t* labels, int64_t n, float* dz,
                          double* loss_acc, int64_t* correct_acc, void* stream) {
  if (n <= 0) return Status::Ok();
  LogisticRowsKernel<<<GridBlocks(n, kModelMaxBlocks), kThreads, 0, AsStream(stream)>>>(
      z, bias, labels, n, dz, loss_acc, correct_acc);
  return LaunchStatus("LogisticRowsKernel");
}

Status LaunchSoftmaxRows(float* logits, const float* bias, const int32_t* labels, int64_t n,
                         int32_t k, bool want_grad, double* loss_acc, int64_t* correct_acc,
                         void* stream) {
  if (n <= 0) return Status::Ok();
  SoftmaxRowsKernel<<<GridBlocks(n, kModelMaxBlocks), kThreads, 0, AsStream(stream)>>>(
      logits, bias, labels, n, k, want_grad, loss_acc, correct_acc);
  return LaunchStatus("SoftmaxRowsKernel");
}

Status LaunchColumnSums(const float* m, int64_t n, int32_t k, float* out, void* stream) {
  if (k <= 0) return Status::Ok();
  ColumnSumsKernel<<<GridBlocks(k, kModelMaxBlocks), kThreads, 0, AsStream(stream)>>>(m, n, k, out);
  return LaunchStatus("ColumnSumsKernel");
}

Status LaunchSum(const float* v, size_t n, bool squares, double* acc, void* stream) {
  if (n == 0) return Status::Ok();
  SumKernel<<<GridBlocks(n, kModelMaxBlocks), kThreads, 0, AsStream(stream)>>>(v, n, squares, acc);
  return LaunchStatus("SumKernel");
}

Status LaunchScale(float* y, const float* x, float a, size_t n, void* stream) {
  if (n == 0) return Status::Ok();
  ScaleKernel<<<GridBlocks(n, kModelMaxBlocks), kThreads, 0, AsStream(stream)>>>(y, x, a, n);
  return LaunchStatus("ScaleKernel");
}

Status LaunchBiasRelu(float* z, const float* bias, int64_t n, int32_t s, void* stream) {
  const size_t count = static_cast<size_t>(n) * static_cast<size_t>(s);
  if (count == 0) return Status::Ok();
  BiasReluKernel<<<GridBlocks(count, kModelMaxBlocks), kThreads, 0, AsStream(stream)>>>(z, bias,
                                                                                        count, s);
  return LaunchStatus("BiasReluKernel");
}

Status LaunchReluBackward(float* act, const float* prev, size_t count, void* stream) {
  if (count == 0) return Status::Ok();
  ReluBackwardKernel<<<GridBlocks(count, kModelMaxBlocks), kThreads, 0, AsStream(stream)>>>(
      act, prev, count);
  return LaunchStatus("ReluBackwardKernel");
}

}  // namespace hearsay::cuda
