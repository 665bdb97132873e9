// End-to-end tests of the peer loop and the launcher: distributed (loopback TCP) runs are
// bit-identical to in-process runs, and the launcher produces its result files.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/emulator/link_emulator.h"
#include "runtime/launch/launcher.h"
#include "runtime/launch/plot.h"
#include "runtime/peer/peer.h"
#include "runtime/peer/run_files.h"
#include "runtime/transport/inproc/inproc_transport.h"
#include "tests/runtime/run_test_util.h"
#include "tests/runtime/tcp_proxy.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

// Ports below the ephemeral range, every one checked free (testing_util): an ephemeral base
// with only its first port checked made these TCP tests flaky -- the proxies' and other tests'
// outgoing connections take ports in that range ("Address already in use", a 30 s timeout).
using testing_util::FreePortBase;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/hearsay_peer_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

std::string RingTopology(int n, int base_port, const std::string& latency) {
  std::ostringstream s;
  s << "nodes: " << n << "\nbase_port: " << base_port << "\ngenerator: {kind: ring}\n"
    << "weights: metropolis\nlinks:\n  default: {bandwidth: 200Mbit, latency: " << latency
    << ", jitter: 0ms}\n";
  return s.str();
}

std::string Experiment(const std::string& extra_runs) {
  return "topology: topo.yaml\n"
         "model: {kind: softmax, l2: 1.0e-4}\n"
         "data: {kind: synthetic, samples: 800, features: 12, classes: 3, seed: 5}\n"
         "rounds: 12\nbatch_size: 16\nlr: 0.2\nseed: 9\neval_every: 4\n"
         "round_timeout: 60\n" +
         extra_runs;
}

// The in-process transport dressed as one that shares payloads (as TCP does): records the
// buffers of the gossip messages the core hands it, per round, and counts the buffers it gets
// back. The in-process transport then gives each message its own copy (OwnPayload).
class SharingProbe final : public Transport {
 public:
  struct Record {
    std::map<int64_t, std::vector<const ByteBuffer*>> sent;
    int unshared = 0;
    int recycled = 0;
  };
  SharingProbe(std::unique_ptr<Transport> inner, Record* record)
      : inner_(std::move(inner)), record_(*record) {}
  Status Start(TimePoint deadline) override { return inner_->Start(deadline); }
  Status Send(Message msg) override {
    if (msg.kind == MessageKind::kGossip) {
      record_.sent[msg.round].push_back(msg.shared_payload.get());
      record_.unshared += msg.shared_payload == nullptr;
    }
    return inner_->Send(std::move(msg));
  }
  Result<Message> Receive(TimePoint deadline) override { return inner_->Receive(deadline); }
  Status Shutdown(TimePoint deadline) override { return inner_->Shutdown(deadline); }
  TransportStats stats() const override { return inner_->stats(); }
  bool SetArrivalNotifier(ArrivalNotifier notify) override {
    return inner_->SetArrivalNotifier(std::move(notify));
  }
  void Recycle(ByteBuffer buffer) override {
    ++record_.recycled;
    inner_->Recycle(std::move(buffer));
  }
  bool SharesPayloads() const override { return true; }

 private:
  std::unique_ptr<Transport> inner_;
  Record& record_;
};

// Runs every peer of `run` on threads; tcp = loopback TCP, else in-process (through a
// SharingProbe per peer when `probes` is given, which receives their records). Returns the models.
std::vector<std::vector<float>> RunPeers(const hearsay::Experiment& exp, const RunConfig& run,
                                         bool tcp,
                                         std::vector<SharingProbe::Record>* probes = nullptr) {
  const int n = exp.topology->size();
  auto workload = BuildWorkload(run, n);
  EXPECT_TRUE(workload.ok()) << workload.status().ToString();
  auto shared = std::make_shared<const Workload>(std::move(workload).value());
  InProcHub hub(n);
  if (probes != nullptr) probes->resize(n);
  std::vector<std::unique_ptr<Transport>> transports;
  for (int i = 0; i < n; ++i) {
    if (tcp) {
      auto t = MakePeerTcpTransport(run, exp.topology, *shared->model, i);
      EXPECT_TRUE(t.ok()) << t.status().ToString();
      transports.push_back(std::move(t).value());
    } else if (probes != nullptr) {
      transports.push_back(std::make_unique<SharingProbe>(hub.Endpoint(i), &(*probes)[i]));
    } else {
      transports.push_back(run.emulate
                               ? MakeEmulatedTransport(hub.Endpoint(i), exp.topology, i, run.seed)
                               : hub.Endpoint(i));
    }
  }
  std::vector<std::vector<float>> models(n);
  std::vector<Status> status(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      PeerOptions po;
      po.id = i;
      po.run = run;
      po.topology = exp.topology;
      po.workload = shared;
      Peer peer(std::move(po));
      status[i] = peer.Run(*transports[i]);
      models[i].assign(peer.params().begin(), peer.params().end());
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) EXPECT_TRUE(status[i].ok()) << status[i].ToString();
  return models;
}

