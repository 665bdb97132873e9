// Divergence is a result: a run whose loss becomes non-finite is marked `diverged` in
// summary.csv (status and round), and the launch goes on with the next run, in-process and in
// the simulator; a failed run gets its row too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "runtime/launch/csv.h"
#include "runtime/launch/launcher.h"
#include "runtime/launch/results.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

class Divergence : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hearsay_divergence_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    Write("topo.yaml",
          "nodes: 4\nbase_port: 17460\ngenerator: {kind: ring}\n"
          "links:\n  default: {bandwidth: 1Gbit, latency: 0ms}\n");
    // The middle run's learning rate sends the weights to ~1e30 in one step.
    Write("exp.yaml",
          "topology: topo.yaml\nmodel: softmax\n"
          "data: {kind: synthetic, samples: 400, features: 6, classes: 3, seed: 3}\n"
          "rounds: 6\nbatch_size: 8\nlr: 0.2\nseed: 5\neval_every: 2\nemulate: false\n"
          "compute_time: 1ms\n"
          "runs:\n  - {name: before}\n  - {name: boom, lr: 1.0e30}\n  - {name: after, lr: 0.1}\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  std::string Read(const std::string& name) {
    std::ifstream f(dir_ + "/" + name);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
  }
  // Launches the experiment over `transport` and checks the three runs and summary.csv.
  void ExpectBoomDivergesAndTheOthersRun(TransportKind transport) {
    LaunchOptions o;
    o.experiment_path = dir_ + "/exp.yaml";
    o.out_dir = dir_ + "/out";
    o.transport = transport;
    std::ostringstream progress;
    o.progress = &progress;
    auto result = Launch(o);
    ASSERT_TRUE(result.ok()) << result.status().message();
    ASSERT_EQ(result->size(), 3u);
    const RunSummary& boom = (*result)[1];
    EXPECT_EQ(boom.run, "boom");
    EXPECT_EQ(boom.status, "diverged");
    EXPECT_GE(boom.diverged_round, 1);
    EXPECT_LE(boom.diverged_round, 3);
    EXPECT_EQ(boom.rounds, boom.diverged_round - 1);
    EXPECT_NE(boom.reason.find("diverged at round " + std::to_string(boom.diverged_round) +
                               ": the minibatch loss is "),
              std::string::npos)
        << boom.reason;
    EXPECT_TRUE(std::isnan(boom.final_point.train_loss));
    ASSERT_FALSE(boom.curve.empty());
    EXPECT_EQ(boom.curve.front().round, 0);
    for (const EvalPoint& p : boom.curve) EXPECT_TRUE(std::isfinite(p.train_loss));
    for (size_t k : {0u, 2u}) {
      const RunSummary& r = (*result)[k];
      EXPECT_EQ(r.status, "ok") << r.run;
      EXPECT_EQ(r.diverged_round, -1);
      EXPECT_EQ(r.rounds, 6) << r.run;
      EXPECT_LT(r.final_point.train_loss, r.curve.front().train_loss) << r.run;
    }
    EXPECT_NE(progress.str().find("run 'boom' diverged at round"), std::string::npos)
        << progress.str();
    EXPECT_NE(progress.str().find("diverged at round " + std::to_string(boom.diverged_round)),
              std::string::npos);
    auto table = ParseCsv(Read("out/summary.csv"), "summary.csv");
    ASSERT_TRUE(table.ok()) << table.status().message();
    ASSERT_EQ(table->rows.size(), 3u);
    const int status = table->Column("status"), round = table->Column("diverged_round");
    ASSERT_NE(status, -1);
    ASSERT_NE(round, -1);
    EXPECT_EQ(table->rows[0][status], "ok");
    EXPECT_EQ(table->rows[1][status], "diverged");
    EXPECT_EQ(table->rows[1][round], std::to_string(boom.diverged_round));
    EXPECT_EQ(table->rows[1][table->Column("final_loss")], "nan");
    EXPECT_EQ(table->rows[2][status], "ok");
    EXPECT_EQ(table->rows[2][round], "");
  }
  std::string dir_;
};

TEST_F(Divergence, InProcessRunIsMarkedAndTheLaunchGoesOn) {
  ExpectBoomDivergesAndTheOthersRun(TransportKind::kInproc);
}

TEST_F(Divergence, SimulatedRunIsMarkedAndTheLaunchGoesOn) {
  ExpectBoomDivergesAndTheOthersRun(TransportKind::kSim);
}

