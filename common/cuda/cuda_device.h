// CUDA device plumbing for the GPU backend (issue 5): device query, streams, device and pinned
// host buffers. Plain C++: no CUDA header is needed to include this file; streams travel as an
// opaque `void*` (a cudaStream_t) so launcher headers stay free of CUDA types (STYLE.md).
//
// Ownership: CudaStream, DeviceBuffer<T> and PinnedBuffer<T> are move-only RAII owners; they free
// their resource in the destructor (errors there are ignored: a destructor cannot report them).
// Device memory comes from plain cudaMalloc (never managed memory); pinned host memory from
// cudaMallocHost, so copies on a stream are truly asynchronous and overlap kernels.
// Every allocation happens on the device current for the calling thread (see UseCudaDevice).
//
// Thread-safety: the free functions are thread-safe. Objects are not: one owner thread (the
// peer's compute thread) uses each stream and buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "common/status.h"

namespace hearsay::cuda {

// Number of usable CUDA devices. A machine without a driver (cudaErrorInsufficientDriver,
// cudaErrorNoDevice) has zero devices: that is not an error. Other runtime errors are Internal.
Result<int> CudaDeviceCount();

// Ok when device `index` exists and a context can be created on it; otherwise a
// FailedPrecondition such as "device cuda:0 requested but no usable GPU: CUDA driver version is
// insufficient for CUDA runtime version (cudaErrorInsufficientDriver)".
Status CheckCudaDevice(int index);

// Makes `index` the calling thread's current device (after CheckCudaDevice).
Status UseCudaDevice(int index);

// "name (sm_90, 80 GiB, 132 SMs)" of device `index`, or the error.
Result<std::string> DescribeCudaDevice(int index);

// Waits for all work on the current device (tests and benchmarks).
Status CudaDeviceSynchronize();

// A non-blocking CUDA stream on the current device.
class CudaStream {
 public:
  static Result<CudaStream> Create();
  CudaStream() = default;  // the null handle; usable only after Create
  ~CudaStream();
  CudaStream(CudaStream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  CudaStream& operator=(CudaStream&& o) noexcept;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;

  void* handle() const { return s_; }  // the cudaStream_t
  Status Synchronize() const;

 private:
  explicit CudaStream(void* s) : s_(s) {}
  void* s_ = nullptr;
};

// Raw owners, typed by the templates below.
namespace detail {
Result<void*> DeviceAlloc(size_t bytes);  // cudaMalloc; 0 bytes gives nullptr
void DeviceFree(void* p);
Result<void*> PinnedAlloc(size_t bytes);  // cudaMallocHost; 0 bytes gives nullptr
void PinnedFree(void* p);
}  // namespace detail

// Copies on `stream` (a cudaStream_t; nullptr = legacy default stream). Async with respect to the
// host when host memory is pinned. Errors name `what`.
Status CopyToDevice(void* dst, const void* src, size_t bytes, void* stream, const char* what);
Status CopyToHost(void* dst, const void* src, size_t bytes, void* stream, const char* what);
Status CopyDeviceToDevice(void* dst, const void* src, size_t bytes, void* stream, const char* what);
Status FillZero(void* dst, size_t bytes, void* stream);

// n elements of T in device memory.
template <typename T>
class DeviceBuffer {
 public:
  static Result<DeviceBuffer> Create(size_t n) {
    HEARSAY_ASSIGN_OR_RETURN(void* p, detail::DeviceAlloc(n * sizeof(T)));
    return DeviceBuffer(static_cast<T*>(p), n);
  }
  DeviceBuffer() = default;
  ~DeviceBuffer() { detail::DeviceFree(p_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      detail::DeviceFree(p_);
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }
  size_t bytes() const { return n_ * sizeof(T); }

 private:
  DeviceBuffer(T* p, size_t n) : p_(p), n_(n) {}
  T* p_ = nullptr;
  size_t n_ = 0;
};

// n elements of T in page-locked host memory (fast, asynchronous copies).
template <typename T>
class PinnedBuffer {
 public:
  static Result<PinnedBuffer> Create(size_t n) {
    HEARSAY_ASSIGN_OR_RETURN(void* p, detail::PinnedAlloc(n * sizeof(T)));
    return PinnedBuffer(static_cast<T*>(p), n);
  }
  PinnedBuffer() = default;
  ~PinnedBuffer() { detail::PinnedFree(p_); }
  PinnedBuffer(PinnedBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      detail::PinnedFree(p_);
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }
  size_t bytes() const { return n_ * sizeof(T); }

 private:
  PinnedBuffer(T* p, size_t n) : p_(p), n_(n) {}
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace hearsay::cuda