class DistributedEqualsInProcess : public ::testing::TestWithParam<const char*> {};

TEST_P(DistributedEqualsInProcess, FinalModelsAreBitIdentical) {
  TempDir dir;
  dir.Write("topo.yaml", RingTopology(4, FreePortBase(4), "1ms"));
  const std::string path =
      dir.Write("exp.yaml", Experiment(std::string("algorithm: ") + GetParam() +
                                       "\ncompressor: \"qsgd:4\"\nconsensus_step: 0.4\n"));
  auto exp = LoadExperiment(path);
  ASSERT_TRUE(exp.ok()) << exp.status().ToString();
  const RunConfig& run = exp->runs.front();
  const auto inproc = RunPeers(*exp, run, /*tcp=*/false);
  const auto tcp = RunPeers(*exp, run, /*tcp=*/true);
  ASSERT_EQ(inproc.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(inproc[i].size(), tcp[i].size());
    ASSERT_FALSE(inproc[i].empty());
    EXPECT_EQ(std::memcmp(inproc[i].data(), tcp[i].data(), inproc[i].size() * sizeof(float)), 0)
        << "peer " << i << " differs between TCP and in-process";
  }
  // The run did something: models moved away from a common start and are not all equal.
  EXPECT_NE(std::memcmp(inproc[0].data(), inproc[1].data(), inproc[0].size() * sizeof(float)), 0);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, DistributedEqualsInProcess,
                         ::testing::Values("dpsgd", "dcd", "ecd", "choco"));

// Over a network that writes one buffer on every link, a peer sends each round's payload itself to
// all its out-neighbours, one shared buffer, and gives the received buffers it has no use for back
// to the network's pool (they used to be its copies, one per neighbour). The models are those of
// the run that copies per neighbour, bit for bit.
TEST(Peer, OnePayloadBufferPerRoundWhereTheNetworkSharesIt) {
  constexpr int kRounds = 12;
  TempDir dir;
  dir.Write("topo.yaml", RingTopology(4, FreePortBase(4), "1ms"));
  const std::string path = dir.Write(
      "exp.yaml", Experiment("algorithm: dcd\ncompressor: \"qsgd:8\"\nconsensus_step: 0.4\n"));
  auto exp = LoadExperiment(path);
  ASSERT_TRUE(exp.ok()) << exp.status().ToString();
  const RunConfig& run = exp->runs.front();
  ASSERT_EQ(run.rounds, kRounds);
  const auto copied = RunPeers(*exp, run, /*tcp=*/false);
  std::vector<SharingProbe::Record> probes;
  const auto shared = RunPeers(*exp, run, /*tcp=*/false, &probes);
  ASSERT_EQ(probes.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(copied[i].size(), shared[i].size());
    EXPECT_EQ(std::memcmp(copied[i].data(), shared[i].data(), copied[i].size() * sizeof(float)), 0)
        << "peer " << i;
    const SharingProbe::Record& p = probes[i];
    EXPECT_EQ(p.unshared, 0) << "peer " << i;
    ASSERT_EQ(p.sent.size(), static_cast<size_t>(kRounds)) << "peer " << i;
    for (const auto& [round, buffers] : p.sent) {
      ASSERT_EQ(buffers.size(), 2u) << "peer " << i << " round " << round;
      EXPECT_EQ(buffers[0], buffers[1]) << "peer " << i << " round " << round;
    }
    // Each round leaves more buffers than it takes (two received, its own payload when the
    // network is done with it; the next payload taken): beyond the two spares, they go back.
    EXPECT_GE(p.recycled, kRounds - 6) << "peer " << i;
  }
}