TEST_F(Divergence, AFailedRunGetsItsRowAndStopsTheLaunch) {
  // A data file whose fault only reading shows: the run fails (after validation passed).
  Write("d.svm", "0 1:1\nx\n");
  Write("exp2.yaml",
        "topology: topo.yaml\nmodel: softmax\ndata: {kind: libsvm, path: d.svm}\n"
        "rounds: 2\nbatch_size: 2\nemulate: false\nruns:\n  - {name: gone}\n");
  LaunchOptions o;
  o.experiment_path = dir_ + "/exp2.yaml";
  o.out_dir = dir_ + "/out2";
  o.transport = TransportKind::kSim;
  auto result = Launch(o);
  ASSERT_FALSE(result.ok());
  auto table = ParseCsv(Read("out2/summary.csv"), "summary.csv");
  ASSERT_TRUE(table.ok()) << table.status().message();
  ASSERT_EQ(table->rows.size(), 1u);
  EXPECT_EQ(table->rows[0][table->Column("status")], "failed");
  EXPECT_NE(table->rows[0][table->Column("reason")].find("d.svm:2"), std::string::npos)
      << table->rows[0][table->Column("reason")];
}

// target_loss: the first evaluation at or below it, as summary.csv columns; empty when never.
TEST_F(Divergence, TimeToTargetIsTheFirstEvaluationAtOrBelowTheTarget) {
  Write("exp3.yaml",
        "topology: topo.yaml\nmodel: softmax\n"
        "data: {kind: synthetic, samples: 400, features: 6, classes: 3, seed: 3}\n"
        "rounds: 40\nbatch_size: 8\nlr: 0.2\nseed: 5\neval_every: 2\nemulate: false\n"
        "compute_time: 1ms\nruns:\n  - {name: probe}\n");
  LaunchOptions o;
  o.experiment_path = dir_ + "/exp3.yaml";
  o.out_dir = dir_ + "/out3";
  o.transport = TransportKind::kSim;
  auto probe = Launch(o);
  ASSERT_TRUE(probe.ok()) << probe.status().message();
  const std::vector<EvalPoint>& curve = (*probe)[0].curve;
  ASSERT_GT(curve.size(), 4u);
  // A target between the losses at two evaluation rounds in the middle of the run.
  const size_t k = curve.size() / 2;
  ASSERT_LT(curve[k].train_loss, curve[k - 1].train_loss);
  const double target = (curve[k].train_loss + curve[k - 1].train_loss) / 2;
  std::ostringstream exp;
  exp << "topology: topo.yaml\nmodel: softmax\n"
      << "data: {kind: synthetic, samples: 400, features: 6, classes: 3, seed: 3}\n"
      << "rounds: 40\nbatch_size: 8\nlr: 0.2\nseed: 5\neval_every: 2\nemulate: false\n"
      << "compute_time: 1ms\ntarget_loss: " << std::setprecision(17) << target
      << "\nruns:\n  - {name: probe}\n  - {name: never, target_loss: 1.0e-9}\n";
  Write("exp3.yaml", exp.str());
  auto r = Launch(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  bool monotone_before = true;
  for (size_t j = 1; j < k; ++j) monotone_before &= curve[j].train_loss > target;
  if (monotone_before) {
    EXPECT_EQ((*r)[0].rounds_to_target, curve[k].round);
    EXPECT_EQ((*r)[0].time_to_target_s, curve[k].wall_s);
  } else {
    EXPECT_LE((*r)[0].rounds_to_target, curve[k].round);
  }
  auto table = ParseCsv(Read("out3/summary.csv"), "summary.csv");
  ASSERT_TRUE(table.ok()) << table.status().message();
  const int rounds = table->Column("rounds_to_target"), time = table->Column("time_to_target");
  ASSERT_NE(rounds, -1);
  ASSERT_NE(time, -1);
  EXPECT_EQ(table->rows[0][rounds], std::to_string((*r)[0].rounds_to_target));
  EXPECT_FALSE(table->rows[0][time].empty());
  EXPECT_EQ(table->rows[1][rounds], "");  // never reached
  EXPECT_EQ(table->rows[1][time], "");
}

TEST(DivergedRound, ReadsTheRoundOfAnAbortedPeerOnly) {
  EXPECT_EQ(DivergedRound(Aborted("peer 3 diverged at round 17: the minibatch loss is nan")), 17);
  EXPECT_EQ(DivergedRound(Aborted("hearsay peer: peer 0 diverged at round 2: x")), 2);
  EXPECT_EQ(DivergedRound(Internal("peer 3 diverged at round 17: ...")), -1);
  EXPECT_EQ(DivergedRound(Aborted("peer 3 diverged at round x")), -1);
  EXPECT_EQ(DivergedRound(Aborted("something else")), -1);
}

}  // namespace
}  // namespace hearsay
