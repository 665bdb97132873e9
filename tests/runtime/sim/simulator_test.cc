// The simulator (issue 12) and the AD-PSGD and all-reduce cores: sim == in-process == TCP for
// synchronous runs, determinism, arrival times of the link model, all-reduce == centralized SGD.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "runtime/data/sampler.h"
#include "runtime/peer/run_files.h"
#include "runtime/sim/replay.h"
#include "tests/runtime/run_test_util.h"

namespace hearsay {
namespace {

using testing_util::ExperimentYaml;
using testing_util::FreePortBase;
using testing_util::LoadFrom;
using testing_util::RingYaml;
using testing_util::RunPeers;
using testing_util::RunSim;
using testing_util::SameBits;
using testing_util::TempDir;

std::string Keys(const std::string& algorithm) {
  if (algorithm == "dpsgd" || algorithm == "allreduce" || algorithm == "adpsgd") {
    return "algorithm: " + algorithm + "\n";
  }
  if (algorithm == "choco")
    return "algorithm: choco\ncompressor: \"qsgd:4\"\nconsensus_step: 0.4\n";
  return "algorithm: " + algorithm + "\ncompressor: \"qsgd:8\"\n";
}

class SimEqualsRealRuns : public ::testing::TestWithParam<const char*> {};

TEST_P(SimEqualsRealRuns, FinalModelsAreBitIdentical) {
  TempDir dir;
  const Experiment exp =
      LoadFrom(dir, RingYaml(4, FreePortBase(4), "bandwidth: 1Gbit, latency: 1ms, jitter: 1ms"),
               ExperimentYaml(Keys(GetParam()), 15));
  const RunConfig& run = exp.runs.front();
  auto sim = RunSim(exp, run);
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  const auto inproc = RunPeers(exp, run, /*tcp=*/false);
  const auto tcp = RunPeers(exp, run, /*tcp=*/true);
  ASSERT_EQ(inproc.size(), 4u);
  ASSERT_EQ(tcp.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(SameBits(sim->final_models[i], inproc[i])) << "peer " << i << " sim vs inproc";
    EXPECT_TRUE(SameBits(sim->final_models[i], tcp[i])) << "peer " << i << " sim vs TCP";
  }
  EXPECT_GT(sim->virtual_seconds, 15 * 0.001);  // at least one latency per round
  EXPECT_EQ(sim->peer_rounds, 4 * 15);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SimEqualsRealRuns,
                         ::testing::Values("dpsgd", "dcd", "ecd", "choco", "allreduce"));

TEST(Simulator, AsyncRunsAreReproducibleAndSeedDependent) {
  TempDir dir;
  Experiment exp = LoadFrom(dir, RingYaml(6, 30000, "bandwidth: 20Mbit, latency: 5ms, jitter: 4ms"),
                            ExperimentYaml("algorithm: choco\ncompressor: \"qsgd:4\"\nmode: async\n"
                                           "staleness: 2\ncompute_time: 0.004\n",
                                           40));
  RunConfig run = exp.runs.front();
  auto a = RunSim(exp, run);
  auto b = RunSim(exp, run);
  run.seed += 1;
  auto c = RunSim(exp, run);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(SameBits(a->final_models[i], b->final_models[i])) << "peer " << i;
    EXPECT_FALSE(SameBits(a->final_models[i], c->final_models[i])) << "peer " << i;
  }
  EXPECT_EQ(a->virtual_seconds, b->virtual_seconds);
  EXPECT_EQ(a->events, b->events);
  EXPECT_GT(a->max_staleness, 0);  // jitter made it asynchronous for real
}

// Records when each gossip message left and arrived, in virtual time.
struct Timing : SimObserver {
  std::map<std::tuple<int, int, int64_t>, std::pair<double, uint64_t>> sent;  // (from,to,round)
  std::map<std::tuple<int, int, int64_t>, double> arrived;
  void OnSend(double now, const Message& m, uint64_t wire) override {
    if (m.kind == MessageKind::kGossip) sent[{m.from, m.to, m.round}] = {now, wire};
  }
  void OnDeliver(double now, const Message& m) override {
    if (m.kind == MessageKind::kGossip) arrived[{m.from, m.to, m.round}] = now;
  }
};

TEST(Simulator, ArrivalTimesFollowTheLinkModel) {
  TempDir dir;
  // Idle links: latency + 8 S / bandwidth, exactly.
  Experiment exp = LoadFrom(dir, RingYaml(4, 30000, "bandwidth: 8Mbit, latency: 30ms"),
                            ExperimentYaml("algorithm: dpsgd\ncompute_time: 0.001\n", 3));
  Timing t;
  auto r = RunSim(exp, exp.runs.front(), &t);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(t.sent.size(), 4u * 2 * 3);
  // Round 1: both messages of a peer start together and share nothing (no egress cap).
  for (const auto& [key, s] : t.sent) {
    if (std::get<2>(key) != 1) continue;
    const double expected = 0.030 + 8.0 * static_cast<double>(s.second) / 8e6;
    EXPECT_NEAR(t.arrived.at(key) - s.first, expected, 1e-12);
  }
  // With a 4 Mbit/s egress per node, a peer's two simultaneous messages share it max-min
  // fairly (fluid model): of sizes a <= b bits, the first is sent after 2a / E, the second after
  // (a + b) / E.
  const std::string topo =
      "nodes:\n" +
      [] {
        std::string s;
        for (int i = 0; i < 4; ++i) s += "  - {egress: 4Mbit}\n";
        return s;
      }() +
      "base_port: 30000\ngenerator: {kind: ring}\nweights: metropolis\nlinks:\n" +
      "  default: {bandwidth: 100Mbit, latency: 10ms}\n";
  exp = LoadFrom(dir, topo, ExperimentYaml("algorithm: dpsgd\ncompute_time: 0.001\n", 2));
  Timing t2;
  r = RunSim(exp, exp.runs.front(), &t2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const double egress = 4e6;
  int checked = 0;
  for (int i = 0; i < 4; ++i) {
    std::vector<std::pair<double, std::tuple<int, int, int64_t>>> mine;  // (bits, key)
    for (const auto& [key, s] : t2.sent) {
      if (std::get<0>(key) == i && std::get<2>(key) == 1) {
        mine.emplace_back(8.0 * static_cast<double>(s.second), key);
      }
    }
    ASSERT_EQ(mine.size(), 2u);
    std::sort(mine.begin(), mine.end());
    const double a = mine[0].first, b = mine[1].first;
    const double start = t2.sent.at(mine[0].second).first;
    EXPECT_NEAR(t2.arrived.at(mine[0].second) - start, 0.010 + 2 * a / egress, 1e-12);
    EXPECT_NEAR(t2.arrived.at(mine[1].second) - start, 0.010 + (a + b) / egress, 1e-12);
    checked += 2;
  }
  EXPECT_EQ(checked, 8);
}

// All-reduce with the identity codec is mini-batch SGD over n x batch samples, and each peer
// sends 2(n-1)/n of the model per round.
// Every wait of a peer has a timer (the next heartbeat, 0.5 s away): an event queued per wait
// used to stay in the queue until its time, 25 of them per peer on a 20 ms ring. The queue must
// hold a few events per peer, not one per round of the heartbeat interval; and the timers must
// still fire (a silent neighbour is declared dead on time: DeadNeighbour... below).
TEST(Simulator, EventQueueHoldsAFewEventsPerPeerNotOnePerWait) {
  TempDir dir;
  const int n = 16;
  Experiment exp = LoadFrom(dir, RingYaml(n, 30000, "bandwidth: 20Mbit, latency: 20ms"),
                            ExperimentYaml("algorithm: dcd\ncompressor: \"qsgd:8\"\n"
                                           "compute_time: 0.001\n",
                                           100));
  auto r = RunSim(exp, exp.runs.front());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->peer_rounds, 100 * n);
  EXPECT_GT(r->virtual_seconds, 100 * 0.020);  // rounds of more than the latency: many waits
  EXPECT_LE(r->peak_queued_events, 4u * n) << "events per peer in the queue at its largest";
}

TEST(Allreduce, EqualsCentralizedMinibatchSgd) {
  TempDir dir;
  const int n = 4;
  const int rounds = 10;
  const Experiment exp = LoadFrom(dir, RingYaml(n, 30000, "bandwidth: 1Gbit, latency: 1ms"),
                                  ExperimentYaml("algorithm: allreduce\n", rounds));
  const RunConfig& run = exp.runs.front();
  Timing t;
  auto r = RunSim(exp, run, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto workload = BuildWorkload(run, n);
  ASSERT_TRUE(workload.ok());
  const Model& model = *workload->model;
  std::vector<float> x(model.num_params()), g(x.size()), sum(x.size());
  model.Init(run.seed, x);
  std::vector<MinibatchSampler> samplers;
  for (int i = 0; i < n; ++i) {
    samplers.emplace_back(workload->train, workload->shards[i], run.batch_size, run.seed, i);
  }
  for (int s = 1; s <= rounds; ++s) {
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (int i = 0; i < n; ++i) {
      model.LossAndGradient(x, samplers[i].Next(s), g);
      for (size_t k = 0; k < x.size(); ++k) sum[k] += g[k];
    }
    const double lr = run.lr.At(s);
    for (size_t k = 0; k < x.size(); ++k) x[k] -= static_cast<float>(lr * sum[k] / n);
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(r->final_models[i].size(), x.size());
    EXPECT_TRUE(SameBits(r->final_models[i], r->final_models[0])) << "peers agree bit for bit";
    for (size_t k = 0; k < x.size(); ++k) {
      EXPECT_NEAR(r->final_models[i][k], x[k], 1e-5 * (1 + std::fabs(x[k]))) << k;
    }
  }
  // Bytes: 2(n-1) chunks of d/n floats per peer and round, plus framing.
  const double model_bytes = 4.0 * static_cast<double>(x.size());
  const double per_round = static_cast<double>(r->bytes_sent[0]) / rounds;
  EXPECT_GT(per_round, 2.0 * (n - 1) / n * model_bytes);
  EXPECT_LT(per_round, 2.0 * (n - 1) / n * model_bytes + 2 * (n - 1) * 80 + 400);
}

TEST(Allreduce, CompressedChunksStillKeepPeersIdenticalAndLearn) {
  TempDir dir;
  const Experiment exp =
      LoadFrom(dir, RingYaml(5, 30000, "bandwidth: 1Gbit, latency: 1ms"),
               ExperimentYaml("algorithm: allreduce\ncompressor: \"qsgd:4\"\n", 40));
  auto r = RunSim(exp, exp.runs.front());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (int i = 1; i < 5; ++i) EXPECT_TRUE(SameBits(r->final_models[i], r->final_models[0]));
  EXPECT_LT(r->evals.back().train_loss, std::log(3.0));
  EXPECT_EQ(r->evals.back().consensus, 0.0);
}

// AD-PSGD on odd and even rings: no deadlock, and a loss within 5% of D-PSGD's.
class AdpsgdRing : public ::testing::TestWithParam<int> {};

TEST_P(AdpsgdRing, FinishesAndMatchesDpsgd) {
  TempDir dir;
  const int n = GetParam();
  const Experiment exp =
      LoadFrom(dir, RingYaml(n, FreePortBase(n), "bandwidth: 100Mbit, latency: 2ms, jitter: 2ms"),
               ExperimentYaml("compute_time: 0.002\n", 150));
  RunConfig dpsgd = exp.runs.front();
  RunConfig adpsgd = dpsgd;
  adpsgd.algorithm = AlgorithmKind::kAdpsgd;
  adpsgd.compressor = "identity";
  auto d = RunSim(exp, dpsgd);
  auto a = RunSim(exp, adpsgd);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const double ld = d->evals.back().train_loss, la = a->evals.back().train_loss;
  EXPECT_LT(std::fabs(la - ld) / ld, 0.05) << "dpsgd " << ld << " adpsgd " << la;
  for (int i = 0; i < n; ++i) EXPECT_EQ(a->final_rounds[i], 150);
  // adpsgd_wait: reply (one average per step, each step waiting for a round trip) reaches the
  // same loss; the default wait-free steps, with a round trip longer than a step here, finish
  // the same steps sooner.
  RunConfig reply = adpsgd;
  reply.adpsgd_wait_reply = true;
  auto w = RunSim(exp, reply);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const double lw = w->evals.back().train_loss;
  EXPECT_LT(std::fabs(lw - ld) / ld, 0.05) << "dpsgd " << ld << " adpsgd_wait: reply " << lw;
  EXPECT_LT(a->virtual_seconds, w->virtual_seconds);
  // The same over the in-process transport in real time, with a replayable log.
  const std::string out = dir.path() + "/out";
  const auto models = RunPeers(exp, adpsgd, /*tcp=*/false, out);
  ASSERT_EQ(models.size(), static_cast<size_t>(n));
  auto report = ReplayRecordedRun(adpsgd, exp.topology, out);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->all_identical());
}

INSTANTIATE_TEST_SUITE_P(Rings, AdpsgdRing, ::testing::Values(5, 8));

// An async DCD run on a 6-ring in the simulator with `keys` (faults, timers), its logs in `out`.
Experiment RecordAsyncDcd(const TempDir& dir, const std::string& keys, int rounds,
                          const std::string& out, SimResult* result) {
  Experiment exp = LoadFrom(dir, RingYaml(6, 30000, "bandwidth: 10Mbit, latency: 5ms"),
                            ExperimentYaml("algorithm: dcd\ncompressor: \"qsgd:8\"\nmode: async\n"
                                           "compute_time: 2ms\n" +
                                               keys,
                                           rounds));
  auto r = RunSim(exp, exp.runs.front(), nullptr, out);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (r.ok()) *result = std::move(r).value();
  return exp;
}

// A neighbour declared dead by the heartbeat timers and re-admitted later: the replay log holds
// these liveness changes as entries of the round where they took effect, and a replay applies
// them there. It used to wait for them as if they were messages (a peer's round 21 waiting for
// "peer 6's round 21", which peer 6 sends only after a round that waits for this peer): every
// such replay stalled until the round timeout.
TEST(Replay, ReplaysNeighboursDeclaredDeadAndReadmittedByTimers) {
  TempDir dir;
  const std::string out = dir.path() + "/out";
  SimResult r;
  const Experiment exp = RecordAsyncDcd(dir,
                                        "staleness: unbounded\nheartbeat: 30ms\n"
                                        "dead_after: 100ms\n"
                                        "faults:\n  - {at_round: 10, pause: 3, for: 150ms}\n",
                                        200, out, &r);
  ASSERT_EQ(r.peer_rounds, 6 * 200);
  // The run did what the test is about: peer 3's neighbours dropped it and took it back.
  for (int j : {2, 4}) {
    auto log = ReadReplayLog(RunFiles::ReplayPath(out, j));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    int dropped = 0, readmitted = 0;
    for (const auto& [round, ids] : *log) {
      for (const MessageId& m : ids) {
        dropped += m.from == 3 && m.kind == MessageKind::kFailed;
        readmitted += m.from == 3 && m.kind == MessageKind::kHeartbeat;
      }
    }
    EXPECT_EQ(dropped, 1) << "peer " << j;
    EXPECT_EQ(readmitted, 1) << "peer " << j;
  }
  RunConfig replay_run = exp.runs.front();
  replay_run.round_timeout_s = 5;  // a stall fails in seconds, not minutes
  auto report = ReplayRecordedRun(replay_run, exp.topology, out);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->all_identical());
}

