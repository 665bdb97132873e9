// Partitions and downed links (issue 11 items 5-6, docs/faults.md): executed by every peer's
// network emulator, so the same schedule runs in the simulator and in-process (here) and over
// TCP (launcher_process_test). A 4|4 partition of an 8-ring for rounds 100-200 of 300: both
// halves keep training (their models drift apart), and after the heal the consensus distance
// falls below its pre-partition value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "runtime/launch/launcher.h"
#include "runtime/peer/experiment.h"
#include "tests/runtime/run_test_util.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

class NetworkFaults : public ::testing::TestWithParam<TransportKind> {
 protected:
  void SetUp() override {
    Write("ring8.yaml",
          "nodes: 8\nbase_port: 17560\ngenerator: {kind: ring}\nweights: metropolis\n"
          "links:\n  default: {bandwidth: 100Mbit, latency: 2ms}\n");
  }
  void Write(const std::string& name, const std::string& text) { tmp_.Write(name, text); }
  // Label-sorted data, so that two halves of the ring drift apart when cut off from each other.
  std::string Experiment(const std::string& faults, const std::string& algorithm) {
    Write("exp.yaml",
          "topology: ring8.yaml\nrounds: 300\neval_every: 10\nheartbeat: 20ms\n"
          "dead_after: 100ms\ncompute_time: 1ms\nlr: 0.05\nmodel: softmax\n"
          "data: {kind: synthetic, samples: 4000, features: 20, classes: 4, "
          "partition: label_sorted}\n" +
              algorithm + "faults:\n" + faults);
    return dir_ + "/exp.yaml";
  }
  Result<std::vector<RunSummary>> Launch(const std::string& exp) {
    LaunchOptions o;
    o.experiment_path = exp;
    o.out_dir = dir_ + "/out";
    o.transport = GetParam();
    return hearsay::Launch(o);
  }
  testing_util::TempDir tmp_;
  const std::string dir_ = tmp_.path();
};

// Consensus distance by evaluation round.
std::map<int64_t, double> Consensus(const RunSummary& s) {
  std::map<int64_t, double> c;
  for (const EvalPoint& p : s.curve) c[p.round] = p.consensus;
  return c;
}

TEST_P(NetworkFaults, PartitionSplitsTheGraphAndTheHalvesMergeWhenItHeals) {
  for (const char* algorithm :
       {"algorithm: dcd\ncompressor: \"qsgd:8\"\n", "algorithm: choco\ncompressor: \"qsgd:4\"\n"}) {
    auto r = Launch(Experiment(
        "  - {at_round: 100, until_round: 200, partition: [[0, 1, 2, 3], [4, 5, 6, 7]]}\n",
        algorithm));
    ASSERT_TRUE(r.ok()) << r.status().message();
    const RunSummary& s = (*r)[0];
    EXPECT_EQ(s.status, "ok");
    EXPECT_EQ(s.peers_alive, 8);
    EXPECT_EQ(s.rounds, 300);
    std::map<int64_t, double> c = Consensus(s);
    ASSERT_TRUE(c.count(100) && c.count(190) && c.count(300)) << algorithm;
    // Cut off, each half trains on its own labels: the halves drift apart. (The largest distance
    // while cut: in-process the halves run at their own pace, and when the faster one reaches
    // round 200 the slower one merges before its own rounds up to 200.)
    double cut = 0;
    for (const auto& [round, d] : c) {
      if (round > 100 && round <= 200) cut = std::max(cut, d);
    }
    // Cut, the largest distance was 41-45x the one before (dcd) and 14-15x (choco) in 16 runs
    // here, and 9.5x in about one in-process run in twenty, where a timing pattern of the two
    // halves recurs (0.855 against 0.090, the same numbers each time, before this session's
    // changes too); connected peers' distance shrinks as they train. 5x is a split, not noise.
    EXPECT_GT(cut, 5 * c[100]) << algorithm << " before " << c[100] << " cut " << cut;
    // Healed: one graph again.
    EXPECT_LT(c[300], c[100]) << algorithm << " before " << c[100] << " healed " << c[300];
    // The peers at the cut said so.
    if (GetParam() != TransportKind::kSim) {
      const std::string faults = ReadAll(dir_ + "/out/" + s.run + "/faults.jsonl");
      EXPECT_NE(faults.find("\"action\":\"partition\""), std::string::npos) << faults;
      EXPECT_NE(faults.find("\"action\":\"heal\""), std::string::npos) << faults;
    }
  }
}

