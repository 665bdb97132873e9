// cuda_bench: throughput of each CUDA kernel as a fraction of the device's copy bandwidth,
// measured by a device-to-device copy of the same size in the same run (issue 5 target: >= 0.7
// for encoders, decoders and the SGD update on 64M elements).
//
// Bandwidth = bytes the kernel must move (reads + writes) / time; fraction = that / copy
// bandwidth (2 x 4 bytes per element). Without a GPU it prints why and exits 0.
// Usage: cuda_bench [elements, default 67108864]
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "compressors/cuda/cuda_codec.h"
#include "runtime/cuda/cuda_device.h"
#include "runtime/cuda/update_kernels.h"

namespace hc = hearsay::cuda;

namespace {

#define CHECK_OK(expr)                                                \
  do {                                                                \
    ::hearsay::Status _s = (expr);                                    \
    if (!_s.ok()) {                                                   \
      std::fprintf(stderr, "%s: %s\n", #expr, _s.ToString().c_str()); \
      std::exit(1);                                                   \
    }                                                                 \
  } while (0)

// Median-free simple timing: warm up once, then the mean of `reps` runs, in seconds.
double Time(const std::function<void()>& f, int reps = 10) {
  f();
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  cudaEventRecord(a);
  for (int i = 0; i < reps; ++i) f();
  cudaEventRecord(b);
  cudaEventSynchronize(b);
  float ms = 0;
  cudaEventElapsedTime(&ms, a, b);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms / 1e3 / reps;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : size_t{1} << 26;
  auto count = hc::CudaDeviceCount();
  if (!count.ok() || *count == 0) {
    std::printf("cuda_bench: no usable CUDA device (%s); nothing measured\n",
                count.ok() ? "0 devices" : count.status().ToString().c_str());
    return 0;
  }
  auto desc = hc::DescribeCudaDevice(0);
  std::printf("device: %s, %zu elements\n", desc.ok() ? desc->c_str() : "?", n);
  auto x = hc::DeviceBuffer<float>::Create(n);
  auto y = hc::DeviceBuffer<float>::Create(n);
  auto g = hc::DeviceBuffer<float>::Create(n);
  auto msg = hc::DeviceBuffer<uint8_t>::Create(8 * n + 64);
  auto err = hc::DeviceBuffer<uint64_t>::Create(1);
  if (!x.ok() || !y.ok() || !g.ok() || !msg.ok() || !err.ok()) {
    std::fprintf(stderr, "allocation failed\n");
    return 1;
  }
  // Non-zero input: a ramp through the copy + SGD kernels (cheap and deterministic).
  std::vector<float> h(n);
  for (size_t i = 0; i < n; ++i) h[i] = static_cast<float>((i % 1999) - 999) * 1e-3f;
  CHECK_OK(hc::CopyToDevice(x->data(), h.data(), 4 * n, nullptr, "x"));
  CHECK_OK(hc::CopyToDevice(g->data(), h.data(), 4 * n, nullptr, "g"));
  CHECK_OK(hc::CudaDeviceSynchronize());

  const double copy_s = Time(
      [&] { cudaMemcpyAsync(y->data(), x->data(), 4 * n, cudaMemcpyDeviceToDevice, nullptr); });
  const double copy_bw = 8.0 * n / copy_s;
  std::printf("%-28s %10.3f ms %8.1f GB/s  fraction 1.00 (baseline)\n", "d2d copy", copy_s * 1e3,
              copy_bw / 1e9);
  auto report = [&](const std::string& name, double bytes, double s) {
    std::printf("%-28s %10.3f ms %8.1f GB/s  fraction %.2f\n", name.c_str(), s * 1e3,
                bytes / s / 1e9, bytes / s / copy_bw);
  };

  report("sgd update", 12.0 * n,
         Time([&] { CHECK_OK(hc::LaunchSgdUpdate(y->data(), g->data(), 1e-9f, n, nullptr)); }));
  const float* srcs[3] = {x->data(), y->data(), g->data()};
  const float w[3] = {1.0f / 3, 1.0f / 3, 1.0f / 3};
  report("weighted mix (3 sources)", 16.0 * n, Time([&] {
           CHECK_OK(hc::LaunchWeightedMix(
               msg.ok() ? reinterpret_cast<float*>(msg->data()) : nullptr, srcs, w, n, nullptr));
         }));
  hearsay::RngKey key;
  key.seed = 1;
  for (const char* spec : {"fp16", "bf16", "qsgd:8", "qsgd:4", "qsgd:4:norm=l2", "terngrad"}) {
    auto codec = hc::CudaCodec::Make(spec);
    CHECK_OK(codec.status());
    const double bytes_out = static_cast<double>((*codec)->EncodedBytes(n));
    report(std::string("encode ") + spec, 4.0 * n + bytes_out, Time([&] {
             CHECK_OK((*codec)->EncodeAsync(x->data(), n, key, msg->data(), err->data(), nullptr));
           }));
    report(std::string("decode ") + spec, 4.0 * n + bytes_out, Time([&] {
             CHECK_OK(
                 (*codec)->DecodeAsync(msg->data(), n, key, y->data(), hc::DecodeApply{}, nullptr));
           }));
  }
  std::printf("mlp peer round (GPU vs CPU): not measured; the MLP has no CUDA twin yet\n");
  return 0;
}
