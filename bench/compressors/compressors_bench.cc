// Codec throughput on one core, in GB/s of fp32 input (decode: GB/s of fp32 output), at 1M and
// 64M elements, beside memcpy (read + write of the same bytes) and a streaming read (sum of the
// floats) measured in the same run. After the table it prints one summary line per codec with
// its encode and decode throughput as a ratio to memcpy at the same size (with
// --benchmark_repetitions=N: the best of the N runs of each), and for each ef(C) its time as a
// multiple of C's.
//
// Every buffer is warm before timing starts, as in a peer that reuses its buffers every round:
// each benchmark encodes (or decodes) once untimed, so the output buffer, the codec's scratch and
// ef's residual are allocated and paged in; memcpy's destination is written before its loop.
// Large sizes run for at least 2 s, which is at least ~10 iterations of the slowest codec at 64M.
//
//   compressors_bench [--sizes=1M,64M] [google benchmark flags, e.g. --benchmark_filter=qsgd]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/random.h"
#include "compressors/compressor.h"

namespace {

using hearsay::ByteBuffer;
using hearsay::RngKey;

const std::vector<std::string> kSpecs = {"identity",
                                         "fp16",
                                         "bf16",
                                         "qsgd:8",
                                         "qsgd:4",
                                         "qsgd:2:norm=l2",
                                         "terngrad",
                                         "minmax8",
                                         "natural",
                                         "natural8",
                                         "natdither:4",
                                         "sign",
                                         "topk:0.01",
                                         "randk:0.01",
                                         "randk_unbiased:0.01",
                                         "then(topk:0.01,natural)",
                                         "ef(topk:0.01)",
                                         "ef(qsgd:4)",
                                         "ef(sign)",
                                         "ef(fp16)",
                                         "ef(natural)"};

std::string SizeName(size_t n) {
  return n % (1 << 20) == 0 ? std::to_string(n >> 20) + "M" : std::to_string(n);
}

// One shared input per size: Gaussian-like values from a fixed seed.
const std::vector<float>& Input(size_t n) {
  static std::map<size_t, std::vector<float>> inputs;
  auto& x = inputs[n];
  if (x.empty()) {
    x.resize(n);
    const RngKey k{42, 0, 0, hearsay::kStreamData, 0};
    for (size_t i = 0; i < n; ++i) {
      const uint32_t w = hearsay::WordAt(k, i);
      // Sum of four bytes, centred: cheap bell-shaped values with a sign.
      x[i] = (static_cast<float>((w & 255) + ((w >> 8) & 255) + ((w >> 16) & 255) + (w >> 24)) -
              510.0f) *
             0.01f;
    }
  }
  return x;
}

void SetThroughput(benchmark::State& state, size_t n) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n) * 4);
}

void BM_Memcpy(benchmark::State& state, size_t n) {
  const auto& x = Input(n);
  std::vector<float> y(n, 0.0f);
  for (auto _ : state) {
    std::memcpy(y.data(), x.data(), n * 4);
    benchmark::ClobberMemory();
  }
  SetThroughput(state, n);
}

void BM_StreamRead(benchmark::State& state, size_t n) {
  const auto& x = Input(n);
  for (auto _ : state) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      s0 += x[i];
      s1 += x[i + 1];
      s2 += x[i + 2];
      s3 += x[i + 3];
      s4 += x[i + 4];
      s5 += x[i + 5];
      s6 += x[i + 6];
      s7 += x[i + 7];
    }
    float s = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
    benchmark::DoNotOptimize(s);
  }
  SetThroughput(state, n);
}

void BM_Encode(benchmark::State& state, std::string spec, size_t n) {
  auto codec = std::move(hearsay::MakeCompressor(spec)).value();
  const auto& x = Input(n);
  ByteBuffer out;
  uint32_t round = 0;
  // Untimed warm-up: allocates and pages in the output and every scratch buffer.
  if (!codec->Encode(x, RngKey{7, 1, 0, 0, 0}, &out).ok()) state.SkipWithError("encode failed");
  for (auto _ : state) {
    out.clear();
    const RngKey key{7, 1, ++round, 0, 0};
    if (!codec->Encode(x, key, &out).ok()) state.SkipWithError("encode failed");
    benchmark::DoNotOptimize(out.data());
  }
  SetThroughput(state, n);
  state.counters["bits/elt"] = codec->BitsPerElement(n);
}

