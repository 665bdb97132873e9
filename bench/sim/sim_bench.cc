// Simulator throughput (issue 12 "Benchmark"): simulated peer-rounds per second of CPU time for
// 64, 1024 and 4096 peers (logistic d = 50; softmax 256 x 10), one core, and how much faster than
// real time the simulation runs on a 20 ms network. Prints a table; the baseline is the virtual
// time itself (speed-up = virtual seconds / CPU seconds).
//
//   hearsay_bench_sim [--peers 64,1024,4096] [--rounds R] [--graph ring|exponential|regular4]
//                     [--model logistic|softmax]   (default: both)
#include <sys/resource.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/peer/experiment.h"
#include "runtime/sim/simulator.h"

namespace {

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double RssMb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return static_cast<double>(resident) * 4096.0 / 1e6;
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoi(item));
  return out;
}

struct Case {
  const char* model;
  int features, classes;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> peers = {64, 1024, 4096};
  int64_t rounds = 200;
  std::string graph = "ring";
  std::string model;  // "" = both
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--peers") peers = ParseList(argv[i + 1]);
    if (a == "--rounds") rounds = std::atoll(argv[i + 1]);
    if (a == "--graph") graph = argv[i + 1];
    if (a == "--model") model = argv[i + 1];
  }
  std::vector<Case> cases;
  for (const Case& c : {Case{"logistic", 50, 2}, Case{"softmax", 256, 10}}) {
    if (model.empty() || model == c.model) cases.push_back(c);
  }
  std::printf("graph %s, %lld rounds, DCD qsgd:8, links 20 Mbit/s 20 ms, compute_time 1 ms\n",
              graph.c_str(), static_cast<long long>(rounds));
  std::printf("%6s %-9s %6s %12s %9s %15s %10s %9s %12s %12s\n", "peers", "model", "d",
              "peer-rounds", "cpu s", "peer-rounds/s", "virtual s", "x real", "KB/peer",
              "queue/peer");
  for (const Case& c : cases) {
    for (int n : peers) {
      char dir[] = "/tmp/hearsay_sim_bench_XXXXXX";
      if (mkdtemp(dir) == nullptr) return 2;
      const std::string topo = std::string(dir) + "/topo.yaml";
      std::string gen = graph == "regular4"      ? "{kind: random_regular, degree: 4, seed: 1}"
                        : graph == "exponential" ? "{kind: exponential}"
                                                 : "{kind: ring}";
      std::ofstream(topo) << "nodes: " << n << "\nbase_port: 20000\ngenerator: " << gen
                          << "\nweights: metropolis\nlinks:\n  default: {bandwidth: 20Mbit, "
                             "latency: 20ms}\n";
      const std::string exp_path = std::string(dir) + "/exp.yaml";
      std::ofstream(exp_path) << "topology: topo.yaml\nmodel: {kind: " << c.model
                              << "}\ndata: {kind: synthetic, samples: " << 64 * n
                              << ", features: " << c.features << ", classes: " << c.classes
                              << ", seed: 1}\nrounds: " << rounds
                              << "\nbatch_size: 16\nlr: 0.1\neval_every: " << rounds
                              << "\nalgorithm: dcd\ncompressor: \"qsgd:8\"\ncompute_time: 0.001\n";
      auto exp = hearsay::LoadExperiment(exp_path);
      if (!exp.ok()) {
        std::fprintf(stderr, "%s\n", exp.status().ToString().c_str());
        return 2;
      }
      auto workload = hearsay::BuildWorkload(exp->runs.front(), n);
      if (!workload.ok()) {
        std::fprintf(stderr, "%s\n", workload.status().ToString().c_str());
        return 2;
      }
      hearsay::SimOptions o;
      o.run = exp->runs.front();
      o.topology = exp->topology;
      o.workload = std::make_shared<hearsay::Workload>(std::move(workload).value());
      o.keep_snapshots = false;
      const double rss0 = RssMb();
      const double cpu0 = CpuSeconds();
      auto r = hearsay::Simulate(o);
      const double cpu = CpuSeconds() - cpu0;
      const double rss = RssMb() - rss0;
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        return 2;
      }
      const size_t d = o.workload->model->num_params();
      std::printf("%6d %-9s %6zu %12lld %9.2f %15.0f %10.1f %9.0f %12.1f %12.1f\n", n, c.model, d,
                  static_cast<long long>(r->peer_rounds), cpu,
                  static_cast<double>(r->peer_rounds) / cpu, r->virtual_seconds,
                  r->virtual_seconds / cpu, rss * 1e3 / n,
                  static_cast<double>(r->peak_queued_events) / n);
      std::string rm = std::string("rm -rf ") + dir;
      (void)std::system(rm.c_str());
    }
  }
  return 0;
}
