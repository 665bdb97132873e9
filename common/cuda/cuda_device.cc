// Device query and RAII owners of cuda_device.h, on the CUDA runtime API.
#include "common/cuda/cuda_device.h"

#include <cuda_runtime_api.h>

#include <cstdio>

#include "common/cuda/cuda_check.h"

namespace hearsay::cuda {

Result<int> CudaDeviceCount() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  // Without a driver the runtime reports InsufficientDriver, not NoDevice: both mean "no GPU".
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice) {
    (void)cudaGetLastError();  // clear it so later calls on this thread do not see it
    return 0;
  }
  if (e != cudaSuccess) return CudaStatus(e, "cudaGetDeviceCount");
  return n;
}

Status CheckCudaDevice(int index) {
  const std::string name = "device cuda:" + std::to_string(index);
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return FailedPrecondition(name + " requested but no usable GPU: " + cudaGetErrorString(e) +
                              " (" + cudaGetErrorName(e) + ")");
  }
  if (n == 0) return FailedPrecondition(name + " requested but no usable GPU: no CUDA device");
  if (index < 0 || index >= n) {
    return FailedPrecondition(name + " requested but this machine has " + std::to_string(n) +
                              " CUDA device(s) (cuda:0..cuda:" + std::to_string(n - 1) + ")");
  }
  int previous = 0;
  (void)cudaGetDevice(&previous);
  cudaError_t s = cudaSetDevice(index);
  if (s == cudaSuccess) s = cudaFree(nullptr);  // forces context creation
  (void)cudaSetDevice(previous);
  if (s != cudaSuccess) {
    (void)cudaGetLastError();
    return FailedPrecondition(name + " requested but no usable GPU: " + cudaGetErrorString(s) +
                              " (" + cudaGetErrorName(s) + ")");
  }
  return Status::Ok();
}

Status UseCudaDevice(int index) {
  return CudaStatus(cudaSetDevice(index), "cudaSetDevice(" + std::to_string(index) + ")");
}

Result<std::string> DescribeCudaDevice(int index) {
  cudaDeviceProp p{};
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&p, index), "cudaGetDeviceProperties");
  char buf[400];
  std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.0f GiB, %d SMs)", p.name, p.major, p.minor,
                static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0),
                p.multiProcessorCount);
  return std::string(buf);
}

Status CudaDeviceSynchronize() {
  return CudaStatus(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

Result<CudaStream> CudaStream::Create() {
  cudaStream_t s = nullptr;
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking),
                               "cudaStreamCreate");
  return CudaStream(s);
}

CudaStream::~CudaStream() {
  if (s_ != nullptr) (void)cudaStreamDestroy(static_cast<cudaStream_t>(s_));
}

CudaStream& CudaStream::operator=(CudaStream&& o) noexcept {
  if (this != &o) {
    if (s_ != nullptr) (void)cudaStreamDestroy(static_cast<cudaStream_t>(s_));
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

Status CudaStream::Synchronize() const {
  return CudaStatus(cudaStreamSynchronize(static_cast<cudaStream_t>(s_)), "cudaStreamSynchronize");
}

namespace detail {

Result<void*> DeviceAlloc(size_t bytes) {
  if (bytes == 0) return static_cast<void*>(nullptr);
  void* p = nullptr;
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaMalloc(&p, bytes),
                               "cudaMalloc of " + std::to_string(bytes) + " bytes");
  return p;
}
void DeviceFree(void* p) {
  if (p != nullptr) (void)cudaFree(p);
}
Result<void*> PinnedAlloc(size_t bytes) {
  if (bytes == 0) return static_cast<void*>(nullptr);
  void* p = nullptr;
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaMallocHost(&p, bytes),
                               "cudaMallocHost of " + std::to_string(bytes) + " bytes");
  return p;
}
void PinnedFree(void* p) {
  if (p != nullptr) (void)cudaFreeHost(p);
}

}  // namespace detail

namespace {
Status Copy(void* dst, const void* src, size_t bytes, void* stream, cudaMemcpyKind kind,
            const char* what) {
  if (bytes == 0) return Status::Ok();
  return CudaStatus(cudaMemcpyAsync(dst, src, bytes, kind, static_cast<cudaStream_t>(stream)),
                    std::string("copy of ") + what);
}
}  // namespace

Status CopyToDevice(void* dst, const void* src, size_t bytes, void* stream, const char* what) {
  return Copy(dst, src, bytes, stream, cudaMemcpyHostToDevice, what);
}
Status CopyToHost(void* dst, const void* src, size_t bytes, void* stream, const char* what) {
  return Copy(dst, src, bytes, stream, cudaMemcpyDeviceToHost, what);
}
Status CopyDeviceToDevice(void* dst, const void* src, size_t bytes, void* stream,
                          const char* what) {
  return Copy(dst, src, bytes, stream, cudaMemcpyDeviceToDevice, what);
}
Status FillZero(void* dst, size_t bytes, void* stream) {
  if (bytes == 0) return Status::Ok();
  return CudaStatus(cudaMemsetAsync(dst, 0, bytes, static_cast<cudaStream_t>(stream)),
                    "cudaMemsetAsync");
}

}  // namespace hearsay::cuda
