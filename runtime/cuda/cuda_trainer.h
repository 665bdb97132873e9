// The CUDA device backend for the peer loop (`device: cuda` / `cuda:N`).
//
// RegisterCudaBackend() installs a DeviceTrainerFactory (runtime/peer/device_backend.h) whose
// trainers keep parameters, gradients and replicas on the GPU: each round uploads the minibatch,
// computes loss and gradient with the CUDA model (cuBLAS), and runs the algorithm's Begin on the
// device; only encoded bytes cross to the host. A machine without a usable GPU fails at start
// with the message of CheckCudaDevice. `hearsay` gets here through the plugin's entry point
// (plugin.cc), loaded on demand; programs that link hearsay::cuda call RegisterCudaBackend
// themselves. Thread-safety: call RegisterCudaBackend once, before peers start.
#pragma once

namespace hearsay::cuda {

void RegisterCudaBackend();

}  // namespace hearsay::cuda
