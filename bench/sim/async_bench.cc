// Asynchronous runs against synchronous ones (issue 10 "Benchmark"), in the simulator (virtual
// time, one core per peer: this host has 2 cores for 8 peers, which would measure contention
// rather than the protocol), plus the overlap of computation and communication measured in real
// time with 2 in-process peers.
//
// Table 1, straggler (AD-PSGD twice: wait-free steps, the default, and `adpsgd_wait: reply`, mode
// column "reply"): 8 peers on a ring of 20 Mbit/s, 20 ms links, node 3 at slowdown 4, a local
// step that costs about one message transfer. Target = the average-model loss that sync reaches
// after R rounds; each configuration then runs bounded by time, evaluated on a time grid, and we
// report the virtual time at which the average model first reaches the target, and its ratio to
// sync's.
// Table 2, jitter: no straggler, 10 ms of uniform jitter per message; time per round.
// Table 3, overlap: round time / max(compute, communication) with 2 peers in real time.
//
//   hearsay_bench_async [--rounds R] [--overlap-batch B]   (B: Table 3's batch, default 256)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime/emulator/link_emulator.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/peer.h"
#include "runtime/sim/simulator.h"
#include "runtime/transport/inproc/inproc_transport.h"

namespace hearsay {
namespace {

struct Setup {
  std::string dir;
  Experiment exp;
  std::shared_ptr<const Workload> workload;
};

Setup Make(const std::string& links, const std::string& run_keys, int n, double slowdown,
           int features = 512, int batch = 32) {
  char tmpl[] = "/tmp/hearsay_async_bench_XXXXXX";
  Setup s;
  s.dir = mkdtemp(tmpl);
  std::ofstream(s.dir + "/topo.yaml")
      << "nodes: " << n << "\nbase_port: 31000\ngenerator: {kind: ring}\nweights: metropolis\n"
      << "links:\n  default: {" << links << "}\n";
  std::ofstream(s.dir + "/exp.yaml")
      << "topology: topo.yaml\nmodel: {kind: softmax, l2: 1.0e-4}\n"
      << "data: {kind: synthetic, samples: 16000, features: " << features
      << ", classes: 10, seed: 7, noise: 0.05, separation: 3.0}\n"
      << "batch_size: " << batch << "\nlr: 0.2\nseed: 3\n"
      << run_keys;
  auto e = LoadExperiment(s.dir + "/exp.yaml");
  if (!e.ok()) {
    std::fprintf(stderr, "%s\n", e.status().ToString().c_str());
    std::exit(2);
  }
  s.exp = std::move(e).value();
  if (slowdown > 1) {
    auto spec = std::make_shared<TopologySpec>(*s.exp.topology);
    spec->nodes[3].slowdown = slowdown;
    s.exp.topology = spec;
  }
  auto w = BuildWorkload(s.exp.runs.front(), n);
  if (!w.ok()) std::exit(2);
  s.workload = std::make_shared<Workload>(std::move(w).value());
  return s;
}

SimResult Sim(const Setup& s, const RunConfig& run) {
  SimOptions o;
  o.run = run;
  o.topology = s.exp.topology;
  o.workload = s.workload;
  auto r = Simulate(o);
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", run.name.c_str(), r.status().ToString().c_str());
    std::exit(2);
  }
  return std::move(r).value();
}

// Earliest virtual time at which the average model's loss is <= target (time-grid points);
// NaN if never.
double TimeToTarget(const SimResult& r, double target) {
  for (const SimEvalPoint& e : r.evals) {
    if (e.key.kind == SnapshotKey::Kind::kTime && e.train_loss <= target) return e.wall_s;
  }
  return NAN;
}

}  // namespace
}  // namespace hearsay

