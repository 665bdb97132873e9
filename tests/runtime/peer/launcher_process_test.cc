// The launcher's process management: `hearsay peer` children over TCP, a failing child stops its
// siblings with an error naming it, Ctrl-C stops everyone, and no child outlives the launcher.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "runtime/launch/launcher.h"
#include "tests/runtime/run_test_util.h"

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
  // A ring of `nodes` nodes (4 by default) whose node 3 listens on `port3` (0 = base_port + 3).
  std::string WriteExperiment(int rounds, int port3, const std::string& latency,
                              const std::string& extra = "algorithm: dcd\ncompressor: \"qsgd:8\"\n",
                              int nodes = 4) {
    const int base = testing_util::FreePortBase(nodes);  // below the ephemeral range
    std::ostringstream topo;
    topo << "nodes:\n";
    for (int i = 0; i < nodes; ++i) {
      topo << "  - {name: n" << i << ", port: " << (i == 3 && port3 ? port3 : base + i) << "}\n";
    }
    topo << "generator: {kind: ring}\nweights: metropolis\n"
         << "links:\n  default: {bandwidth: 100Mbit, latency: " << latency << "}\n";
    std::ofstream(dir_ + "/topo.yaml") << topo.str();
    std::ofstream(dir_ + "/exp.yaml") << testing_util::OverrideTopLevel(
        "topology: topo.yaml\nmodel: softmax\n"
        "data: {kind: synthetic, samples: 400, features: 8, classes: 3}\n"
        "rounds: " +
            std::to_string(rounds) +
            "\nlr: 0.1\neval_every: 5\nconnect_timeout: 20\n"
            "round_timeout: 20\n",
        extra);
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

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// A scheduled kill that lands before the peer's first round (here at once: `at: 0s`) stops the
// run -- its neighbours cannot start without it -- and the error says so and what to change,
// rather than only "killed by the fault schedule".
TEST_F(LauncherProcesses, KillBeforeTheFirstRoundStopsTheRunAndSaysWhy) {
  auto result = Launch(Options(WriteExperiment(
      50, 0, "5ms", "algorithm: dcd\ncompressor: \"qsgd:8\"\nfaults:\n  - {at: 0s, kill: 2}\n")));
  ASSERT_FALSE(result.ok());
  const std::string why = result.status().message();
  EXPECT_NE(why.find("peer 2 killed by the fault schedule (line"), std::string::npos) << why;
  EXPECT_NE(why.find("before it completed its first round"), std::string::npos) << why;
  EXPECT_NE(why.find("at_round:"), std::string::npos) << why;
  EXPECT_EQ(LivePeers(), 0);
}

// A peer killed with SIGKILL mid-run (the fault schedule's `kill`): its neighbours go on without
// it, the launcher lets the survivors finish, evaluates the average of their models and succeeds;
// the loss is close to the fault-free run's (issue 11: within 5%).
struct KillCase {
  const char* name;
  const char* keys;
  int victim;
};
class LauncherSurvives : public LauncherProcesses,
                         public ::testing::WithParamInterface<KillCase> {};

TEST_P(LauncherSurvives, KilledPeerIsDroppedAndTheSurvivorsFinish) {
  const KillCase& c = GetParam();
  const std::string keys = std::string(c.keys) + "heartbeat: 200ms\ndead_after: 2s\n";
  LaunchOptions clean = Options(WriteExperiment(60, 0, "10ms", keys));
  clean.out_dir = dir_ + "/clean";
  auto fault_free = Launch(clean);
  ASSERT_TRUE(fault_free.ok()) << fault_free.status().ToString();
  const double clean_loss = (*fault_free)[0].final_point.train_loss;

  LaunchOptions o = Options(WriteExperiment(
      60, 0, "10ms",
      keys + "faults:\n  - {at_round: 10, kill: " + std::to_string(c.victim) + "}\n"));
  auto result = Launch(o);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const RunSummary& sum = (*result)[0];
  EXPECT_EQ(sum.peers, 4);
  EXPECT_EQ(sum.peers_alive, 3);
  EXPECT_EQ(sum.rounds, 60);
  EXPECT_TRUE(std::isfinite(sum.final_point.train_loss));
  EXPECT_LT(std::abs(sum.final_point.train_loss - clean_loss), 0.05 * clean_loss)
      << "with a dead peer " << sum.final_point.train_loss << ", fault-free " << clean_loss;
  const std::string run_dir = o.out_dir + "/" + sum.run;
  const std::string peers = ReadAll(run_dir + "/peers.csv");
  EXPECT_NE(peers.find(std::to_string(c.victim) + ",killed,killed by the fault schedule"),
            std::string::npos)
      << peers;
  EXPECT_NE(ReadAll(run_dir + "/faults.jsonl")
                .find("\"action\":\"kill\",\"peer\":" + std::to_string(c.victim)),
            std::string::npos);
  // Its neighbours say why they went on without it.
  const int neighbour = (c.victim + 1) % 4;
  const std::string log = ReadAll(run_dir + "/peer_" + std::to_string(neighbour) + ".log");
  EXPECT_NE(log.find("peer " + std::to_string(c.victim) + " lost its link"), std::string::npos)
      << log;
  EXPECT_NE(ReadAll(o.out_dir + "/summary.csv").find("peers_alive"), std::string::npos);
  EXPECT_EQ(LivePeers(), 0);
}

// The figure: 8 peer processes on a ring, one killed mid-run, at two positions, for
// DCD (qsgd:8) and CHOCO (qsgd:4): 7 survivors finish within 5% of the fault-free loss. Not under
// ThreadSanitizer (8 instrumented processes per launch; the 4-peer test above covers the code).
TEST_F(LauncherProcesses, EightPeersSurviveAKillAtTwoPositions) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "8 peer processes under ThreadSanitizer: too slow";
#endif
  for (const char* keys :
       {"algorithm: dcd\ncompressor: \"qsgd:8\"\n", "algorithm: choco\ncompressor: \"qsgd:4\"\n"}) {
    const std::string base = std::string(keys) + "heartbeat: 200ms\ndead_after: 2s\n";
    // 120 rounds of >= 10 ms: the launcher reads progress every 0.1 s from metrics flushed every
    // 0.25 s, so a kill at round 20 lands well before the end even on a fast machine.
    LaunchOptions clean = Options(WriteExperiment(120, 0, "10ms", base, 8));
    clean.out_dir = dir_ + "/clean";
    auto fault_free = Launch(clean);
    ASSERT_TRUE(fault_free.ok()) << fault_free.status().ToString();
    const double clean_loss = (*fault_free)[0].final_point.train_loss;
    for (int victim : {2, 5}) {
      LaunchOptions o = Options(WriteExperiment(
          120, 0, "10ms",
          base + "faults:\n  - {at_round: 20, kill: " + std::to_string(victim) + "}\n", 8));
      auto result = Launch(o);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      const RunSummary& sum = (*result)[0];
      EXPECT_EQ(sum.peers_alive, 7) << keys << " victim " << victim;
      EXPECT_EQ(sum.rounds, 120);
      EXPECT_LT(std::abs(sum.final_point.train_loss - clean_loss), 0.05 * clean_loss)
          << keys << " victim " << victim << ": " << sum.final_point.train_loss << " vs "
          << clean_loss;
      EXPECT_NE(ReadAll(o.out_dir + "/" + sum.run + "/peers.csv")
                    .find(std::to_string(victim) + ",killed,"),
                std::string::npos);
    }
  }
  EXPECT_EQ(LivePeers(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, LauncherSurvives,
    ::testing::Values(
        KillCase{"dcd", "algorithm: dcd\ncompressor: \"qsgd:8\"\n", 3},
        KillCase{"choco", "algorithm: choco\ncompressor: \"qsgd:4\"\nconsensus_step: 0.5\n", 1}),
    [](const auto& info) { return std::string(info.param.name); });

// `pause`: SIGSTOP, then SIGCONT; the neighbours declare the paused peer dead after dead_after,
// go on without it, and re-admit it when it speaks again; all four finish.
TEST_F(LauncherProcesses, PausedPeerIsDroppedThenReadmitted) {
  LaunchOptions o = Options(WriteExperiment(
      300, 0, "10ms",
      "algorithm: dcd\ncompressor: \"qsgd:8\"\nheartbeat: 100ms\ndead_after: 400ms\n"
      "faults:\n  - {at_round: 10, pause: 2, for: 1s}\n"));
  auto result = Launch(o);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const RunSummary& sum = (*result)[0];
  EXPECT_EQ(sum.peers_alive, 4);
  EXPECT_EQ(sum.rounds, 300);
  EXPECT_TRUE(std::isfinite(sum.final_point.train_loss));
  const std::string run_dir = o.out_dir + "/" + sum.run;
  const std::string faults = ReadAll(run_dir + "/faults.jsonl");
  EXPECT_NE(faults.find("\"action\":\"pause\",\"peer\":2"), std::string::npos) << faults;
  EXPECT_NE(faults.find("\"action\":\"resume\",\"peer\":2"), std::string::npos) << faults;
  const std::string log = ReadAll(run_dir + "/peer_1.log");
  EXPECT_NE(log.find("peer 2 silent for"), std::string::npos) << log;
  // Re-admitted when it speaks again -- unless, on a loaded machine, its links broke meanwhile
  // (a send queue that did not drain in time): then it finishes on its own. Either way all four
  // peers finish (above); re-admission itself is tested in async_test.
  EXPECT_TRUE(log.find("peer 2 is back") != std::string::npos ||
              log.find("peer 2 lost its link") != std::string::npos ||
              log.find("from peer 1 to peer 2 broke") != std::string::npos)
      << log;
  EXPECT_EQ(LivePeers(), 0);
}

// A 2|2 partition over TCP, executed by the peers' emulators: the peers at the cut declare each
// other dead, each half trains on, and after the heal they re-admit each other and mix again.
TEST_F(LauncherProcesses, PartitionedPeersGoOnAndMergeAfterTheHeal) {
  LaunchOptions o = Options(WriteExperiment(
      150, 0, "2ms",
      "algorithm: dcd\ncompressor: \"qsgd:8\"\nheartbeat: 50ms\ndead_after: 300ms\n"
      "faults:\n  - {at_round: 30, until_round: 90, partition: [[0, 1], [2, 3]]}\n"));
  auto result = Launch(o);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const RunSummary& sum = (*result)[0];
  EXPECT_EQ(sum.peers_alive, 4);
  EXPECT_EQ(sum.rounds, 150);
  std::map<int64_t, double> consensus;
  for (const EvalPoint& p : sum.curve) consensus[p.round] = p.consensus;
  // Merged again: the models agree as well as before the cut (iid data: the halves drift only
  // a little while apart, so the bound is loose).
  EXPECT_LT(consensus[150], 2 * consensus[30]) << consensus[30] << " -> " << consensus[150];
  const std::string run_dir = o.out_dir + "/" + sum.run;
  const std::string faults = ReadAll(run_dir + "/faults.jsonl");
  EXPECT_NE(faults.find("\"action\":\"partition\""), std::string::npos) << faults;
  EXPECT_NE(faults.find("\"action\":\"heal\""), std::string::npos) << faults;
  const std::string log = ReadAll(run_dir + "/peer_1.log");
  EXPECT_NE(log.find("peer 2 silent for"), std::string::npos) << log;
  EXPECT_NE(log.find("peer 2 is back"), std::string::npos) << log;
  EXPECT_EQ(LivePeers(), 0);
}

TEST_F(LauncherProcesses, FaultsThatCannotRunAreRefusedBeforeAnythingStarts) {
  // A kill in a run whose algorithm needs every peer.
  LaunchOptions o = Options(
      WriteExperiment(20, 0, "1ms", "algorithm: allreduce\nfaults:\n  - {at_round: 5, kill: 2}\n"));
  auto result = Launch(o);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("does not go on without a dead peer"), std::string::npos)
      << result.status().message();
  EXPECT_FALSE(fs::exists(o.out_dir + "/summary.csv"));
}

// Kill -9 of a peer process, then a restart: the new process (a new incarnation) connects to its
// neighbours, which report the old one gone for good and take the new connection in place of
// the broken one; it rejoins by the state transfer (its copies verified by hash in the protocol:
// a mismatch fails the run), trains to the end and ends close to the others.
TEST_F(LauncherProcesses, AKilledPeerIsRestartedAndRejoinsOverTcp) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "8 instrumented processes per launch; the transport's restart is tested in "
                  "tcp_reconnect_test";
#endif
  for (const char* algorithm : {"dcd, compressor: \"qsgd:8\"", "choco, compressor: \"qsgd:4\""}) {
    const std::string exp =
        WriteExperiment(400, 0, "5ms",
                        std::string("emulate: true\nheartbeat: 50ms\ndead_after: 400ms\n") +
                            "runs:\n  - {name: clean, algorithm: " + algorithm +
                            "}\n  - {name: restart, algorithm: " + algorithm +
                            ", faults: [{at_round: 80, kill: 2}, {at_round: 200, restart: 2}]}\n");
    LaunchOptions o = Options(exp);
    auto r = Launch(o);
    ASSERT_TRUE(r.ok()) << algorithm << ": " << r.status().ToString();
    const RunSummary &clean = (*r)[0], &restart = (*r)[1];
    EXPECT_EQ(restart.peers_alive, 4) << algorithm;
    EXPECT_EQ(restart.rounds, 400) << algorithm;
    EXPECT_LT(std::abs(restart.final_point.train_loss - clean.final_point.train_loss),
              0.05 * clean.final_point.train_loss)
        << algorithm;
    const std::string run_dir = o.out_dir + "/restart";
    const double dist = testing_util::FinalDistanceToAverage(run_dir, 4, 2);
    EXPECT_GE(dist, 0) << algorithm << ": a final model is missing";
    EXPECT_LT(dist, 2 * clean.final_point.consensus)
        << algorithm << ": restarted peer " << dist << ", fault-free consensus "
        << clean.final_point.consensus;
    const std::string faults = ReadAll(run_dir + "/faults.jsonl");
    EXPECT_NE(faults.find("\"action\":\"restart\",\"peer\":2"), std::string::npos) << faults;
    const std::string log = ReadAll(run_dir + "/peer_2.log");
    EXPECT_NE(log.find("rejoin"), std::string::npos) << log;
    const std::string peers = ReadAll(run_dir + "/peers.csv");
    EXPECT_NE(peers.find("2,finished"), std::string::npos) << peers;
  }
  EXPECT_EQ(LivePeers(), 0);
}

