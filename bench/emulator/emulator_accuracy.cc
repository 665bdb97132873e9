// Emulator timing accuracy: requested (L + 8S/B, S in wire bytes) vs measured delivery time of
// one message over the emulated in-process transport, for a sweep of sizes, bandwidths and
// latencies. Prints a table with the relative error; the median of kRepeats sends per row.
//   usage: hearsay_bench_emulator_accuracy [--quick]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/clock.h"
#include "runtime/emulator/link_emulator.h"
#include "runtime/transport/frame.h"
#include "runtime/transport/inproc/inproc_transport.h"

namespace hearsay {
namespace {

class PairTopology final : public Topology {
 public:
  int size() const override { return 2; }
  const std::vector<Neighbor>& Row(int i, int64_t) const override { return rows_[i]; }
  const std::vector<int>& OutNeighbors(int i, int64_t) const override { return other_[i]; }
  const std::vector<int>& InNeighbors(int i, int64_t) const override { return other_[i]; }
  std::string Fingerprint() const override { return "pair"; }

 private:
  std::vector<std::vector<Neighbor>> rows_ = {{{0, 0.5}, {1, 0.5}}, {{0, 0.5}, {1, 0.5}}};
  std::vector<std::vector<int>> other_ = {{1}, {0}};
};

int Main(bool quick) {
  const std::vector<size_t> sizes = quick ? std::vector<size_t>{10000, 100000}
                                          : std::vector<size_t>{1000, 10000, 100000, 1000000};
  const std::vector<double> bandwidths = {10e6, 100e6, 1e9};
  const std::vector<double> latencies = {0.0, 0.005, 0.02};
  const int kRepeats = quick ? 3 : 5;
  std::printf("%10s %10s %9s %12s %12s %9s %9s\n", "bytes", "Mbit/s", "lat ms", "requested ms",
              "measured ms", "abs ms", "rel err");
  double worst = 0, sum = 0, worst_5ms = 0, sum_5ms = 0, worst_abs = 0;
  int rows = 0, rows_5ms = 0;
  for (double latency : latencies) {
    for (double bw : bandwidths) {
      for (size_t size : sizes) {
        auto spec = std::make_shared<TopologySpec>();
        spec->nodes.resize(2);
        spec->graph = std::make_shared<PairTopology>();
        spec->link_defaults.bandwidth_bps = bw;
        spec->link_defaults.latency_s = latency;
        InProcHub hub(2);
        auto a = MakeEmulatedTransport(hub.Endpoint(0), spec, 0, 1);
        auto b = MakeEmulatedTransport(hub.Endpoint(1), spec, 1, 1);
        (void)a->Start(DeadlineIn(1));
        (void)b->Start(DeadlineIn(1));
        std::vector<double> measured;
        double requested = 0;
        for (int r = 0; r < kRepeats; ++r) {
          Message m;
          m.to = 1;
          m.round = r + 1;
          m.payload.assign(size, 1);
          requested = latency + 8.0 * static_cast<double>(FrameWireBytes(m)) / bw;
          const TimePoint t0 = Now();
          (void)a->Send(std::move(m));
          Result<Message> got = b->Receive(DeadlineIn(60));
          measured.push_back(SecondsSince(t0));
          if (!got.ok())
            std::fprintf(stderr, "receive failed: %s\n", got.status().ToString().c_str());
        }
        std::sort(measured.begin(), measured.end());
        const double med = measured[measured.size() / 2];
        const double err = (med - requested) / requested;
        worst = std::max(worst, std::abs(err));
        sum += std::abs(err);
        ++rows;
        std::printf("%10zu %10.0f %9.1f %12.3f %12.3f %+9.3f %+8.2f%%\n", size, bw / 1e6,
                    latency * 1e3, requested * 1e3, med * 1e3, (med - requested) * 1e3, 100 * err);
        if (requested >= 0.005) {
          worst_5ms = std::max(worst_5ms, std::abs(err));
          sum_5ms += std::abs(err);
          ++rows_5ms;
        }
        worst_abs = std::max(worst_abs, std::abs(med - requested));
        (void)a->Shutdown(DeadlineIn(1));
        (void)b->Shutdown(DeadlineIn(1));
      }
    }
  }
  std::printf("all rows:              mean |rel err| %.2f%%, worst %.2f%% (%d rows)\n",
              100 * sum / rows, 100 * worst, rows);
  std::printf("requested >= 5 ms:     mean |rel err| %.2f%%, worst %.2f%% (%d rows)\n",
              100 * sum_5ms / std::max(1, rows_5ms), 100 * worst_5ms, rows_5ms);
  std::printf("worst absolute error:  %.3f ms (thread wake-ups; dominates sub-ms rows)\n",
              1e3 * worst_abs);
  return 0;
}

}  // namespace
}  // namespace hearsay

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  return hearsay::Main(quick);
}
