// EmbeddedPeer: a run whose model lives in the host program. A host that takes exactly the
// built-in model's SGD step reproduces the daemon's run (up to the float rounding of s - x_host);
// a host that hands the built-in model's gradient (the gradient form) reproduces it bit for bit;
// bad input from the host is refused with its reason.
#include "runtime/peer/embedded_peer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <thread>

#include "runtime/data/sampler.h"
#include "tests/runtime/run_test_util.h"

namespace hearsay {
namespace {

using testing_util::FreePortBase;
using testing_util::LoadFrom;
using testing_util::RingYaml;
using testing_util::RunPeers;
using testing_util::TempDir;

Experiment Load(const TempDir& dir, const std::string& keys) {
  return LoadFrom(dir, RingYaml(4, FreePortBase(4), "bandwidth: 1Gbit, latency: 1ms"),
                  testing_util::ExperimentYaml(keys, 20));
}

// Every peer of `run` as an EmbeddedPeer on threads (in-process transport); the host computes
// the run's own model's minibatch gradient and takes an SGD step (gradient: hands the gradient
// to the peer instead). Returns the final models.
std::vector<std::vector<float>> RunEmbedded(const Experiment& exp, const RunConfig& run,
                                            bool gradient = false) {
  const int n = exp.topology->size();
  auto workload = BuildWorkload(run, n);
  EXPECT_TRUE(workload.ok()) << workload.status().ToString();
  if (!workload.ok()) return {};
  const Workload& w = *workload;
  std::vector<float> x0(w.model->num_params());
  w.model->Init(run.seed, x0);
  InProcHub hub(n);
  std::vector<std::vector<float>> finals(n);
  std::vector<Status> status(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      EmbeddedPeerOptions o;
      o.id = i;
      o.run = run;
      o.topology = exp.topology;
      o.gradient = gradient;
      auto peer = EmbeddedPeer::Start(o, x0, hub.Endpoint(i));
      if (!peer.ok()) {
        status[i] = peer.status();
        return;
      }
      MinibatchSampler sampler(w.train, w.shards[i], run.batch_size, run.seed, i);
      std::vector<float> x = x0, g(x0.size());
      while (true) {
        const int64_t r = (*peer)->round();
        const double loss = w.model->LossAndGradient(x, sampler.Next(r), g);
        Result<bool> more = false;
        if (gradient) {
          more = (*peer)->RoundGradient(g, x, loss);
        } else {
          const float lr = static_cast<float>(run.lr.At(r));
          for (size_t k = 0; k < x.size(); ++k) x[k] -= lr * g[k];
          more = (*peer)->Round(x, loss);
        }
        if (!more.ok()) {
          status[i] = more.status();
          return;
        }
        if (!*more) break;
      }
      finals[i] = x;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) EXPECT_TRUE(status[i].ok()) << status[i].ToString();
  return finals;
}

class EmbeddedEqualsDaemon : public ::testing::TestWithParam<const char*> {};

TEST_P(EmbeddedEqualsDaemon, HostStepsReproduceTheBuiltInRun) {
  TempDir dir;
  const std::string algo = GetParam();
  // Deterministic codecs: a stochastic one could round the two runs' (slightly different)
  // inputs apart.
  std::string keys = "algorithm: " + algo + "\n";
  if (algo == "dcd" || algo == "ecd") keys += "compressor: identity\n";
  if (algo == "choco") keys += "compressor: fp16\nconsensus_step: 0.5\n";
  const Experiment exp = Load(dir, keys);
  const RunConfig& run = exp.runs.front();
  const auto daemon = RunPeers(exp, run, /*tcp=*/false);
  const auto embedded = RunEmbedded(exp, run);
  ASSERT_EQ(daemon.size(), 4u);
  ASSERT_EQ(embedded.size(), 4u);
  double max_diff = 0, max_abs = 0, moved = 0;
  std::vector<float> x0(daemon[0].size());
  auto w = BuildWorkload(run, 4);
  ASSERT_TRUE(w.ok());
  w->model->Init(run.seed, x0);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(daemon[i].size(), embedded[i].size());
    for (size_t k = 0; k < daemon[i].size(); ++k) {
      max_diff = std::max(max_diff, std::abs(double(daemon[i][k]) - embedded[i][k]));
      max_abs = std::max(max_abs, std::abs(double(daemon[i][k])));
      moved = std::max(moved, std::abs(double(daemon[i][k]) - x0[k]));
    }
  }
  std::printf("%s: max |embedded - daemon| = %.3g, max |x| = %.3g\n", algo.c_str(), max_diff,
              max_abs);
  EXPECT_GT(moved, 1e-2);                             // the run trained
  EXPECT_LT(max_diff, 1e-4 * (1 + max_abs)) << algo;  // float rounding of s - x_host only
}

INSTANTIATE_TEST_SUITE_P(Algorithms, EmbeddedEqualsDaemon,
                         ::testing::Values("dpsgd", "dcd", "ecd", "choco", "allreduce"));

// The gradient form: the host hands the built-in model's gradient and the core takes the
// daemon's SGD step with it, so the final models are bit-identical to the daemon's -- also with
// a stochastic codec (its draws see identical inputs) and a decaying learning rate.
class EmbeddedGradientEqualsDaemon : public ::testing::TestWithParam<const char*> {};

TEST_P(EmbeddedGradientEqualsDaemon, BitIdenticalFinalModels) {
  TempDir dir;
  const std::string keys = GetParam();
  std::string yaml = testing_util::ExperimentYaml(keys + "\n", 20);
  yaml.replace(yaml.find("lr: 0.2"), 7, "lr: {kind: step, base: 0.2, decay: 0.5, step_every: 7}");
  const Experiment exp =
      LoadFrom(dir, RingYaml(4, FreePortBase(4), "bandwidth: 1Gbit, latency: 1ms"), yaml);
  const RunConfig& run = exp.runs.front();
  const auto daemon = RunPeers(exp, run, /*tcp=*/false);
  const auto embedded = RunEmbedded(exp, run, /*gradient=*/true);
  ASSERT_EQ(daemon.size(), 4u);
  ASSERT_EQ(embedded.size(), 4u);
  std::vector<float> x0(daemon[0].size());
  auto w = BuildWorkload(run, 4);
  ASSERT_TRUE(w.ok());
  w->model->Init(run.seed, x0);
  double moved = 0;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(daemon[i].size(), embedded[i].size());
    size_t differing = 0;
    for (size_t k = 0; k < daemon[i].size(); ++k) {
      differing += daemon[i][k] != embedded[i][k];
      moved = std::max(moved, std::abs(double(daemon[i][k]) - x0[k]));
    }
    EXPECT_EQ(differing, 0u) << keys << ": peer " << i;
  }
  EXPECT_GT(moved, 1e-2);  // the run trained
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, EmbeddedGradientEqualsDaemon,
    ::testing::Values("algorithm: dpsgd", "algorithm: dcd\ncompressor: \"qsgd:4\"",
                      "algorithm: ecd\ncompressor: identity",
                      "algorithm: choco\ncompressor: \"topk:0.3\"\nconsensus_step: 0.5",
                      "algorithm: allreduce"));

