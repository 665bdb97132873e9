// CudaAlgorithm: D-PSGD, DCD, ECD and CHOCO (ALGORITHMS.md) with the model and all replicas in
// device memory; only encoded bytes cross to the host. It implements the Algorithm interface of
// runtime/algorithms/algorithm.h, with the same protocol, errors and keys, so the peer can use it
// in place of MakeAlgorithm's result; with the same inputs every state vector and every payload
// is bit-identical to the CPU algorithm's (the kernels mirror its arithmetic, the codecs are
// byte-exact; tests/cuda/cuda_algorithm_test.cc checks both).
//
// Device-resident use (the GPU peer loop):
//   g = gpu_model.LossAndGradient(algo.device_params(), ...)      // into a device buffer
//   algo.BeginDevice(t, d_grad, lr, &out)      // fused mix/update kernels, encode, D2H via pinned
//   algo.Absorb(t, j, payload_j) ...           // host validation, pinned H2D, fused decode+update
//   algo.End(t)
// Absorb copies through two pinned slots, so the copy of one payload overlaps the decode of the
// previous one; End waits for the stream.
//
// params() is a host mirror of the device model, refreshed by End() (and at construction); the
// device copy is authoritative. After writing into params() call UploadParams(). Begin() with a
// host gradient uploads it first (convenience for the CPU-model path).
//
// Codecs: those with a CudaCodec (cuda_codec.h). Make returns Unimplemented for the others.
// Ownership: owns its device buffers, pinned slots and stream. Thread-safety: none; one peer's
// compute thread owns it (the current CUDA device must be the one it was made on).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/algorithms/algorithm.h"

namespace hearsay::cuda {

class CudaAlgorithm : public Algorithm {
 public:
  // Same arguments, checks and messages as MakeAlgorithm, plus the device index (cuda:N). Fails
  // with FailedPrecondition when the device is not usable (CheckCudaDevice).
  static Result<std::unique_ptr<CudaAlgorithm>> Make(const AlgorithmConfig& config,
                                                     std::shared_ptr<const Topology> topology,
                                                     int self, std::span<const float> x0,
                                                     std::unique_ptr<Compressor> compressor,
                                                     int device = 0);
  ~CudaAlgorithm() override;

  // The round with the gradient already on the device (d floats; it is read or copied by work
  // enqueued on stream() during this call, so it may be reused once that work has run).
  virtual Status BeginDevice(int64_t round, const float* grad, float lr, ByteBuffer* out) = 0;

  // Device pointer to x_i (d floats) and the stream every kernel of this peer runs on.
  virtual float* device_params() = 0;
  virtual void* stream() const = 0;
  // Copies the host mirror params() to the device (after the caller edited it).
  virtual Status UploadParams() = 0;
};

}  // namespace hearsay::cuda