// A replay runs every peer as fast as its log allows, so neighbours get further ahead than the
// staleness bound lets them in a real run; the "went on without this peer" warning is no news
// there (the recorded run logged it where it happened), and a replay stays quiet.
TEST(Replay, DoesNotRepeatTheRecordedRunsCatchUpWarnings) {
  TempDir dir;
  const std::string out = dir.path() + "/out";
  SimResult r;
  const Experiment exp = RecordAsyncDcd(dir,
                                        "staleness: 1\nheartbeat: 20ms\ndead_after: 60ms\n"
                                        "faults:\n  - {at_round: 10, pause: 2, for: 150ms}\n",
                                        120, out, &r);
  ASSERT_EQ(r.peer_rounds, 6 * 120);
  testing::internal::CaptureStdout();  // where the log goes
  auto report = ReplayRecordedRun(exp.runs.front(), exp.topology, out);
  const std::string log = testing::internal::GetCapturedStdout();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->all_identical());
  EXPECT_EQ(log.find("went on without this peer"), std::string::npos) << log;
}

// What a replay cannot reproduce -- a killed peer's last messages, a rejoining peer's state
// transfer -- is refused up front, in words, instead of stalling until the round timeout or
// failing on "no record of round 1".
TEST(Replay, RefusesRunsWithKillsRestartsAndLateJoinsInWords) {
  TempDir dir;
  const std::string out = dir.path() + "/out";
  SimResult r;
  const Experiment exp = RecordAsyncDcd(dir,
                                        "staleness: 3\nfaults:\n  - {at: 30ms, kill: 3}\n"
                                        "  - {at: 80ms, restart: 3}\n",
                                        60, out, &r);
  ASSERT_EQ(r.restarts, 1);
  auto report = ReplayRecordedRun(exp.runs.front(), exp.topology, out);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(report.status().message().find("has a `kill` fault: a replay reproduces runs whose "
                                           "peers all ran from the start to the end"),
            std::string::npos)
      << report.status().message();
  // The same logs without the schedule (a peer restarted by hand with `hearsay peer --rejoin`):
  // the restarted peer's log starts at its rejoin round, and the replay says what that means.
  RunConfig by_hand = exp.runs.front();
  by_hand.faults.clear();
  report = ReplayRecordedRun(by_hand, exp.topology, out);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("peer_3.replay: the log starts at round "),
            std::string::npos)
      << report.status().message();
  EXPECT_NE(report.status().message().find("peer 3 restarted or joined the run late"),
            std::string::npos);
}