void BM_Decode(benchmark::State& state, std::string spec, size_t n) {
  auto codec = std::move(hearsay::MakeCompressor(spec)).value();
  const auto& x = Input(n);
  ByteBuffer bytes;
  const RngKey key{7, 1, 1, 0, 0};
  if (!codec->Encode(x, key, &bytes).ok()) state.SkipWithError("encode failed");
  std::vector<float> y(n);
  if (!codec->Decode(bytes, key, y).ok()) state.SkipWithError("decode failed");  // warm-up
  for (auto _ : state) {
    if (!codec->Decode(bytes, key, y).ok()) state.SkipWithError("decode failed");
    benchmark::ClobberMemory();
  }
  SetThroughput(state, n);
}

// Collects bytes/second of every run for the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      // With --benchmark_repetitions the summary keeps the best repetition (aggregates such as
      // _mean or _stddev are skipped): on a shared machine the best run is the least disturbed.
      auto it = r.counters.find("bytes_per_second");
      if (it == r.counters.end() || r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      double& rate = rates_[r.run_name.function_name];
      rate = std::max(rate, it->second.value);
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintSummary(const std::vector<size_t>& sizes) const {
    std::printf("\nSummary (GB/s of fp32 input; ratio = codec / memcpy at the same size)\n");
    for (size_t n : sizes) {
      const std::string sz = SizeName(n);
      const double mem = Rate("memcpy/" + sz), rd = Rate("stream_read/" + sz);
      std::printf("size %s: memcpy %.2f GB/s, stream read %.2f GB/s\n", sz.c_str(), mem / 1e9,
                  rd / 1e9);
      for (const std::string& spec : kSpecs) {
        const double e = Rate("encode/" + spec + "/" + sz), d = Rate("decode/" + spec + "/" + sz);
        if (e == 0 && d == 0) continue;
        std::printf(
            "  %-26s encode %6.2f GB/s (%5.2fx memcpy)  decode %6.2f GB/s (%5.2fx memcpy)\n",
            spec.c_str(), e / 1e9, mem > 0 ? e / mem : 0.0, d / 1e9, mem > 0 ? d / mem : 0.0);
      }
      for (const std::string& spec : kSpecs) {
        if (spec.rfind("ef(", 0) != 0) continue;
        const std::string inner = spec.substr(3, spec.size() - 4);
        const double e = Rate("encode/" + spec + "/" + sz), c = Rate("encode/" + inner + "/" + sz);
        if (e > 0 && c > 0) {
          std::printf("  %-26s encode time %.2fx %s's\n", spec.c_str(), c / e, inner.c_str());
        }
      }
    }
  }

 private:
  double Rate(const std::string& name) const {
    auto it = rates_.find(name);
    return it == rates_.end() ? 0.0 : it->second;
  }
  std::map<std::string, double> rates_;
};

std::vector<size_t> ParseSizes(int* argc, char** argv) {
  std::vector<size_t> sizes = {size_t{1} << 20, size_t{64} << 20};
  int w = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--sizes=", 0) == 0) {
      sizes.clear();
      std::string list = a.substr(8);
      size_t from = 0;
      while (from <= list.size()) {
        size_t comma = list.find(',', from);
        std::string item = list.substr(from, comma - from);
        size_t mult = 1;
        if (!item.empty() && (item.back() == 'M' || item.back() == 'K')) {
          mult = item.back() == 'M' ? (1 << 20) : (1 << 10);
          item.pop_back();
        }
        if (!item.empty()) sizes.push_back(std::stoull(item) * mult);
        if (comma == std::string::npos) break;
        from = comma + 1;
      }
    } else {
      argv[w++] = argv[i];
    }
  }
  *argc = w;
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<size_t> sizes = ParseSizes(&argc, argv);
  for (size_t n : sizes) {
    const std::string sz = SizeName(n);
    const double min_time = n >= (size_t{16} << 20) ? 2.0 : 0.3;
    benchmark::RegisterBenchmark(("memcpy/" + sz).c_str(), BM_Memcpy, n)->MinTime(min_time);
    benchmark::RegisterBenchmark(("stream_read/" + sz).c_str(), BM_StreamRead, n)
        ->MinTime(min_time);
    for (const std::string& spec : kSpecs) {
      benchmark::RegisterBenchmark(("encode/" + spec + "/" + sz).c_str(), BM_Encode, spec, n)
          ->MinTime(min_time)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("decode/" + spec + "/" + sz).c_str(), BM_Decode, spec, n)
          ->MinTime(min_time)
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary(sizes);
  benchmark::Shutdown();
  return 0;
}