// `streams: 3`: with 65,552 parameters, D-PSGD's fp32 messages (262 KB) go in 3 parts and CHOCO's
// fp16 ones (131 KB) in 2, striped over three TCP connections per link and reassembled: the run
// is bit-identical to the in-process one.
class StripedEqualsInProcess : public ::testing::TestWithParam<const char*> {};

TEST_P(StripedEqualsInProcess, FinalModelsAreBitIdentical) {
  TempDir dir;
  dir.Write("topo.yaml", RingTopology(3, FreePortBase(3), "1ms"));
  const std::string path =
      dir.Write("exp.yaml",
                "topology: topo.yaml\nmodel: {kind: softmax, l2: 1.0e-4}\n"
                "data: {kind: synthetic, samples: 300, features: 4096, classes: 16, seed: 5}\n"
                "rounds: 6\nbatch_size: 16\nlr: 0.2\nseed: 9\neval_every: 3\nstreams: 3\n"
                "round_timeout: 60\nalgorithm: " +
                    std::string(GetParam()) + "\ncompressor: fp16\nconsensus_step: 0.4\n");
  auto exp = LoadExperiment(path);
  ASSERT_TRUE(exp.ok()) << exp.status().ToString();
  const RunConfig& run = exp->runs.front();
  ASSERT_EQ(run.streams, 3);
  const auto inproc = RunPeers(*exp, run, /*tcp=*/false);
  const auto tcp = RunPeers(*exp, run, /*tcp=*/true);
  ASSERT_EQ(inproc.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(inproc[i].size(), 65552u);
    ASSERT_EQ(tcp[i].size(), inproc[i].size());
    EXPECT_EQ(std::memcmp(inproc[i].data(), tcp[i].data(), inproc[i].size() * sizeof(float)), 0)
        << "peer " << i << " differs between striped TCP and in-process";
  }
  EXPECT_NE(std::memcmp(inproc[0].data(), inproc[1].data(), inproc[0].size() * sizeof(float)), 0);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, StripedEqualsInProcess, ::testing::Values("dpsgd", "choco"));

// Issue 11: links broken and re-established mid-run (every connection cut twice by a proxy in
// front of each peer, losing what was in flight). The transport resends what was not
// acknowledged and drops duplicates, so no replica or public-copy update is lost or applied
// twice: the synchronous run ends bit-identical to the uncut in-process run -- every copy of
// every peer included, since the models depend on them.
class CutLinksStayExact : public ::testing::TestWithParam<const char*> {};