TEST_P(NetworkFaults, ADownedLinkComesBack) {
  auto r = Launch(Experiment("  - {at: 0.1s, for: 0.15s, link_down: [3, 4]}\n",
                             "algorithm: dcd\ncompressor: \"qsgd:8\"\n"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const RunSummary& s = (*r)[0];
  EXPECT_EQ(s.peers_alive, 8);
  EXPECT_EQ(s.rounds, 300);
  std::map<int64_t, double> c = Consensus(s);
  EXPECT_LT(c[300], 0.1) << c[300];
}

INSTANTIATE_TEST_SUITE_P(Transports, NetworkFaults,
                         ::testing::Values(TransportKind::kSim, TransportKind::kInproc),
                         [](const auto& info) { return std::string(TransportName(info.param)); });

// kill and pause in one process: the launcher sets flags the peer threads poll. A killed peer
// stops without a goodbye (its neighbours see its links close); a paused one does nothing until
// resumed, is declared dead meanwhile, and is re-admitted.
class InProcFaults : public NetworkFaults {};

// The same schedule in one process and in the simulator (virtual time: a killed peer's links
// close at once, a paused one holds what arrives until the pause ends).
TEST_P(InProcFaults, KillAndPauseRunInOneProcess) {
  Write("exp.yaml",
        "topology: ring8.yaml\nrounds: 200\neval_every: 10\nheartbeat: 50ms\n"
        "dead_after: 300ms\ncompute_time: 1ms\nlr: 0.05\nmodel: softmax\n"
        "data: {kind: synthetic, samples: 4000, features: 20, classes: 4}\n"
        "algorithm: dcd\ncompressor: \"qsgd:8\"\nruns:\n  - {name: clean}\n"
        "  - {name: kill, faults: [{at_round: 50, kill: 3}]}\n"
        "  - {name: pause, algorithm: choco, compressor: \"qsgd:4\", "
        "faults: [{at_round: 50, pause: 5, for: 0.6s}]}\n"
        "  - {name: adpsgd, algorithm: adpsgd, rounds: 1000000, duration: 2s, "
        "faults: [{at: 0.5s, kill: 6}]}\n");
  auto r = Launch(dir_ + "/exp.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  const RunSummary &clean = (*r)[0], &kill = (*r)[1], &pause = (*r)[2];
  EXPECT_EQ(clean.peers_alive, 8);
  EXPECT_EQ(kill.peers_alive, 7);
  EXPECT_EQ(kill.rounds, 200);
  EXPECT_LT(std::abs(kill.final_point.train_loss - clean.final_point.train_loss),
            0.05 * clean.final_point.train_loss);
  EXPECT_NE(ReadAll(dir_ + "/out/kill/peers.csv").find("3,killed,killed by the fault schedule"),
            std::string::npos);
  EXPECT_EQ(pause.peers_alive, 8);
  EXPECT_EQ(pause.rounds, 200);
  if (GetParam() == TransportKind::kInproc) {
    const std::string paused = ReadAll(dir_ + "/out/pause/faults.jsonl");
    EXPECT_NE(paused.find("\"action\":\"pause\",\"peer\":5"), std::string::npos) << paused;
    EXPECT_NE(paused.find("\"action\":\"resume\",\"peer\":5"), std::string::npos) << paused;
    EXPECT_NE(ReadAll(dir_ + "/out/kill/faults.jsonl").find("\"action\":\"kill\",\"peer\":3"),
              std::string::npos);
  }
  // AD-PSGD gives up the averages a dead partner never answers and goes on (bounded by time:
  // its wait-free steps outrun a launcher that reads rounds from the metrics files).
  const RunSummary& ad = (*r)[3];
  EXPECT_EQ(ad.peers_alive, 7);
  EXPECT_GT(ad.rounds, 200);
  EXPECT_LT(std::abs(ad.final_point.train_loss - clean.final_point.train_loss),
            0.05 * clean.final_point.train_loss);
}

INSTANTIATE_TEST_SUITE_P(Transports, InProcFaults,
                         ::testing::Values(TransportKind::kSim, TransportKind::kInproc),
                         [](const auto& info) { return std::string(TransportName(info.param)); });

// Kill, then restart: the restarted peer rejoins -- it takes the copy of itself its neighbours
// hold and their own public copies, every holder adopts the same copy of it (verified by hash;
// a mismatch fails the run) -- trains to the end, and ends close to the others.
class Rejoin : public NetworkFaults {};
class RejoinRuns : public NetworkFaults {
 protected:
  static constexpr const char* kAlgorithms[] = {"dcd, compressor: \"qsgd:8\"",
                                                "choco, compressor: \"qsgd:4\"",
                                                "ecd, compressor: \"qsgd:8\"", "dpsgd"};
  // Runs `algorithm` on the 8-ring for 300 rounds fault-free ("clean") and with `faults`
  // ("faulty"), and checks that the faulty run ends complete -- 8 alive, 300 rounds, the loss
  // within 5% of the clean run's -- with `peer` (the one that joined) closer to the average
  // model than twice the clean run's consensus distance. Returns the faulty run's folder.
  std::string RunWithAndWithout(const std::string& algorithm, const std::string& faults, int peer) {
    Write("exp.yaml",
          "topology: ring8.yaml\nrounds: 300\neval_every: 10\n"
          "heartbeat: 50ms\ndead_after: 300ms\ncompute_time: 1ms\nlr: 0.05\n"
          "model: softmax\n"
          "data: {kind: synthetic, samples: 4000, features: 20, classes: 4}\n"
          "runs:\n  - {name: clean, algorithm: " +
              algorithm + "}\n  - {name: faulty, algorithm: " + algorithm + ", faults: " + faults +
              "}\n");
    auto r = Launch(dir_ + "/exp.yaml");
    if (!r.ok()) {
      ADD_FAILURE() << algorithm << ": " << r.status().message();
      return "";
    }
    const RunSummary &clean = (*r)[0], &faulty = (*r)[1];
    EXPECT_EQ(faulty.peers_alive, 8) << algorithm;
    EXPECT_EQ(faulty.rounds, 300) << algorithm;
    EXPECT_LT(std::abs(faulty.final_point.train_loss - clean.final_point.train_loss),
              0.05 * clean.final_point.train_loss)
        << algorithm;
    // The peer's squared distance to the average model, against the fault-free consensus
    // distance (the mean over peers of the same squared distance).
    const double dist = testing_util::FinalDistanceToAverage(dir_ + "/out/faulty", 8, peer);
    EXPECT_GE(dist, 0) << algorithm << ": a final model is missing";
    EXPECT_LT(dist, 2 * clean.final_point.consensus)
        << algorithm << ": peer " << peer << " " << dist << ", fault-free consensus "
        << clean.final_point.consensus;
    return dir_ + "/out/faulty";
  }
};

TEST_P(RejoinRuns, ARestartedPeerRejoinsWithExactCopiesForEveryGossipAlgorithm) {
  for (const char* algorithm : kAlgorithms) {
    const std::string run =
        RunWithAndWithout(algorithm, "[{at_round: 50, kill: 3}, {at_round: 150, restart: 3}]", 3);
    if (run.empty()) return;
    // Its metrics: rounds 1..50 and on (until the kill), then from its rejoin round to 300,
    // with the rounds it was dead for missing.
    const std::string m = ReadAll(run + "/peer_3.jsonl");
    EXPECT_NE(m.find("\"round\":50,"), std::string::npos);
    EXPECT_NE(m.find("\"round\":300,"), std::string::npos);
    EXPECT_LT(std::count(m.begin(), m.end(), '\n'), 280) << "peer 3 was dead for a while";
    if (GetParam() == TransportKind::kInproc) {
      const std::string f = ReadAll(run + "/faults.jsonl");
      EXPECT_NE(f.find("\"action\":\"restart\",\"peer\":3"), std::string::npos) << f;
    }
  }
}

// A late joiner (`join:`): peer 5 is not started with the run; at round 100 it starts and joins
// by the same state transfer (its neighbours' copies of it are still x0, round 0), trains to the
// end and ends close to the others, for every gossip algorithm.
TEST_P(RejoinRuns, ALateJoinerJoinsWithExactCopiesForEveryGossipAlgorithm) {
  for (const char* algorithm : kAlgorithms) {
    const std::string run = RunWithAndWithout(algorithm, "[{at_round: 100, join: 5}]", 5);
    if (run.empty()) return;
    // Its metrics start at the round it joined at, after round 100 (in-process: when the
    // launcher saw round 100, a few rounds later), and go to the end.
    const std::string m = ReadAll(run + "/peer_5.jsonl");
    EXPECT_EQ(m.find("\"round\":100,"), std::string::npos) << algorithm;
    EXPECT_NE(m.find("\"round\":300,"), std::string::npos) << algorithm;
    EXPECT_LE(std::count(m.begin(), m.end(), '\n'), 200) << algorithm;
    const std::string peers = ReadAll(run + "/peers.csv");
    EXPECT_NE(peers.find("5,finished"), std::string::npos) << peers;
    if (GetParam() == TransportKind::kInproc) {
      const std::string f = ReadAll(run + "/faults.jsonl");
      EXPECT_NE(f.find("\"action\":\"join\",\"peer\":5"), std::string::npos) << f;
    }
  }
}

// AD-PSGD: a restarted peer and a late joiner join by taking the model of the neighbour furthest
// along; the run goes on and both end close to the others. (Not neighbours of each other: a peer
// between a dead and an absent one trains alone meanwhile, and AD-PSGD's averaging takes longer
// than the rest of this short run to pull it back.)
TEST_P(RejoinRuns, AdpsgdPeersRestartAndJoinLate) {
  // Bounded by time, with the faults at times: wait-free AD-PSGD steps at the pace of its
  // computation, which in one process is far faster than the launcher reads rounds.
  Write("exp.yaml",
        "topology: ring8.yaml\nduration: 3s\neval_every: 10\nheartbeat: 50ms\n"
        "dead_after: 300ms\ncompute_time: 1ms\nlr: 0.05\nmodel: softmax\n"
        "data: {kind: synthetic, samples: 4000, features: 20, classes: 4}\n"
        "algorithm: adpsgd\nruns:\n  - {name: clean}\n"
        "  - {name: faults, faults: [{at: 0.5s, kill: 1}, {at: 1s, join: 5}, "
        "{at: 1.5s, restart: 1}]}\n");
  auto r = Launch(dir_ + "/exp.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const RunSummary &clean = (*r)[0], &faults = (*r)[1];
  EXPECT_EQ(faults.peers_alive, 8);
  EXPECT_LT(std::abs(faults.final_point.train_loss - clean.final_point.train_loss),
            0.05 * clean.final_point.train_loss);
  // The joiners are not outliers: each ends closer to the average than three times the farthest
  // of the peers that never left (a joiner that did not take a neighbour's model would start
  // from x0, far behind the others). Against the fault-free consensus it is not a fair bound:
  // AD-PSGD peers finish at different times and stop averaging, and in real time (in-process, on a
  // loaded machine) who finishes last -- which dominates the final spread -- varies run to run;
  // twice the farthest failed about once in twenty runs on a loaded machine (0.0041 against
  // 2 x 0.0019, with a fault-free consensus of 0.0042).
  double farthest = 0;
  for (int peer : {0, 2, 3, 4, 6, 7}) {
    farthest =
        std::max(farthest, testing_util::FinalDistanceToAverage(dir_ + "/out/faults", 8, peer));
  }
  for (int peer : {1, 5}) {
    const double dist = testing_util::FinalDistanceToAverage(dir_ + "/out/faults", 8, peer);
    EXPECT_GE(dist, 0) << "peer " << peer << ": no final model";
    EXPECT_LT(dist, 3 * farthest) << "peer " << peer << ": " << dist
                                  << ", the farthest peer that never left " << farthest
                                  << " (fault-free consensus " << clean.final_point.consensus
                                  << ")";
  }
  const std::string peers = ReadAll(dir_ + "/out/faults/peers.csv");
  EXPECT_NE(peers.find("1,finished"), std::string::npos) << peers;
  EXPECT_NE(peers.find("5,finished"), std::string::npos) << peers;
}

// A late joiner whose join never comes (the run ends first) is reported absent, and the others'
// run is complete without it.
TEST_P(RejoinRuns, ALateJoinerTheRunEndsBeforeIsAbsent) {
  Write("exp.yaml",
        "topology: ring8.yaml\nrounds: 60\neval_every: 10\nheartbeat: 50ms\n"
        "dead_after: 300ms\ncompute_time: 1ms\nlr: 0.05\nmodel: softmax\n"
        "data: {kind: synthetic, samples: 4000, features: 20, classes: 4}\n"
        "algorithm: dcd\ncompressor: \"qsgd:8\"\n"
        "runs:\n  - {name: never, faults: [{at: 1000s, join: 5}]}\n");
  auto r = Launch(dir_ + "/exp.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].peers_alive, 7);
  EXPECT_EQ((*r)[0].rounds, 60);
  EXPECT_TRUE(std::isfinite((*r)[0].final_point.train_loss));
  const std::string peers = ReadAll(dir_ + "/out/never/peers.csv");
  EXPECT_NE(peers.find("5,absent,never joined: the run ended before its join (line 13)"),
            std::string::npos)
      << peers;
}

INSTANTIATE_TEST_SUITE_P(Transports, RejoinRuns,
                         ::testing::Values(TransportKind::kSim, TransportKind::kInproc),
                         [](const auto& info) { return std::string(TransportName(info.param)); });

TEST_F(Rejoin, ARestartIsRefusedWhereItCannotRun) {
  LaunchOptions o;
  o.out_dir = dir_ + "/out";
  o.experiment_path =
      Experiment("  - {at_round: 10, restart: 1}\n", "algorithm: dcd\ncompressor: \"qsgd:8\"\n");
  o.transport = TransportKind::kSim;
  auto r = hearsay::Launch(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is not killed earlier in the schedule"), std::string::npos)
      << r.status().message();
  o.experiment_path = Experiment("  - {at_round: 10, kill: 1}\n  - {at_round: 20, restart: 1}\n",
                                 "algorithm: allreduce\n");
  r = hearsay::Launch(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("allreduce does not go on without a dead peer"),
            std::string::npos)
      << r.status().message();
}

// --chaos: random kills, each followed by a restart, seeded; the run goes on, the restarted peers
// rejoin, and the summary says what it cost (goodput < 1, the mean time to rejoin).
TEST_F(Rejoin, ChaosKillsAndRestartsPeersAndTheRunGoesOn) {
  Write("exp.yaml",
        "topology: ring8.yaml\nduration: 20s\neval_every: 100\nheartbeat: 100ms\n"
        "dead_after: 500ms\ncompute_time: 5ms\nlr: 0.05\nmodel: softmax\n"
        "data: {kind: synthetic, samples: 4000, features: 20, classes: 4}\n"
        "algorithm: dcd\ncompressor: \"qsgd:8\"\nruns:\n  - {name: chaos}\n");
  LaunchOptions o;
  o.experiment_path = dir_ + "/exp.yaml";
  o.transport = TransportKind::kSim;
  o.out_dir = dir_ + "/clean";
  auto clean = hearsay::Launch(o);
  ASSERT_TRUE(clean.ok()) << clean.status().message();
  EXPECT_EQ((*clean)[0].goodput, 1.0);
  o.chaos_rate = 12;  // kills per minute: about 4 in 20 s
  std::vector<RunSummary> chaotic;
  for (const char* out : {"/chaos1", "/chaos2"}) {
    o.out_dir = dir_ + out;
    auto r = hearsay::Launch(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    chaotic.push_back((*r)[0]);
  }
  const RunSummary& c = chaotic[0];
  EXPECT_LT(c.goodput, 0.99);
  EXPECT_GT(c.goodput, 0.5);
  EXPECT_TRUE(std::isfinite(c.mean_rejoin_s)) << "no restarted peer rejoined";
  EXPECT_LT(c.mean_rejoin_s, 5.0);
  EXPECT_GE(c.peers_alive, 6);
  EXPECT_LT(std::abs(c.final_point.train_loss - (*clean)[0].final_point.train_loss),
            0.05 * (*clean)[0].final_point.train_loss);
  // Seeded: the same schedule, the same result, bit for bit.
  EXPECT_EQ(chaotic[1].final_point.train_loss, c.final_point.train_loss);
  EXPECT_EQ(chaotic[1].goodput, c.goodput);
  // A run bounded by rounds has no time line for random faults.
  Write("exp.yaml", "topology: ring8.yaml\nrounds: 50\nalgorithm: dcd\ncompressor: \"qsgd:8\"\n");
  auto bad = hearsay::Launch(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("chaos runs are bounded by `duration:`"), std::string::npos)
      << bad.status().message();
  // A run that cannot lose a peer is named with the flag, not as "exp.yaml:0".
  Write("exp.yaml", "topology: ring8.yaml\nduration: 5s\nheartbeat: 100ms\nalgorithm: allreduce\n");
  bad = hearsay::Launch(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(
                "--chaos: run 'allreduce-identity': fault 'kill': allreduce does not "
                "go on without a dead peer (docs/faults.md); leave this "
                "run out with --run NAME"),
            std::string::npos)
      << bad.status().message();
}

class NetworkFaultErrors : public NetworkFaults {};

TEST_F(NetworkFaultErrors, BadSchedulesAreRefusedWithTheirLine) {
  struct Case {
    const char* faults;
    const char* says;
  };
  const Case cases[] = {
      {"  - {at_round: 10, for: 1s, partition: [[0, 1]]}\n", "ends at `until_round:`"},
      {"  - {at: 1s, until_round: 20, link_down: [0, 1]}\n", "`until_round:` ends a partition"},
      {"  - {at_round: 10, until_round: 5, link_down: [0, 1]}\n", "until_round"},
      {"  - {at_round: 10, until_round: 20, kill: 1}\n", "`until_round:` ends a partition"},
      {"  - {at_round: 10, link_down: [0, 2]}\n", "not neighbours"},
      {"  - {at_round: 10, partition: [[0, 1], [1, 2]]}\n", "must not overlap"},
      {"  - {at_round: 10, join: 1}\n  - {at_round: 20, join: 1}\n", "and only once"},
      {"  - {at_round: 10, kill: 1}\n  - {at_round: 20, join: 1}\n",
       "joins late; put its `join:` before"},
      {"  - {at_round: 10, join: 0}\n  - {at_round: 10, join: 1}\n  - {at_round: 10, join: 2}\n",
       "every neighbour of peer 1 joins late too"},
      {"  - {at_round: 10, join: 9}\n", "9"},
  };
  for (const Case& c : cases) {
    auto exp = LoadExperiment(Experiment(c.faults, "algorithm: dcd\ncompressor: \"qsgd:8\"\n"));
    ASSERT_FALSE(exp.ok()) << c.faults;
    EXPECT_NE(exp.status().message().find("exp.yaml:"), std::string::npos)
        << exp.status().message();
    EXPECT_NE(exp.status().message().find(c.says), std::string::npos) << exp.status().message();
  }
  // A late joiner needs a state transfer; checkpoints of its run are not supported.
  for (const char* algorithm : {"algorithm: allreduce\n",
                                "algorithm: dcd\ncompressor: \"qsgd:8\"\ncheckpoint_every: 10\n"}) {
    auto exp = LoadExperiment(Experiment("  - {at_round: 10, join: 1}\n", algorithm));
    ASSERT_FALSE(exp.ok()) << algorithm;
    EXPECT_NE(exp.status().message().find("exp.yaml:"), std::string::npos)
        << exp.status().message();
    EXPECT_NE(exp.status().message().find("join"), std::string::npos) << exp.status().message();
  }
  // The emulator executes them: a run without it cannot.
  LaunchOptions o;
  o.experiment_path =
      Experiment("  - {at_round: 10, link_down: [0, 1]}\n", "algorithm: dcd\nemulate: false\n");
  o.out_dir = dir_ + "/out";
  o.transport = TransportKind::kSim;
  auto r = hearsay::Launch(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs emulate: true"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace hearsay
