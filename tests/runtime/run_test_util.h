// Helpers for tests that run whole experiments: temporary folders, free ports, topology and
// experiment files, peers on threads (in-process or loopback TCP), the simulator.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime/emulator/link_emulator.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/peer.h"
#include "runtime/sim/simulator.h"
#include "runtime/transport/inproc/inproc_transport.h"

namespace hearsay::testing_util {

// A base port such that [base, base + count) was free a moment ago: every port of the range is
// bound at once, then released. The range is drawn below the kernel's ephemeral range (32768 and
// up on Linux), where the outgoing connections of concurrently running tests take their ports --
// a base taken from there collides with them now and then under `ctest -j`.
inline int FreePortBase(int count) {
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  std::uniform_int_distribution<int> pick(10000, 32000 - count);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = pick(rng);
    std::vector<int> fds;
    bool free = true;
    for (int p = base; p < base + count && free; ++p) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(p));
      free = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
      if (fd >= 0) fds.push_back(fd);
    }
    for (int fd : fds) close(fd);
    if (free) return base;
  }
  return 20000 + getpid() % 10000;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/hearsay_run_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

// A ring of n nodes on loopback; `links` is the body of `links: default:`.
inline std::string RingYaml(int n, int base_port, const std::string& links) {
  std::ostringstream s;
  s << "nodes: " << n << "\nbase_port: " << base_port << "\ngenerator: {kind: ring}\n"
    << "weights: metropolis\nlinks:\n  default: {" << links << "}\n";
  return s.str();
}

// `base` without the top-level entries whose keys `extra` sets, then `extra`: keys in `extra`
// override the base's. (A YAML map may not give a key twice: the parsers refuse it, and yaml-cpp
// used to take the first silently, so appending never overrode anything.) An entry is a line
// `key: ...` at column 0 with the indented or `- ` lines below it.
inline std::string OverrideTopLevel(const std::string& base, const std::string& extra) {
  const auto key_of = [](const std::string& line) -> std::string {
    if (line.empty() || line[0] == ' ' || line[0] == '-' || line[0] == '#') return "";
    const size_t colon = line.find(':');
    return colon == std::string::npos ? "" : line.substr(0, colon);
  };
  std::set<std::string> overridden;
  std::istringstream ex(extra);
  for (std::string line; std::getline(ex, line);) {
    if (std::string k = key_of(line); !k.empty()) overridden.insert(k);
  }
  std::string out;
  bool skipping = false;
  std::istringstream in(base);
  for (std::string line; std::getline(in, line);) {
    const std::string k = key_of(line);
    if (!k.empty()) skipping = overridden.count(k) > 0;
    if (!skipping) out += line + "\n";
  }
  return out + extra;
}

// An experiment on topo.yaml with a small softmax problem; `extra` adds or overrides keys.
inline std::string ExperimentYaml(const std::string& extra, int rounds = 30) {
  return OverrideTopLevel(
      "topology: topo.yaml\n"
      "model: {kind: softmax, l2: 1.0e-4}\n"
      "data: {kind: synthetic, samples: 800, features: 12, classes: 3, seed: 5}\n"
      "rounds: " +
          std::to_string(rounds) +
          "\nbatch_size: 16\nlr: 0.2\nseed: 9\neval_every: 10\nround_timeout: 60\n",
      extra);
}

// Loads `exp.yaml` text (with `topo.yaml`) from a fresh folder of `dir`.
inline Experiment LoadFrom(const TempDir& dir, const std::string& topo, const std::string& exp) {
  dir.Write("topo.yaml", topo);
  auto e = LoadExperiment(dir.Write("exp.yaml", exp));
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : Experiment{};
}

// Runs every peer of `run` on threads over loopback TCP (tcp) or the in-process transport, with
// the emulator when the run says so; writes into out_dir when given. Returns the final models.
inline std::vector<std::vector<float>> RunPeers(const Experiment& exp, const RunConfig& run,
                                                bool tcp, const std::string& out_dir = "") {
  const int n = exp.topology->size();
  auto workload = BuildWorkload(run, n);
  EXPECT_TRUE(workload.ok()) << workload.status().ToString();
  if (!workload.ok()) return {};
  auto shared = std::make_shared<const Workload>(std::move(workload).value());
  InProcHub hub(n);
  std::vector<std::unique_ptr<Transport>> transports;
  for (int i = 0; i < n; ++i) {
    std::unique_ptr<Transport> t;
    if (tcp) {
      RunConfig plain = run;
      plain.emulate = false;  // wrapped below, as for in-process peers
      auto r = MakePeerTcpTransport(plain, exp.topology, *shared->model, i);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return {};
      t = std::move(r).value();
    } else {
      t = hub.Endpoint(i);
    }
    if (run.emulate) t = MakeEmulatedTransport(std::move(t), exp.topology, i, run.seed);
    transports.push_back(std::move(t));
  }
  std::vector<std::vector<float>> models(n);
  std::vector<Status> status(n);
  std::vector<std::thread> threads;
  const TimePoint epoch = Now();
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      PeerOptions po = PeerOptions::For(i, run, shared);
      po.out_dir = out_dir;
      if (!tcp) po.epoch = epoch;
      Peer peer(std::move(po));
      status[i] = peer.Run(*transports[i]);
      models[i].assign(peer.params().begin(), peer.params().end());
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) EXPECT_TRUE(status[i].ok()) << status[i].ToString();
  return models;
}

inline Result<SimResult> RunSim(const Experiment& exp, const RunConfig& run,
                                SimObserver* observer = nullptr, const std::string& out = "") {
  SimOptions o;
  o.run = run;
  o.topology = exp.topology;
  o.observer = observer;
  o.out_dir = out;
  return Simulate(o);
}

// Squared distance of peer `peer`'s final model (OUT/<run>/peer_<i>.final.f32) to the average of
// the n peers' final models; -1 if a model is missing or the sizes differ.
inline double FinalDistanceToAverage(const std::string& run_dir, int n, int peer) {
  std::vector<std::vector<float>> x;
  for (int i = 0; i < n; ++i) {
    std::ifstream f(run_dir + "/peer_" + std::to_string(i) + ".final.f32", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    x.emplace_back(bytes.size() / sizeof(float));
    std::memcpy(x.back().data(), bytes.data(), x.back().size() * sizeof(float));
    if (x.back().empty() || x.back().size() != x[0].size()) return -1;
  }
  double dist = 0;
  for (size_t k = 0; k < x[0].size(); ++k) {
    double avg = 0;
    for (const auto& xi : x) avg += xi[k];
    avg /= n;
    dist += (x[peer][k] - avg) * (x[peer][k] - avg);
  }
  return dist;
}

inline bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && !a.empty() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace hearsay::testing_util