TEST(EmbeddedPeer, GradientFormIsRefusedWhereItDoesNotApply) {
  TempDir dir;
  const Experiment exp = Load(dir, "algorithm: dpsgd\nrounds: 3\n");
  EmbeddedPeerOptions o;
  o.run = exp.runs.front();
  o.topology = exp.topology;
  o.gradient = true;
  InProcHub hub(4);
  std::vector<float> x0(6, 0.f);
  EmbeddedPeerOptions nesterov = o;
  nesterov.run.outer_optimizer.kind = "nesterov";
  auto p = EmbeddedPeer::Start(nesterov, x0, hub.Endpoint(0));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("remove outer_optimizer"), std::string::npos)
      << p.status().ToString();
}

TEST(EmbeddedPeer, RefusesWhatItCannotRun) {
  TempDir dir;
  const Experiment exp = Load(dir, "algorithm: adpsgd\n");
  EmbeddedPeerOptions o;
  o.run = exp.runs.front();
  o.topology = exp.topology;
  InProcHub hub(4);
  std::vector<float> x0(10, 0.f);
  auto p = EmbeddedPeer::Start(o, x0, hub.Endpoint(0));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("adpsgd cannot run an external model"), std::string::npos);
  o.run.algorithm = AlgorithmKind::kDpsgd;
  o.run.local_steps = 4;
  p = EmbeddedPeer::Start(o, x0, hub.Endpoint(1));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("set local_steps: 1"), std::string::npos);
  o.run.local_steps = 1;
  p = EmbeddedPeer::Start(o, {}, hub.Endpoint(2));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("initial model is empty"), std::string::npos);
}

// Neighbours that never come: Start fails with the reason after connect_timeout (and leaves
// nothing behind to say goodbye with).
TEST(EmbeddedPeer, StartFailsCleanlyWhenNeighboursNeverCome) {
  TempDir dir;
  const Experiment exp = Load(dir, "algorithm: dpsgd\nconnect_timeout: 0.3\n");
  EmbeddedPeerOptions o;
  o.run = exp.runs.front();
  o.topology = exp.topology;
  std::vector<float> x0(5, 0.f);
  auto t = MakePeerTcpTransport(o.run, o.topology, "external:5", 5, 0);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto p = EmbeddedPeer::Start(o, x0, std::move(t).value());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kDeadlineExceeded) << p.status().ToString();
  EXPECT_NE(p.status().message().find("peer 0"), std::string::npos) << p.status().ToString();
}

// A non-finite model from the host fails this peer with the reason, and its neighbours hear why.
TEST(EmbeddedPeer, NonFiniteHostModelFailsThePeerWithTheReason) {
  TempDir dir;
  const Experiment exp = Load(dir, "algorithm: dpsgd\n");
  EmbeddedPeerOptions o;
  o.run = exp.runs.front();
  o.run.rounds = 5;
  o.topology = exp.topology;
  InProcHub hub(4);
  std::vector<float> x0(7, 0.5f);
  std::vector<Status> status(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      EmbeddedPeerOptions po = o;
      po.id = i;
      auto peer = EmbeddedPeer::Start(po, x0, hub.Endpoint(i));
      if (!peer.ok()) {
        status[i] = peer.status();
        return;
      }
      std::vector<float> x = x0;
      std::vector<float> wrong(3, 0.f);
      auto bad = (*peer)->Round(wrong, 0);
      EXPECT_FALSE(bad.ok());  // wrong size: refused, nothing applied
      EXPECT_NE(bad.status().message().find("the model has 7"), std::string::npos);
      for (int round = 1;; ++round) {
        if (i == 2 && round == 3) x[4] = std::nanf("");
        auto more = (*peer)->Round(x, 0.0);
        if (!more.ok()) {
          status[i] = more.status();
          return;
        }
        if (!*more) return;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(status[2].code(), StatusCode::kAborted) << status[2].ToString();
  EXPECT_NE(status[2].message().find("non-finite"), std::string::npos);
}

}  // namespace
}  // namespace hearsay
