// Local steps and outer optimizers in the peer core (issue 14): all-reduce with H local steps is
// periodic model averaging, with an outer Nesterov optimizer it is DiLoCo, and gossip algorithms
// run H inner steps between communication rounds.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/data/sampler.h"
#include "tests/runtime/run_test_util.h"

namespace hearsay {
namespace {

using testing_util::ExperimentYaml;
using testing_util::LoadFrom;
using testing_util::RingYaml;
using testing_util::RunSim;
using testing_util::SameBits;
using testing_util::TempDir;

// The reference: n peers starting from x0, each taking H SGD steps per round on its own batches
// (inner step k of round t uses batch and step size (t-1)H + k), then the outer update on the
// mean pseudo-gradient: sgd lr 1 (model averaging) or Nesterov (DiLoCo).
std::vector<float> Reference(const RunConfig& run, const Workload& w, int n, bool nesterov,
                             double outer_lr, double momentum) {
  const Model& model = *w.model;
  const size_t d = model.num_params();
  std::vector<float> x(d), g(d), v(d, 0.0f);
  model.Init(run.seed, x);
  std::vector<MinibatchSampler> samplers;
  for (int i = 0; i < n; ++i) {
    samplers.emplace_back(w.train, w.shards[i], run.batch_size, run.seed, i);
  }
  const int64_t h = run.local_steps;
  for (int64_t t = 1; t <= run.rounds; ++t) {
    std::vector<double> delta(d, 0.0);
    for (int i = 0; i < n; ++i) {
      std::vector<float> local = x;
      for (int64_t k = 1; k <= h; ++k) {
        const int64_t step = (t - 1) * h + k;
        model.LossAndGradient(local, samplers[i].Next(step), g);
        const float lr = run.lr.At(step);
        for (size_t j = 0; j < d; ++j) local[j] -= lr * g[j];
      }
      for (size_t j = 0; j < d; ++j) delta[j] += (x[j] - local[j]) / n;
    }
    for (size_t j = 0; j < d; ++j) {
      if (nesterov) {
        v[j] = static_cast<float>(momentum * v[j] + delta[j]);
        x[j] -= static_cast<float>(outer_lr * (delta[j] + momentum * v[j]));
      } else {
        x[j] -= static_cast<float>(outer_lr * delta[j]);
      }
    }
  }
  return x;
}

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  double worst = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    worst = std::max(worst, std::fabs(static_cast<double>(got[k]) - want[k]) /
                                (1.0 + std::fabs(static_cast<double>(want[k]))));
  }
  EXPECT_LT(worst, tol);
}

TEST(LocalSteps, AllreduceWithOuterSgdIsPeriodicModelAveraging) {
  TempDir dir;
  const Experiment exp = LoadFrom(dir, RingYaml(4, 30000, "bandwidth: 1Gbit, latency: 1ms"),
                                  ExperimentYaml("algorithm: allreduce\nlocal_steps: 5\n", 8));
  const RunConfig& run = exp.runs.front();
  auto r = RunSim(exp, run);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto w = BuildWorkload(run, 4);
  ASSERT_TRUE(w.ok());
  const auto want = Reference(run, *w, 4, false, 1.0, 0);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(SameBits(r->final_models[i], r->final_models[0]));
    ExpectClose(r->final_models[i], want, 1e-5);
  }
}

TEST(LocalSteps, AllreduceWithOuterNesterovIsDiloco) {
  TempDir dir;
  const Experiment exp =
      LoadFrom(dir, RingYaml(4, 30000, "bandwidth: 1Gbit, latency: 1ms"),
               ExperimentYaml("algorithm: allreduce\nlocal_steps: 4\n"
                              "outer_optimizer: {kind: nesterov, lr: 0.7, momentum: 0.9}\n",
                              8));
  const RunConfig& run = exp.runs.front();
  auto r = RunSim(exp, run);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto w = BuildWorkload(run, 4);
  ASSERT_TRUE(w.ok());
  const auto want = Reference(run, *w, 4, true, 0.7, 0.9);
  for (int i = 0; i < 4; ++i) ExpectClose(r->final_models[i], want, 1e-4);
  // And it differs from plain averaging (the outer optimizer did something).
  const auto plain = Reference(run, *w, 4, false, 1.0, 0);
  double diff = 0;
  for (size_t k = 0; k < plain.size(); ++k) diff += std::fabs(plain[k] - want[k]);
  EXPECT_GT(diff, 1e-3);
}

class GossipLocalSteps : public ::testing::TestWithParam<const char*> {};

// Gossip DiLoCo: H local steps between rounds still trains, sends H times fewer messages per
// inner step, and counts inner steps in the metrics.
TEST_P(GossipLocalSteps, TrainsWithFewerRounds) {
  TempDir dir;
  const std::string algo = GetParam();
  const std::string keys = algo == "choco"
                               ? "algorithm: choco\ncompressor: \"qsgd:8\"\nconsensus_step: 0.5\n"
                           : algo == "dcd" ? "algorithm: dcd\ncompressor: \"qsgd:8\"\n"
                                           : "algorithm: " + algo + "\n";
  const Experiment exp = LoadFrom(
      dir, RingYaml(6, 30000, "bandwidth: 1Gbit, latency: 1ms"),
      ExperimentYaml(keys + "local_steps: 5\noptimizer: {kind: momentum, momentum: 0.5}\n", 12));
  auto r = RunSim(exp, exp.runs.front(), nullptr, dir.path() + "/out");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->evals.back().train_loss, std::log(3.0) * 0.8);
  std::ifstream f(dir.path() + "/out/peer_0.jsonl");
  std::string line, last;
  while (std::getline(f, line)) last = line;
  EXPECT_NE(last.find("\"inner_steps\":60"), std::string::npos) << last;
}

INSTANTIATE_TEST_SUITE_P(Algorithms, GossipLocalSteps,
                         ::testing::Values("dpsgd", "dcd", "ecd", "choco"));

TEST(LocalSteps, BadKeysAreRefusedWithFileAndLine) {
  TempDir dir;
  dir.Write("topo.yaml", RingYaml(4, 30000, "latency: 1ms"));
  struct Case {
    std::string keys, expect;
  };
  for (const Case& c : std::vector<Case>{
           {"optimizer: adam\n", "did you mean"},
           {"optimizer: {kind: momentum, momentum: 1.5}\n", "momentum"},
           {"local_steps: 0\n", "local_steps"},
           {"outer_optimizer: {kind: nesterov, lr: -1}\n", "lr"},
           {"optimizer: {kind: adamw, eps: .nan}\n", "eps"},
           {"algorithm: adpsgd\nlocal_steps: 4\n", "adpsgd averages after every step"}}) {
    auto e = LoadExperiment(dir.Write("exp.yaml", ExperimentYaml(c.keys, 5)));
    ASSERT_FALSE(e.ok()) << c.keys;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(e.status().message().find("exp.yaml:"), std::string::npos) << e.status().message();
    EXPECT_NE(e.status().message().find(c.expect), std::string::npos) << e.status().message();
  }
}

}  // namespace
}  // namespace hearsay