// Records, for each peer and round, which senders' messages it applied.
struct Applied : SimObserver {
  std::map<std::pair<int, int64_t>, std::set<int>> from;  // (peer, round) -> senders
  void OnApplied(int peer, int64_t round, std::span<const MessageId> applied) override {
    for (const MessageId& m : applied) from[{peer, round}].insert(m.from);
  }
};

// AD-PSGD draws its partners among its live neighbours: once peer 1 has declared peer 2 dead
// (their link down for good from round 10), its averages all go to peer 0 -- no step is spent
// on a request to the dead one and given up (kDone in the log), beyond the one in flight when
// the link went down -- and the run replays bit for bit from its log.
TEST(Simulator, AdpsgdDrawsOnlyLivePartners) {
  TempDir dir;
  const std::string topo = RingYaml(4, 30000, "bandwidth: 100Mbit, latency: 1ms") +
                           "events:\n  - {round: 10, between: [1, 2], state: down}\n";
  Experiment exp = LoadFrom(dir, topo,
                            ExperimentYaml("algorithm: adpsgd\ncompute_time: 0.001\n"
                                           "heartbeat: 20ms\ndead_after: 100ms\n",
                                           400));
  struct GiveUps : SimObserver {
    std::map<std::pair<int, int>, int> given_up, replies;  // (peer, partner) -> count
    void OnApplied(int peer, int64_t, std::span<const MessageId> applied) override {
      for (const MessageId& m : applied) {
        if (m.kind == MessageKind::kDone) ++given_up[{peer, m.from}];
        if (m.kind == MessageKind::kAvgReply) ++replies[{peer, m.from}];
      }
    }
  } log;
  auto r = RunSim(exp, exp.runs.front(), &log);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r->final_rounds[i], 400) << "peer " << i;
  // A draw among both neighbours would send about half of peer 1's later requests to the dead
  // peer 2; each would be given up.
  const auto count = [](const std::map<std::pair<int, int>, int>& m, int peer, int partner) {
    const auto it = m.find({peer, partner});
    return it == m.end() ? 0 : it->second;
  };
  EXPECT_LE(count(log.given_up, 1, 2), 1);
  EXPECT_LE(count(log.given_up, 2, 1), 1);
  // Wait-free steps (1 ms) average about every third step here (a round trip of about 3 ms).
  EXPECT_GT(count(log.replies, 1, 0), 80) << count(log.given_up, 1, 2);
  EXPECT_LT(count(log.replies, 1, 2), 20);  // only before the link went down
}

