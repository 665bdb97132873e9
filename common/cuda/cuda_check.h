// CUDA error -> Status, for the .cc/.cu files of the CUDA backend (not a public header: it
// includes the CUDA runtime API, which the plain-C++ launcher headers must not).
// Thread-safety: pure functions. Note: cudaGetLastError reads and clears the calling thread's
// sticky-free error state, so a launch check must run right after the launch on the same thread.
#pragma once

#include <cuda_runtime_api.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace hearsay::cuda {

// "what: <description> (<cudaErrorName>)" as Internal, or Ok for cudaSuccess.
inline Status CudaStatus(cudaError_t e, std::string_view what) {
  if (e == cudaSuccess) return Status::Ok();
  return Internal(std::string(what) + ": " + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) +
                  ")");
}

// Status of the last kernel launch on this thread (configuration errors, missing device code).
inline Status LaunchStatus(std::string_view kernel) {
  return CudaStatus(cudaGetLastError(), std::string("launch of ") + std::string(kernel));
}

}  // namespace hearsay::cuda

#define HEARSAY_CUDA_RETURN_IF_ERROR(expr, what) \
  HEARSAY_RETURN_IF_ERROR(::hearsay::cuda::CudaStatus((expr), (what)))
