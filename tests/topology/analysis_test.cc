#include "topology/analysis.h"

#include <gtest/gtest.h>

#include <cmath>

#include "topology/generators.h"
#include "topology/static_topology.h"
#include "topology/weights.h"

namespace hearsay {
namespace {

std::shared_ptr<const Topology> Make(const std::string& kind, int n, const std::string& weights) {
  GeneratorOptions o;
  o.graph.kind = kind;
  o.n = n;
  o.weights = weights;
  auto spec = GenerateTopology(o);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? spec->graph : nullptr;
}

double Gap(const std::shared_ptr<const Topology>& t, int dense_limit = 256) {
  AnalysisOptions o;
  o.dense_limit = dense_limit;
  auto g = SpectralGap(t, o);
  EXPECT_TRUE(g.ok()) << g.status().message();
  return g.ok() ? g.value() : -1;
}

TEST(SpectralGap, RingWithWeightsOneThirdMatchesClosedForm) {
  for (int n = 4; n <= 64; ++n) {
    const double expected = (2.0 / 3.0) * (1.0 - std::cos(2.0 * M_PI / n));
    EXPECT_NEAR(Gap(Make("ring", n, "uniform")), expected, 1e-9) << "n=" << n;
  }
}

TEST(SpectralGap, CompleteGraphIsOne) {
  for (int n : {2, 5, 16, 33}) EXPECT_NEAR(Gap(Make("complete", n, "uniform")), 1.0, 1e-9);
}

TEST(SpectralGap, StarWithMetropolisWeightsIsOneOverN) {
  for (int n : {3, 4, 9, 32, 100}) {
    EXPECT_NEAR(Gap(Make("star", n, "metropolis")), 1.0 / n, 1e-9) << "n=" << n;
  }
}

TEST(SpectralGap, HypercubeIsTwoOverDimensionPlusOne) {
  for (int dim = 1; dim <= 8; ++dim) {
    EXPECT_NEAR(Gap(Make("hypercube", 1 << dim, "uniform")), 2.0 / (dim + 1), 1e-9)
        << "dim=" << dim;
  }
}

TEST(SpectralGap, LanczosAgreesWithClosedFormsOnLargerGraphs) {
  // dense_limit 0 forces the sparse path.
  for (int n : {16, 64, 300}) {
    const double expected = (2.0 / 3.0) * (1.0 - std::cos(2.0 * M_PI / n));
    EXPECT_NEAR(Gap(Make("ring", n, "uniform"), 0), expected, 1e-9) << "ring n=" << n;
  }
  EXPECT_NEAR(Gap(Make("hypercube", 1024, "uniform"), 0), 2.0 / 11, 1e-9);
  EXPECT_NEAR(Gap(Make("star", 500, "metropolis"), 0), 1.0 / 500, 1e-9);
}

TEST(SpectralGap, AnalysesFourThousandNodesWithTheSparsePath) {
  auto a = AnalyzeTopology(Make("hypercube", 4096, "uniform"));
  ASSERT_TRUE(a.ok());
  EXPECT_NE(a->method.find("lanczos"), std::string::npos);
  EXPECT_NEAR(a->spectral_gap, 2.0 / 13, 1e-9);
  EXPECT_EQ(a->diameter, 12);
}

TEST(OnePeerExponential, ProductOverOnePeriodIsExactlyTheAveragingMatrix) {
  for (int n : {2, 4, 8, 16, 32}) {
    auto t = Make("one-peer-exponential", n, "uniform");
    ASSERT_TRUE(t);
    const int period = static_cast<int>(std::log2(n));
    ASSERT_EQ(t->period(), period);
    // Start from the identity: each round, x <- W_t x for every column.
    std::vector<double> m(n * n, 0.0), next(n * n);
    for (int i = 0; i < n; ++i) m[i * n + i] = 1;
    for (int r = 1; r <= period; ++r) {
      for (int i = 0; i < n; ++i) {
        ASSERT_EQ(t->Row(i, r).size(), 2u) << "one in-neighbour plus self";
        for (int c = 0; c < n; ++c) {
          double s = 0;
          for (const Neighbor& e : t->Row(i, r)) s += e.weight * m[e.id * n + c];
          next[i * n + c] = s;
        }
      }
      m.swap(next);
    }
    for (double v : m) ASSERT_EQ(v, 1.0 / n) << "n=" << n;
    auto a = AnalyzeTopology(t);
    ASSERT_TRUE(a.ok());
    EXPECT_NEAR(a->contraction, 0.0, 1e-12);
    EXPECT_TRUE(a->doubly_stochastic);
  }
}

TEST(OnePeerExponential, PeerTalksToIPlusTwoToTheRoundModPeriod) {
  auto t = Make("one-peer-exponential", 8, "uniform");
  ASSERT_TRUE(t);
  for (int64_t round = 1; round <= 7; ++round) {
    const int hop = 1 << (round % 3);
    EXPECT_EQ(t->OutNeighbors(2, round), std::vector<int>{(2 + hop) % 8}) << "round " << round;
    EXPECT_EQ(t->InNeighbors(2, round), std::vector<int>{(2 - hop + 8) % 8});
  }
}

TEST(Analysis, ReportsDegreesDiameterAndConnectivity) {
  auto ring = AnalyzeTopology(Make("ring", 8, "metropolis"));
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ring->diameter, 4);
  EXPECT_EQ(ring->in_degree.min, 2);
  EXPECT_EQ(ring->in_degree.max, 2);
  EXPECT_EQ(ring->links, 16);
  EXPECT_TRUE(ring->strongly_connected);
  EXPECT_EQ(ring->components, 1);
  auto star = AnalyzeTopology(Make("star", 10, "metropolis"));
  ASSERT_TRUE(star.ok());
  EXPECT_EQ(star->diameter, 2);
  EXPECT_EQ(star->in_degree.max, 9);
  EXPECT_EQ(star->in_degree.min, 1);
  EXPECT_DOUBLE_EQ(star->in_degree.mean, 1.8);
}

TEST(Analysis, PushSumWeightsHaveNoSpectralGap) {
  // Directed star-ish graph with uneven out-degrees: uniform weights are column-stochastic only.
  Graph g{3, true, {{0, 1}, {1, 2}, {2, 0}, {0, 2}}};
  bool push_sum = false;
  auto t = BuildTopology({g}, WeightRule::kUniform, &push_sum);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(push_sum);
  auto gap = SpectralGap(t.value());
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.status().message().find("push-sum"), std::string::npos);
}

}  // namespace
}  // namespace hearsay
