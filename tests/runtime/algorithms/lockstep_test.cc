// Lockstep runs of the four algorithms on the synthetic problem: equivalences and convergence.
#include "runtime/algorithms/lockstep.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "runtime/data/partition.h"
#include "runtime/data/synthetic.h"
#include "runtime/model/model.h"
#include "tests/runtime/algorithms/test_support.h"

namespace hearsay {
namespace {

// The shared study: 8-peer ring (Metropolis weights 1/3), softmax regression on the synthetic
// problem (4000 examples, d = 32, 4 classes, 10% flipped labels), iid partition, batch 16.
struct Problem {
  Dataset data;
  std::unique_ptr<Model> model;
  std::vector<std::vector<int64_t>> parts;
};

const Problem& SharedProblem() {
  static const Problem* p = [] {
    auto* prob = new Problem;
    SyntheticConfig sc;
    sc.seed = 7;
    prob->data = MakeSynthetic(sc).value();
    prob->model = MakeModel(ModelConfig{}, sc.features, sc.classes).value();
    prob->parts = PartitionIndices(prob->data, 8, PartitionMode::kIid, 7);
    return prob;
  }();
  return *p;
}

LockstepOptions Study(const std::string& algorithm, const std::string& codec, int64_t rounds) {
  const Problem& p = SharedProblem();
  LockstepOptions o;
  o.topology = testing::Ring(8);
  o.algorithm.name = algorithm;
  o.algorithm.seed = 11;
  o.algorithm.consensus_step = 0.5;
  o.compressor = codec;
  o.model = p.model.get();
  for (int i = 0; i < 8; ++i) o.samplers.emplace_back(p.data, p.parts[i], 16, 5, i);
  o.rounds = rounds;
  o.lr.base = 0.2;
  o.eval = &p.data;
  o.eval_every = rounds;
  return o;
}

double RelativeDistance(const std::vector<std::vector<float>>& a,
                        const std::vector<std::vector<float>>& b) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t k = 0; k < a[i].size(); ++k) {
      diff += std::pow(static_cast<double>(a[i][k]) - b[i][k], 2);
      norm += std::pow(static_cast<double>(b[i][k]), 2);
    }
  }
  return std::sqrt(diff / norm);
}

TEST(Lockstep, SameSeedsGiveBitIdenticalModels) {
  auto a = RunLockstep(Study("choco", "qsgd:4", 20));
  auto b = RunLockstep(Study("choco", "qsgd:4", 20));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->models, b->models);
  LockstepOptions other = Study("choco", "qsgd:4", 20);
  other.algorithm.seed = 12;  // different codec randomness
  auto c = RunLockstep(other);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->models, c->models);
}

TEST(Lockstep, ReportsLossConsensusAndBytes) {
  auto r = RunLockstep(Study("dpsgd", "identity", 30));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->history.size(), 1u);
  EXPECT_EQ(r->history[0].round, 30);
  EXPECT_LT(r->history[0].loss, std::log(4.0));  // better than the uniform guess
  EXPECT_GT(r->history[0].consensus_distance, 0);
  // 30 rounds x 2 out-neighbours x (132 params x 4 bytes).
  EXPECT_EQ(r->bytes_sent[3], 30u * 2u * 132u * 4u);
}

TEST(Lockstep, RejectsMissingSamplers) {
  LockstepOptions o = Study("dpsgd", "identity", 5);
  o.samplers.pop_back();
  auto r = RunLockstep(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("7 samplers for 8 peers"), std::string::npos);
}

TEST(Lockstep, DcdWithIdentityStaysWithin1e5RelativeOfDPsgdOver100Rounds) {
  auto dpsgd = RunLockstep(Study("dpsgd", "identity", 100));
  auto dcd = RunLockstep(Study("dcd", "identity", 100));
  ASSERT_TRUE(dpsgd.ok() && dcd.ok());
  const double rel = RelativeDistance(dcd->models, dpsgd->models);
  std::printf("[ measured ] dcd(identity) vs dpsgd after 100 rounds: relative %.3g\n", rel);
  EXPECT_LT(rel, 1e-5);
}

TEST(Lockstep, EcdWithIdentityTracksDPsgdOver100Rounds) {
  auto dpsgd = RunLockstep(Study("dpsgd", "identity", 100));
  auto ecd = RunLockstep(Study("ecd", "identity", 100));
  ASSERT_TRUE(dpsgd.ok() && ecd.ok());
  const double rel = RelativeDistance(ecd->models, dpsgd->models);
  std::printf("[ measured ] ecd(identity) vs dpsgd after 100 rounds: relative %.3g\n", rel);
  EXPECT_LT(rel, 1e-4);
}

TEST(Lockstep, WithQsgd8CompressedAlgorithmsReachDPsgdLossWithin2Percent) {
  constexpr int64_t kRounds = 300;
  auto base = RunLockstep(Study("dpsgd", "identity", kRounds));
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  const double ref = base->history.back().loss;
  std::printf("[ measured ] dpsgd: loss %.5f acc %.4f consensus %.3g\n", ref,
              base->history.back().accuracy, base->history.back().consensus_distance);
  // Meaningful: training made real progress from the initial loss log(4) = 1.386.
  EXPECT_LT(ref, 0.9 * std::log(4.0));
  for (const char* name : {"dcd", "ecd", "choco"}) {
    auto r = RunLockstep(Study(name, "qsgd:8", kRounds));
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    const double loss = r->history.back().loss;
    std::printf("[ measured ] %s(qsgd:8): loss %.5f (%+.3f%% vs dpsgd) acc %.4f consensus %.3g\n",
                name, loss, 100 * (loss / ref - 1), r->history.back().accuracy,
                r->history.back().consensus_distance);
    EXPECT_LT(std::fabs(loss / ref - 1), 0.02) << name;
  }
}

}  // namespace
}  // namespace hearsay