int main(int argc, char** argv) {
  using namespace hearsay;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  int64_t rounds = 100;
  int overlap_batch = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--rounds") rounds = std::atoll(argv[i + 1]);
    if (std::string(argv[i]) == "--overlap-batch") overlap_batch = std::atoi(argv[i + 1]);
  }
  // A local step of 25 ms (virtual) against a message's 20 ms latency plus 2-8 ms of transfer
  // (DCD qsgd:8 ~5.8 KB, D-PSGD fp32 ~20 KB at 20 Mbit/s): about as much computation as transfer.
  const double compute = 0.025;
  const std::string links = "bandwidth: 20Mbit, latency: 20ms";
  char keys[256];
  std::snprintf(keys, sizeof(keys), "compute_time: %g\neval_every: %lld\n", compute,
                static_cast<long long>(rounds));
  Setup s = Make(links, keys, 8, 4.0);
  std::printf(
      "Table 1: 8-peer ring, 20 Mbit/s 20 ms, node 3 at slowdown 4, compute %g s/step;\n"
      "target = sync's average-model loss after %lld rounds (simulator, virtual time)\n",
      compute, static_cast<long long>(rounds));
  std::printf("%-10s %-8s %-10s %12s %9s %10s\n", "algorithm", "mode", "staleness",
              "time to "
              "target",
              "x sync", "loss@end");
  struct Config {
    const char* algorithm;
    const char* compressor;
  };
  const std::vector<Config> algos = {{"dpsgd", "identity"}, {"dcd", "qsgd:8"}, {"choco", "qsgd:4"}};
  for (const Config& a : algos) {
    RunConfig sync = s.exp.runs.front();
    sync.algorithm = ParseAlgorithm(a.algorithm).value();
    sync.compressor = a.compressor;
    sync.rounds = rounds;
    const SimResult base = Sim(s, sync);
    const double target = base.evals.back().train_loss;
    // The same sync run on a time grid gives its time to target too.
    RunConfig timed = sync;
    timed.rounds = INT64_MAX;
    timed.duration_s = base.virtual_seconds * 1.2;
    timed.eval_every_s = base.virtual_seconds / 50;
    timed.eval_every = INT64_MAX / 2;
    const double t_sync = TimeToTarget(Sim(s, timed), target);
    std::printf("%-10s %-8s %-10s %11.2fs %9.2f %10.4f\n", a.algorithm, "sync", "-", t_sync, 1.0,
                target);
    for (int64_t tau : {int64_t{2}, int64_t{8}, kUnboundedStaleness}) {
      RunConfig run = timed;
      run.mode = RunMode::kAsync;
      run.staleness = tau;
      const SimResult r = Sim(s, run);
      const double t = TimeToTarget(r, target);
      std::printf("%-10s %-8s %-10s %11.2fs %9.2f %10.4f\n", a.algorithm, "async",
                  tau == kUnboundedStaleness ? "unbounded" : std::to_string(tau).c_str(), t,
                  t / t_sync, r.evals.back().train_loss);
    }
    if (std::string(a.algorithm) == "dpsgd") {
      RunConfig ad = timed;
      ad.algorithm = AlgorithmKind::kAdpsgd;
      const SimResult r = Sim(s, ad);
      const double t = TimeToTarget(r, target);
      std::printf("%-10s %-8s %-10s %11.2fs %9.2f %10.4f\n", "adpsgd", "async", "-", t, t / t_sync,
                  r.evals.back().train_loss);
      ad.adpsgd_wait_reply = true;  // one average per step
      const SimResult w = Sim(s, ad);
      const double tw = TimeToTarget(w, target);
      std::printf("%-10s %-8s %-10s %11.2fs %9.2f %10.4f\n", "adpsgd", "reply", "-", tw,
                  tw / t_sync, w.evals.back().train_loss);
    }
  }

  std::printf("\nTable 2: no straggler, 10 ms uniform jitter per message; time per round\n");
  std::printf("%-10s %12s %12s %9s\n", "algorithm", "sync s/rnd", "tau=2 s/rnd", "ratio");
  Setup j = Make(links + ", jitter: 10ms", keys, 8, 1.0);
  for (const Config& a : algos) {
    RunConfig sync = j.exp.runs.front();
    sync.algorithm = ParseAlgorithm(a.algorithm).value();
    sync.compressor = a.compressor;
    sync.rounds = rounds;
    RunConfig async = sync;
    async.mode = RunMode::kAsync;
    async.staleness = 2;
    const double ts = Sim(j, sync).virtual_seconds / static_cast<double>(rounds);
    const double ta = Sim(j, async).virtual_seconds / static_cast<double>(rounds);
    std::printf("%-10s %12.4f %12.4f %9.2f\n", a.algorithm, ts, ta, ta / ts);
  }

  // Table 3: real time, 2 in-process peers (one core each), compute about equal to comm.
  std::printf(
      "\nTable 3: overlap, 2 peers in real time, 100 Mbit/s 5 ms link, softmax 4096x10, "
      "batch %d\n",
      overlap_batch);
  std::printf("%-10s %12s %12s %12s %9s\n", "algorithm", "compute s", "comm s", "round s",
              "round/max");
  Setup o = Make("bandwidth: 100Mbit, latency: 5ms", "rounds: 60\n", 2, 1.0, 4096, overlap_batch);
  for (const Config& a : algos) {
    RunConfig run = o.exp.runs.front();
    run.algorithm = ParseAlgorithm(a.algorithm).value();
    run.compressor = a.compressor;
    run.name = a.algorithm;
    InProcHub hub(2);
    std::vector<std::unique_ptr<Transport>> ts;
    for (int i = 0; i < 2; ++i) {
      ts.push_back(MakeEmulatedTransport(hub.Endpoint(i), o.exp.topology, i, run.seed));
    }
    std::vector<std::thread> threads;
    std::vector<Status> status(2);
    const std::string out = o.dir + "/" + a.algorithm;
    const TimePoint epoch = Now();
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        PeerOptions po;
        po.id = i;
        po.run = run;
        po.topology = o.exp.topology;
        po.workload = o.workload;
        po.out_dir = out;
        po.epoch = epoch;
        Peer peer(std::move(po));
        status[i] = peer.Run(*ts[i]);
      });
    }
    for (auto& t : threads) t.join();
    if (!status[0].ok() || !status[1].ok()) {
      std::fprintf(stderr, "%s\n", (status[0].ok() ? status[1] : status[0]).ToString().c_str());
      return 2;
    }
    // The last metrics line of peer 0: totals over the run.
    std::ifstream f(out + "/peer_0.jsonl");
    std::string line, last;
    while (std::getline(f, line)) last = line;
    auto number = [&](const std::string& key) {
      const size_t at = last.find("\"" + key + "\":");
      return at == std::string::npos ? NAN : std::atof(last.c_str() + at + key.size() + 3);
    };
    const double rounds_done = number("round");
    const double compute = number("compute_s") / rounds_done;
    const double bytes = number("bytes_sent") / rounds_done;  // one neighbour: one message
    const double comm = 0.005 + 8.0 * bytes / 100e6;
    const double round = number("wall_s") / rounds_done;
    std::printf("%-10s %12.4f %12.4f %12.4f %9.2f\n", a.algorithm, compute, comm, round,
                round / std::max(compute, comm));
  }
  return 0;
}
