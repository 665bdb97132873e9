// The launcher's process management: `hearsay peer` children over TCP, a failing child stops its
// siblings with an error naming it, Ctrl-C stops everyone, and no child outlives the launcher.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/launch/launcher.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

std::string HearsayBinary() {
  // build/tests/runtime/peer/<this test> -> build/apps/hearsay
  const fs::path self = fs::read_symlink("/proc/self/exe");
  return (self.parent_path() / "../../../apps/hearsay").lexically_normal().string();
}

// Listens on an ephemeral loopback port; returns the fd (closed by the caller) and the port.
int ListenOnFreePort(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  listen(fd, 4);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

int FreePort() {
  int port = 0;
  close(ListenOnFreePort(&port));
  return port;
}

class LauncherProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hearsay_launch_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    if (!fs::exists(HearsayBinary())) GTEST_SKIP() << "hearsay binary not built";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // A 4-node ring whose node 3 listens on `port3` (0 = base_port + 3).
  std::string WriteExperiment(int rounds, int port3, const std::string& latency) {
    const int base = FreePort();
    std::ostringstream topo;
    topo << "nodes:\n";
    for (int i = 0; i < 4; ++i) {
      topo << "  - {name: n" << i << ", port: " << (i == 3 && port3 ? port3 : base + i) << "}\n";
    }
    topo << "generator: {kind: ring}\nweights: metropolis\n"
         << "links:\n  default: {bandwidth: 100Mbit, latency: " << latency << "}\n";
    std::ofstream(dir_ + "/topo.yaml") << topo.str();
    std::ofstream(dir_ + "/exp.yaml")
        << "topology: topo.yaml\nmodel: softmax\n"
        << "data: {kind: synthetic, samples: 400, features: 8, classes: 3}\n"
        << "rounds: " << rounds << "\nlr: 0.1\neval_every: 5\nconnect_timeout: 20\n"
        << "round_timeout: 20\nalgorithm: dcd\ncompressor: \"qsgd:8\"\n";
    return dir_ + "/exp.yaml";
  }
  LaunchOptions Options(const std::string& exp) {
    LaunchOptions o;
    o.experiment_path = exp;
    o.transport = TransportKind::kTcp;
    o.out_dir = dir_ + "/out";
    o.peer_binary = HearsayBinary();
    return o;
  }
  // Peers of this test still alive (looked up by the experiment path in their command line).
  int LivePeers() {
    int live = 0;
    for (const auto& e : fs::directory_iterator("/proc")) {
      std::ifstream f(e.path() / "cmdline");
      std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (cmd.find(dir_ + "/exp.yaml") != std::string::npos) ++live;
    }
    return live;
  }
  std::string dir_;
};

TEST_F(LauncherProcesses, RunsPeersAsProcessesAndGathersResults) {
  LaunchOptions o = Options(WriteExperiment(10, 0, "1ms"));
  auto result = Launch(o);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->size(), 1u);
  EXPECT_EQ((*result)[0].transport, "tcp");
  EXPECT_EQ((*result)[0].curve.size(), 3u);  // rounds 0, 5 and 10
  EXPECT_GT((*result)[0].final_point.mb_sent_per_peer, 0);
  EXPECT_TRUE(fs::exists(o.out_dir + "/summary.csv"));
  EXPECT_EQ(LivePeers(), 0);
}

TEST_F(LauncherProcesses, FailingPeerStopsItsSiblingsAndIsNamed) {
  int busy_port = 0;
  const int busy = ListenOnFreePort(&busy_port);  // node 3 cannot listen here
  LaunchOptions o = Options(WriteExperiment(50, busy_port, "1ms"));
  auto result = Launch(o);
  close(busy);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("peer 3"), std::string::npos)
      << result.status().message();
  EXPECT_EQ(LivePeers(), 0);
}

TEST_F(LauncherProcesses, StopFlagEndsTheRunAndLeavesNoChildren) {
  LaunchOptions o = Options(WriteExperiment(100000, 0, "5ms"));
  std::atomic<bool> stop{false};
  o.stop = &stop;
  std::thread interrupter([&] {
    // Wait until the peers are training, then press "Ctrl-C".
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(o.out_dir + "/dcd-qsgd:8/peer_0.jsonl") &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop = true;
  });
  auto result = Launch(o);
  interrupter.join();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
  EXPECT_EQ(LivePeers(), 0);
}

}  // namespace
}  // namespace hearsay