// A link that goes down (messages held) and comes back: both ends declare each other dead after
// dead_after and train on without each other, then re-admit each other when the held messages
// arrive (at 0.25 s; a round takes about 1.25 ms, so about 200 rounds remain), catch up and mix
// again. Deterministic in the simulator.
TEST(Simulator, DeadNeighbourIsDroppedAndReadmittedWhenItsLinkReturns) {
  TempDir dir;
  const std::string topo = RingYaml(4, 30000, "bandwidth: 100Mbit, latency: 1ms") +
                           "events:\n  - {round: 10, between: [1, 2], state: down}\n"
                           "  - {at: 0.25s, between: [1, 2], state: up}\n";
  Experiment exp =
      LoadFrom(dir, topo,
               ExperimentYaml("algorithm: dcd\ncompressor: \"qsgd:8\"\ncompute_time: 0.001\n"
                              "heartbeat: 20ms\ndead_after: 100ms\n"
                              "mode: async\nstaleness: 0\n",  // = sync, with the absorb log
                              400));
  Applied applied;
  auto r = RunSim(exp, exp.runs.front(), &applied);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(exp.runs.front().mode, RunMode::kAsync);
  ASSERT_GT(applied.from.size(), 1000u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r->final_rounds[i], 400) << "peer " << i;
  int without = 0, with_after = 0;
  int64_t first_without = -1, last_without = -1;
  for (int64_t round = 1; round <= 400; ++round) {
    const auto it = applied.from.find({1, round});
    const bool has2 = it != applied.from.end() && it->second.count(2) > 0;
    if (!has2 && round > 10) {
      ++without;
      if (first_without < 0) first_without = round;
      last_without = round;
    }
    if (has2 && first_without > 0 && round > last_without) ++with_after;
  }
  EXPECT_GT(without, 0) << "peer 1 never went on without peer 2";
  EXPECT_GT(with_after, 50) << "peer 2 was not re-admitted (last round without it: " << last_without
                            << ")";
  // Peer 0, whose links never broke, mixed with both neighbours (and itself) in every round.
  for (int64_t round = 1; round <= 400; ++round) {
    const size_t senders = applied.from[std::make_pair(0, round)].size();
    EXPECT_EQ(senders, 3u) << "round " << round;
    if (senders != 3u) break;
  }
}

}  // namespace
}  // namespace hearsay
