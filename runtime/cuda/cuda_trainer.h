// The CUDA device backend for the peer loop (`device: cuda` / `cuda:N`).
//
// RegisterCudaBackend() installs a DeviceTrainerFactory (runtime/peer/device_backend.h) whose
// trainers keep parameters, gradients and replicas on the GPU: each round uploads the minibatch,
// computes loss and gradient with the CUDA model (cuBLAS), and runs the algorithm's Begin on the
// device; only encoded bytes cross to the host. A machine without a usable GPU fails at start
// with the message of CheckCudaDevice. Thread-safety: call RegisterCudaBackend once at start.
#pragma once

namespace hearsay::cuda {

void RegisterCudaBackend();

}  // namespace hearsay::cuda
