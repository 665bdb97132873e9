// Per-example kernels of the CUDA models (cuda_model.cc does the matrix products with cuBLAS).
// Plain C++ launchers on device pointers and a cudaStream_t `stream`; `acc` outputs are device
// doubles/int64 that the launchers accumulate into with atomics (the caller zeroes them first).
// Formulas follow logistic.cc and softmax.cc term by term.
// Thread-safety: launchers are thread-safe; buffers belong to the caller.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"

namespace hearsay::cuda {

// z[i] (= x_i . w) -> loss terms into *loss_acc; when dz != nullptr, dz[i] = (sigmoid - y) / n.
// *correct_acc (if not null) counts (z + b > 0) == (y == 1).
Status LaunchLogisticRows(const float* z, float bias, const int32_t* labels, int64_t n, float* dz,
                          double* loss_acc, int64_t* correct_acc, void* stream);

// logits (n x k row-major, bias not yet added) -> adds the bias, loss terms into *loss_acc, and
// when want_grad, overwrites logits with dL/dlogits. *correct_acc (if not null) counts argmax
// (first maximum) == label.
Status LaunchSoftmaxRows(float* logits, const float* bias, const int32_t* labels, int64_t n,
                         int32_t k, bool want_grad, double* loss_acc, int64_t* correct_acc,
                         void* stream);

// out[c] = sum_i m[i * k + c] over n rows (column sums of a row-major n x k matrix).
Status LaunchColumnSums(const float* m, int64_t n, int32_t k, float* out, void* stream);
// *acc += sum v[i] (scale 1) or sum v[i]^2 (squares), in double.
Status LaunchSum(const float* v, size_t n, bool squares, double* acc, void* stream);
// y[i] = a * x[i]
Status LaunchScale(float* y, const float* x, float a, size_t n, void* stream);

// MLP hidden layer: z (n x s row-major) becomes max(z + b, 0) row by row (mlp.cc's forward).
Status LaunchBiasRelu(float* z, const float* bias, int64_t n, int32_t s, void* stream);
// MLP backward through a ReLU, in place of the activation: act[i] = act[i] > 0 ? prev[i] : 0 for
// i < count (the activation is positive exactly where the pre-activation was).
Status LaunchReluBackward(float* act, const float* prev, size_t count, void* stream);

}  // namespace hearsay::cuda
