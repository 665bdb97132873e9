// cuda_bench: throughput of each CUDA kernel as a fraction of the device's copy bandwidth,
// measured by a device-to-device copy of the same size in the same run (issue 5 target: >= 0.7
// for encoders, decoders and the SGD update on 64M elements).
//
// Bandwidth = bytes the kernel must move (reads + writes) / time; fraction = that / copy
// bandwidth (2 x 4 bytes per element). For top-k the bytes counted are the same (input + payload)
// although the radix sort moves several times more. Then one peer round of a 10M-parameter MLP,
// GPU vs CPU (see MlpRound). Without a GPU it prints why and exits 0.
// Usage: cuda_bench [elements, default 67108864]
#include <cuda_runtime_api.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/cuda/cuda_device.h"
#include "compressors/compressor.h"
#include "compressors/cuda/cuda_codec.h"
#include "runtime/cuda/update_kernels.h"
#include "runtime/model/cuda/cuda_model.h"
#include "runtime/model/model.h"

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

double WallSeconds(const std::function<void()>& f, int reps) {
  f();  // warm-up (allocations, cuBLAS heuristics)
  const auto a = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) f();
  const auto b = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(b - a).count() / reps;
}

// One peer round of a D-PSGD/CHOCO-like peer with a 10M-parameter MLP (3000-2000-2000-10, ReLU,
// softmax), batch of 128 examples, codec qsgd:8, two ring neighbours:
//   gradient + SGD step, encode of the model, the payload crossing to the host and back (the
//   network), and decoding of two neighbour payloads fused with a weighted accumulation.
// GPU: parameters, batch and buffers in device memory; CPU: Mlp (Eigen) and the CPU codec.
// Both include everything above; neither includes the network itself.
void MlpRound() {
  hearsay::ModelConfig cfg;
  cfg.kind = "mlp";
  cfg.hidden = {2000, 2000};
  cfg.l2 = 1e-4;
  const int64_t d = 3000, rows = 128;
  const int32_t k = 10;
  auto cpu = hearsay::MakeModel(cfg, d, k);
  auto gpu = hc::MakeCudaModel(cfg, d, k, nullptr);
  CHECK_OK(cpu.status());
  CHECK_OK(gpu.status());
  const size_t p = (*cpu)->num_params();
  std::vector<float> params(p), grad(p), acc(p, 0.0f), tmp(p);
  (*cpu)->Init(1, params);
  std::vector<float> features(static_cast<size_t>(rows * d));
  for (size_t i = 0; i < features.size(); ++i)
    features[i] = std::sin(0.001f * static_cast<float>(i));
  std::vector<int32_t> labels(rows);
  for (int64_t i = 0; i < rows; ++i) labels[i] = static_cast<int32_t>(i % k);
  const hearsay::Batch batch{features.data(), labels.data(), rows, d};
  const char* spec = "qsgd:8";
  auto cpu_codec = hearsay::MakeCompressor(spec);
  auto gpu_codec = hc::CudaCodec::Make(spec);
  CHECK_OK(cpu_codec.status());
  CHECK_OK(gpu_codec.status());
  hearsay::RngKey key;
  key.seed = 3;
  const float lr = 1e-3f, w = 1.0f / 3.0f;

  hearsay::ByteBuffer out;
  const double cpu_s = WallSeconds(
      [&] {
        (void)(*cpu)->LossAndGradient(params, batch, grad);
        for (size_t i = 0; i < p; ++i) params[i] = params[i] - lr * grad[i];
        out.clear();
        CHECK_OK((*cpu_codec)->Encode(params, key, &out));
        for (int nb = 0; nb < 2; ++nb) {
          CHECK_OK((*cpu_codec)->Decode(out, key, tmp));
          for (size_t i = 0; i < p; ++i) acc[i] = acc[i] + w * tmp[i];
        }
      },
      2);

  hc::CudaBatch db;
  CHECK_OK(db.Upload(batch, nullptr));
  auto dp = hc::DeviceBuffer<float>::Create(p);
  auto dg = hc::DeviceBuffer<float>::Create(p);
  auto dacc = hc::DeviceBuffer<float>::Create(p);
  const size_t bytes = (*gpu_codec)->EncodedBytes(p);
  auto dmsg = hc::DeviceBuffer<uint8_t>::Create(bytes);
  auto din = hc::DeviceBuffer<uint8_t>::Create(bytes);
  auto derr = hc::DeviceBuffer<uint64_t>::Create(1);
  auto host = hc::PinnedBuffer<uint8_t>::Create(bytes);
  CHECK_OK(dp.status());
  CHECK_OK(dg.status());
  CHECK_OK(dacc.status());
  CHECK_OK(dmsg.status());
  CHECK_OK(din.status());
  CHECK_OK(derr.status());
  CHECK_OK(host.status());
  CHECK_OK(hc::CopyToDevice(dp->data(), params.data(), 4 * p, nullptr, "params"));
  CHECK_OK(hc::FillZero(dacc->data(), 4 * p, nullptr));
  hc::DecodeApply apply;
  apply.op = hc::DecodeApply::Op::kAddWeighted;
  apply.weight = w;
  const double gpu_s = WallSeconds(
      [&] {
        CHECK_OK((*gpu)->LossAndGradient(dp->data(), db.view(), dg->data()).status());
        CHECK_OK(hc::LaunchSgdUpdate(dp->data(), dg->data(), lr, p, nullptr));
        CHECK_OK(
            (*gpu_codec)->EncodeAsync(dp->data(), p, key, dmsg->data(), derr->data(), nullptr));
        CHECK_OK(hc::CopyToHost(host->data(), dmsg->data(), bytes, nullptr, "payload"));
        for (int nb = 0; nb < 2; ++nb) {
          CHECK_OK(hc::CopyToDevice(din->data(), host->data(), bytes, nullptr, "payload"));
          CHECK_OK((*gpu_codec)->DecodeAsync(din->data(), p, key, dacc->data(), apply, nullptr));
        }
        CHECK_OK(hc::CudaDeviceSynchronize());
      },
      5);
  std::printf("mlp peer round, %zu params, batch %lld, %s, 2 neighbours:\n", p,
              static_cast<long long>(rows), spec);
  std::printf("  CPU %10.3f ms   GPU %10.3f ms   speed-up %.1fx\n", cpu_s * 1e3, gpu_s * 1e3,
              cpu_s / gpu_s);
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
  for (const char* spec : {"fp16", "bf16", "qsgd:8", "qsgd:4", "qsgd:4:norm=l2", "terngrad",
                           "natural", "sign", "topk:0.01", "randk:0.01", "randk_unbiased:0.01",
                           "then(topk:0.01,natural)", "then(randk:0.01,qsgd:4)"}) {
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
  *x = hc::DeviceBuffer<float>();  // release the 64M-element buffers before the MLP round
  *y = hc::DeviceBuffer<float>();
  *g = hc::DeviceBuffer<float>();
  *msg = hc::DeviceBuffer<uint8_t>();
  MlpRound();
  return 0;
}