// A late joiner (`join:`): peer 2 is not started with the run; its neighbours start without
// waiting for it, and when the launcher starts it at round 100 it joins by the same state
// transfer as a restarted peer (from the copies of it its neighbours hold, still x0), trains to
// the end and ends close to the others.
TEST_F(LauncherProcesses, ALateJoinerJoinsTheRunningRunOverTcp) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "8 instrumented processes per launch; the join protocol is tested in-process "
                  "and in the simulator";
#endif
  const std::string exp = WriteExperiment(
      400, 0, "5ms",
      "emulate: true\nheartbeat: 50ms\ndead_after: 400ms\n"
      "algorithm: dcd\ncompressor: \"qsgd:8\"\n"
      "runs:\n  - {name: clean}\n  - {name: late, faults: [{at_round: 100, join: 2}]}\n"
      "  - {name: ad-clean, algorithm: adpsgd, rounds: 1000000, duration: 3s}\n"
      "  - {name: ad-faults, algorithm: adpsgd, rounds: 1000000, duration: 3s, faults: "
      "[{at: 0.5s, join: 2}, {at: 1s, kill: 0}, {at: 1.8s, restart: 0}]}\n");
  LaunchOptions o = Options(exp);
  auto r = Launch(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const RunSummary &clean = (*r)[0], &late = (*r)[1];
  EXPECT_EQ(late.peers_alive, 4);
  EXPECT_EQ(late.rounds, 400);
  EXPECT_LT(std::abs(late.final_point.train_loss - clean.final_point.train_loss),
            0.05 * clean.final_point.train_loss);
  const std::string run_dir = o.out_dir + "/late";
  const double dist = testing_util::FinalDistanceToAverage(run_dir, 4, 2);
  EXPECT_GE(dist, 0) << "a final model is missing";
  EXPECT_LT(dist, 2 * clean.final_point.consensus)
      << "late joiner " << dist << ", fault-free consensus " << clean.final_point.consensus;
  const std::string faults = ReadAll(run_dir + "/faults.jsonl");
  EXPECT_NE(faults.find("\"action\":\"join\",\"peer\":2"), std::string::npos) << faults;
  const std::string log = ReadAll(run_dir + "/peer_2.log");
  EXPECT_NE(log.find("holders' copies of it verified identical"), std::string::npos) << log;
  // It joined mid-run: its metrics start well after round 1.
  const std::string m = ReadAll(run_dir + "/peer_2.jsonl");
  EXPECT_EQ(m.find("\"round\":1,"), std::string::npos);
  EXPECT_NE(m.find("\"round\":400,"), std::string::npos);
  // AD-PSGD: the late joiner and a restarted peer (a new process, a new incarnation) take a
  // neighbour's model and train on.
  const RunSummary &ad_clean = (*r)[2], &ad = (*r)[3];
  EXPECT_EQ(ad.peers_alive, 4);
  EXPECT_LT(std::abs(ad.final_point.train_loss - ad_clean.final_point.train_loss),
            0.05 * ad_clean.final_point.train_loss);
  for (int peer : {0, 2}) {
    const std::string peer_log =
        ReadAll(o.out_dir + "/ad-faults/peer_" + std::to_string(peer) + ".log");
    EXPECT_NE(peer_log.find("joined at step"), std::string::npos) << peer_log;
  }
  EXPECT_EQ(LivePeers(), 0);
}

}  // namespace
}  // namespace hearsay