TEST_P(CutLinksStayExact, FinalModelsAreBitIdenticalToTheUncutRun) {
  constexpr int kPeers = 4;
  TempDir dir;
  const int base = FreePortBase(2 * kPeers);
  std::ostringstream topo;
  topo << "nodes:\n";
  std::vector<std::unique_ptr<testing_util::TcpProxy>> proxies;
  for (int i = 0; i < kPeers; ++i) {
    // Others reach node i through its proxy (base + i); node i listens behind it.
    topo << "  - {name: n" << i << ", host: 127.0.0.1, port: " << base + i
         << ", bind: \"127.0.0.1:" << base + kPeers + i << "\"}\n";
    proxies.push_back(std::make_unique<testing_util::TcpProxy>(base + i, base + kPeers + i));
    ASSERT_TRUE(proxies.back()->ok());
    proxies.back()->SetPaceMs(1);
  }
  topo << "generator: {kind: ring}\nweights: metropolis\n";
  dir.Write("topo.yaml", topo.str());
  const std::string path =
      dir.Write("exp.yaml",
                "topology: topo.yaml\nmodel: {kind: softmax, l2: 1.0e-4}\n"
                "data: {kind: synthetic, samples: 800, features: 12, classes: 3, seed: 5}\n"
                "rounds: 400\nbatch_size: 16\nlr: 0.2\nseed: 9\neval_every: 100\n"
                "round_timeout: 60\n" +
                    std::string("algorithm: ") + GetParam() +
                    "\ncompressor: \"qsgd:4\"\nconsensus_step: 0.4\n");
  auto exp = LoadExperiment(path);
  ASSERT_TRUE(exp.ok()) << exp.status().ToString();
  const RunConfig& run = exp->runs.front();
  const auto inproc = RunPeers(*exp, run, /*tcp=*/false);
  std::atomic<bool> running{true};
  int cuts = 0;
  // The lower id dials: a ring of 4 has 4 links through the proxies. Each round of cuts waits
  // until every link is up (again), then for a few rounds of training.
  auto connections = [&] {
    int c = 0;
    for (auto& p : proxies) c += p->connections();
    return c;
  };
  std::thread cutter([&] {
    for (int k = 1; k <= 2 && running; ++k) {
      while (running && connections() < kPeers * k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      for (auto& p : proxies) cuts += p->Cut();
    }
  });
  const auto tcp = RunPeers(*exp, run, /*tcp=*/true);
  running = false;
  cutter.join();
  EXPECT_GE(cuts, 2 * kPeers) << "the run ended before the cuts: make it longer";
  ASSERT_EQ(inproc.size(), static_cast<size_t>(kPeers));
  ASSERT_EQ(tcp.size(), static_cast<size_t>(kPeers));
  for (int i = 0; i < kPeers; ++i) {
    ASSERT_EQ(inproc[i].size(), tcp[i].size());
    ASSERT_FALSE(inproc[i].empty());
    EXPECT_EQ(std::memcmp(inproc[i].data(), tcp[i].data(), inproc[i].size() * sizeof(float)), 0)
        << "peer " << i << " differs from the uncut run";
  }
}

INSTANTIATE_TEST_SUITE_P(Algorithms, CutLinksStayExact, ::testing::Values("dcd", "choco"));

// Asynchronous runs are also evaluated on a time grid (eval_every_s): the average of the
// snapshots every peer took at t = k x eval_every_s, in real runs and in the simulator.
// The rounds whose metrics lines are on disk (not buffered), in order.
std::vector<int64_t> RoundsOnDisk(const std::string& dir) {
  std::vector<int64_t> rounds;
  std::ifstream f(RunFiles::MetricsPath(dir, 0));
  for (std::string line; std::getline(f, line);) {
    const size_t at = line.find("\"round\":");
    if (at != std::string::npos) rounds.push_back(std::stoll(line.substr(at + 8)));
  }
  return rounds;
}

// A round's metrics line reaches the disk only after the core had the chance to write that
// round's snapshot (right after the line): a peer killed between the two must not leave a line
// whose snapshot is missing, which the evaluation refuses ("missing model snapshot").
TEST(RunFiles, ARoundsLineReachesTheDiskOnlyAfterItsRoundEnded) {
  TempDir dir;
  auto files = RunFiles::Open(dir.path(), 0, false, /*flush_every_s=*/0.5);
  ASSERT_TRUE(files.ok()) << files.status().message();
  RoundRecord r;
  for (int64_t round = 1; round <= 3; ++round) {
    r.round = round;
    r.wall_s = static_cast<double>(round);  // every line is due for the time-based flush
    ASSERT_TRUE((*files)->WriteRound(r, 0, 0).ok());
    // Lines up to the previous round are out; this round's waits for the next one.
    std::vector<int64_t> want;
    for (int64_t k = 1; k < round; ++k) want.push_back(k);
    EXPECT_EQ(RoundsOnDisk(dir.path()), want) << "after round " << round;
  }
  // The size-based flush keeps the newest line too.
  r.wall_s = 3;
  for (int64_t round = 4; round <= 2000; ++round) {
    r.round = round;
    ASSERT_TRUE((*files)->WriteRound(r, 0, 0).ok());
  }
  const std::vector<int64_t> on_disk = RoundsOnDisk(dir.path());
  ASSERT_GT(on_disk.size(), 3u);  // 64 KiB blocks went out
  EXPECT_LT(on_disk.back(), 2000);
  for (size_t k = 0; k < on_disk.size(); ++k) EXPECT_EQ(on_disk[k], static_cast<int64_t>(k) + 1);
  ASSERT_TRUE((*files)->Flush().ok());
  EXPECT_EQ(RoundsOnDisk(dir.path()).size(), 2000u);
}

TEST(Launcher, AsyncRunsAreEvaluatedOnATimeGrid) {
  for (TransportKind transport : {TransportKind::kInproc, TransportKind::kSim}) {
    TempDir dir;
    dir.Write("topo.yaml", RingTopology(4, FreePortBase(4), "5ms"));
    const std::string path = dir.Write(
        "exp.yaml", Experiment("runs:\n  - {name: a, algorithm: dcd, compressor: \"qsgd:8\", "
                               "mode: async, staleness: 2, eval_every_s: 0.02, rounds: 60}\n"));
    LaunchOptions o;
    o.experiment_path = path;
    o.transport = transport;
    o.out_dir = dir.path() + "/out";
    auto result = Launch(o);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    const RunSummary& r = result->front();
    // 60 rounds, at most 3 ahead of a 5 ms neighbour: over 100 ms, at least 3 points of 20 ms.
    ASSERT_GE(r.time_curve.size(), 3u) << TransportName(transport);
    for (size_t k = 0; k < r.time_curve.size(); ++k) {
      EXPECT_DOUBLE_EQ(r.time_curve[k].wall_s, 0.02 * static_cast<double>(k + 1));
      EXPECT_TRUE(std::isfinite(r.time_curve[k].train_loss));
      EXPECT_GT(r.time_curve[k].train_loss, 0);
    }
    // Training: the last grid point is below the first.
    EXPECT_LT(r.time_curve.back().train_loss, r.time_curve.front().train_loss);
    std::ifstream f(o.out_dir + "/a/eval_time.jsonl");
    size_t lines = 0;
    for (std::string line; std::getline(f, line);) {
      EXPECT_NE(line.find("\"time_s\""), std::string::npos) << line;
      ++lines;
    }
    EXPECT_EQ(lines, r.time_curve.size()) << TransportName(transport);
  }
}

TEST(Launcher, InProcWritesSummaryAndCurvesAndLearns) {
  TempDir dir;
  dir.Write("topo.yaml", RingTopology(4, FreePortBase(4), "1ms"));
  const std::string path = dir.Write(
      "exp.yaml", Experiment("runs:\n  - {name: base, algorithm: dpsgd}\n"
                             "  - {name: dcd8, algorithm: dcd, compressor: \"qsgd:8\"}\n"));
  LaunchOptions o;
  o.experiment_path = path;
  o.transport = TransportKind::kInproc;
  o.out_dir = dir.path() + "/out";
  auto result = Launch(o);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->size(), 2u);
  for (const RunSummary& r : *result) {
    EXPECT_EQ(r.rounds, 12);
    ASSERT_EQ(r.curve.size(), 4u);                                // rounds 0, 4, 8, 12
    EXPECT_LT(r.final_point.train_loss, std::log(3.0)) << r.run;  // below chance level
    EXPECT_GT(r.final_point.accuracy, 0.5) << r.run;
    EXPECT_GT(r.final_point.mb_sent_per_peer, 0) << r.run;
  }
  // Compression: DCD with qsgd:8 sends far fewer bytes than full-precision D-PSGD. The model has
  // only 39 parameters, so the ~44 bytes of framing per message (prefix, header with sequence
  // numbers, 16-byte MAC; docs/wire_format.md) keep the ratio near 0.5 rather than near 0.25.
  EXPECT_LT((*result)[1].final_point.mb_sent_per_peer,
            0.6 * (*result)[0].final_point.mb_sent_per_peer);
  std::ifstream csv(o.out_dir + "/summary.csv");
  std::string header, row1, row2, extra;
  std::getline(csv, header);
  std::getline(csv, row1);
  std::getline(csv, row2);
  EXPECT_EQ(header.rfind("run,algorithm,compressor,rounds,final_loss,test_loss,accuracy,"
                         "consensus_distance,mb_sent_per_peer,wall_seconds",
                         0),
            0u);
  EXPECT_EQ(row1.rfind("base,dpsgd,fp32,12,", 0), 0u) << row1;
  EXPECT_EQ(row2.rfind("dcd8,dcd,qsgd:8,12,", 0), 0u) << row2;
  EXPECT_FALSE(std::getline(csv, extra));
  EXPECT_TRUE(fs::exists(o.out_dir + "/curves.csv"));
  for (const char* plot : {"loss_vs_rounds.svg", "loss_vs_time.svg", "loss_vs_mb.svg"}) {
    std::ifstream f(o.out_dir + "/" + plot);
    const std::string svg((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(svg.rfind("<svg", 0), 0u) << plot;
    size_t lines = 0;
    for (size_t at = svg.find("<polyline"); at != std::string::npos;
         at = svg.find("<polyline", at + 1)) {
      ++lines;
    }
    EXPECT_EQ(lines, 2u) << plot;  // one line per run
    EXPECT_NE(svg.find(">dcd8<"), std::string::npos) << plot;
  }
  EXPECT_TRUE(fs::exists(o.out_dir + "/dcd8/peer_3.jsonl"));
}

TEST(Plot, ChartSkipsNonFiniteValuesAndEscapesNames) {
  const std::string svg = LineChartSvg(
      "t", "x", "y", {{"a<b", {0, 1, 2}, {1.0, NAN, 0.5}}, {"c&d", {0, 1}, {2.0, INFINITY}}});
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_NE(svg.find("a&lt;b"), std::string::npos);
  EXPECT_NE(svg.find("c&amp;d"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(Experiment, ErrorsNameFileLineAndProblem) {
  TempDir dir;
  dir.Write("topo.yaml", RingTopology(4, 17000, "1ms"));
  struct Case {
    std::string body, expect;
  } cases[] = {
      {Experiment("algorithm: dcd\ncompressor: \"qsgd:9\"\n"), "qsgd:9"},
      {Experiment("algorithm: sgdx\n"), "algorithm 'sgdx' is unknown"},
      {Experiment("runs:\n  - {name: r, rounds: 0}\n"), "rounds = 0; must be from 1"},
      {Experiment("colour: blue\n"), "unknown key 'colour'"},
      {"topology: missing.yaml\n", "missing.yaml"},
      {"topology: topo.yaml\nrounds: [1\n", "malformed YAML"},
      {Experiment("runs:\n  - {name: a}\n  - {name: a}\n"), "two runs are named 'a'"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.Write("bad.yaml", c.body);
    auto exp = LoadExperiment(path);
    ASSERT_FALSE(exp.ok()) << c.body;
    EXPECT_NE(exp.status().message().find(c.expect), std::string::npos) << exp.status().message();
    EXPECT_NE(exp.status().message().find("bad.yaml"), std::string::npos) << exp.status().message();
  }
}

TEST(Experiment, StatefulAlgorithmOnTimeVaryingGraphIsRefusedBeforeAnyPeerStarts) {
  TempDir dir;
  dir.Write("topo.yaml", "nodes: 8\ngenerator: {kind: one-peer-exponential}\n");
  auto ok = LoadExperiment(dir.Write("a.yaml", Experiment("algorithm: dpsgd\n")));
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto bad = LoadExperiment(dir.Write(
      "b.yaml", Experiment("runs:\n  - {algorithm: dpsgd}\n  - {algorithm: choco, compressor: "
                           "\"qsgd:4\"}\n")));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("b.yaml:"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("needs a static topology"), std::string::npos)
      << bad.status().message();
}

TEST(Experiment, RunsInheritDefaultsAndOverrideThem) {
  TempDir dir;
  dir.Write("topo.yaml", RingTopology(4, 17000, "1ms"));
  const std::string path = dir.Write(
      "exp.yaml", Experiment("runs:\n  - {algorithm: dpsgd}\n"
                             "  - {algorithm: choco, compressor: \"qsgd:4\", rounds: 30}\n"));
  auto exp = LoadExperiment(path);
  ASSERT_TRUE(exp.ok()) << exp.status().ToString();
  ASSERT_EQ(exp->runs.size(), 2u);
  EXPECT_EQ(exp->runs[0].name, "dpsgd");
  EXPECT_EQ(exp->runs[0].rounds, 12);
  EXPECT_EQ(exp->runs[1].name, "choco-qsgd:4");
  EXPECT_EQ(exp->runs[1].rounds, 30);
  EXPECT_EQ(exp->runs[1].batch_size, 16);
  EXPECT_EQ(exp->topology->size(), 4);
}

TEST(Peer, CudaDeviceWithoutBackendFailsAtStartWithReason) {
  TempDir dir;
  dir.Write("topo.yaml", RingTopology(4, 17000, "1ms"));
  auto exp = LoadExperiment(dir.Write("exp.yaml", Experiment("device: cuda\n")));
  ASSERT_TRUE(exp.ok()) << exp.status().ToString();
  InProcHub hub(4);
  auto transport = hub.Endpoint(0);
  PeerOptions po;
  po.id = 0;
  po.run = exp->runs.front();
  po.topology = exp->topology;
  Peer peer(std::move(po));
  Status s = peer.Run(*transport);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("device 'cuda'"), std::string::npos) << s.message();
  EXPECT_TRUE(peer.params().empty());
}

}  // namespace
}  // namespace hearsay
