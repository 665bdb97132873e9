#include "topology/generators.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"
#include "topology/analysis.h"
#include "topology/static_topology.h"
#include "topology/weights.h"

namespace hearsay {
namespace {

struct Case {
  std::string kind;
  int n;
  std::string weights;
};

GeneratorOptions Options(const Case& c) {
  GeneratorOptions o;
  o.graph.kind = c.kind;
  o.n = c.n;
  o.weights = c.weights;
  o.graph.p = 0.5;
  o.graph.degree = 3;
  o.graph.seed = 7;
  return o;
}

class EveryGenerator : public ::testing::TestWithParam<Case> {};

TEST_P(EveryGenerator, YieldsValidConnectedWeights) {
  const Case& c = GetParam();
  auto spec = GenerateTopology(Options(c));
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  const Topology& t = *spec->graph;
  ASSERT_EQ(t.size(), c.n);
  for (int64_t r = 1; r <= t.period(); ++r) {
    auto phase = PhaseAt(spec->graph, r);
    ASSERT_TRUE(phase);
    EXPECT_TRUE(ValidateWeights(phase->rows(), spec->directed).ok());
    auto props = InspectWeights(phase->rows());
    EXPECT_TRUE(props.columns_sum_to_one);
    EXPECT_TRUE(props.rows_sum_to_one);  // every generator here is doubly stochastic
    for (int i = 0; i < c.n; ++i) {
      const auto& row = t.Row(i, r);
      bool self = false;
      for (size_t k = 0; k < row.size(); ++k) {
        EXPECT_GE(row[k].weight, 0);
        if (k) {
          EXPECT_LT(row[k - 1].id, row[k].id) << "ascending ids";
        }
        self |= row[k].id == i;
      }
      EXPECT_TRUE(self) << "row " << i << " includes i";
      if (c.weights == "max-degree") {
        EXPECT_GT(phase->Weight(i, i), 0) << "lazy";
      }
    }
  }
  auto a = AnalyzeTopology(spec->graph);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->strongly_connected);
  EXPECT_GT(a->spectral_gap, 0);
  EXPECT_LE(a->spectral_gap, 1 + 1e-12);
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (int n : {4, 8, 16, 64}) {
    for (const char* w : {"metropolis", "max-degree"}) {
      for (const char* k : {"ring", "torus", "grid", "complete", "star", "hypercube", "exponential",
                            "erdos-renyi", "random-regular"}) {
        cases.push_back({k, n, w});
      }
    }
    for (const char* k : {"ring", "torus", "complete", "hypercube", "exponential",
                          "one-peer-exponential", "random-regular"}) {
      cases.push_back({k, n, "uniform"});
    }
  }
  cases.push_back({"ring", 12, "uniform"});
  cases.push_back({"one-peer-exponential", 12, "uniform"});
  cases.push_back({"torus", 12, "metropolis"});
  cases.push_back({"exponential", 12, "metropolis"});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Sizes, EveryGenerator, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string s = info.param.kind + "_" + std::to_string(info.param.n) +
                                           "_" + info.param.weights;
                           for (char& ch : s) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return s;
                         });

TEST(Generators, ErdosRenyiIsReproduciblePerSeed) {
  GeneratorSpec g;
  g.kind = "erdos-renyi";
  g.p = 0.2;
  g.seed = 42;
  auto a = GenerateGraphs(g, 40, false), b = GenerateGraphs(g, 40, false);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->front(), b->front());
  g.seed = 43;
  auto c = GenerateGraphs(g, 40, false);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->front().edges, c->front().edges);
  // About p * n(n-1)/2 = 156 edges.
  EXPECT_GT(a->front().edges.size(), 100u);
  EXPECT_LT(a->front().edges.size(), 220u);
}

TEST(Generators, RandomRegularIsReproducibleAndRegular) {
  GeneratorSpec g;
  g.kind = "random-regular";
  g.degree = 5;
  g.seed = 3;
  auto a = GenerateGraphs(g, 30, false), b = GenerateGraphs(g, 30, false);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().message();
  EXPECT_EQ(a->front(), b->front());
  for (const auto& nb : a->front().InAdjacency()) EXPECT_EQ(nb.size(), 5u);
  g.seed = 4;
  auto c = GenerateGraphs(g, 30, false);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->front().edges, c->front().edges);
}

TEST(Generators, ErdosRenyiGivesUpAfterBoundedTriesWithAClearError) {
  GeneratorSpec g;
  g.kind = "erdos-renyi";
  g.p = 0.001;
  g.max_tries = 5;
  auto r = GenerateGraphs(g, 50, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no connected G(n=50"), std::string::npos);
  EXPECT_NE(r.status().message().find("in 5 draws"), std::string::npos);
  EXPECT_NE(r.status().message().find("raise p"), std::string::npos);
}

TEST(Generators, LatticesHaveTheExpectedEdges) {
  GeneratorSpec g;
  g.kind = "torus";
  auto torus = GenerateGraphs(g, 16, false);
  ASSERT_TRUE(torus.ok());
  EXPECT_EQ(torus->front().edges.size(), 32u);  // 4x4 torus: 4-regular
  g.kind = "grid";
  g.rows = 3;
  auto grid = GenerateGraphs(g, 12, false);
  ASSERT_TRUE(grid.ok());
  EXPECT_EQ(grid->front().edges.size(), 17u);  // 3x4 grid: 3*3 + 2*4
  g.rows = 5;
  auto bad = GenerateGraphs(g, 12, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("does not equal the 12 nodes"), std::string::npos);
}

TEST(Generators, HypercubeNeedsAPowerOfTwo) {
  GeneratorSpec g;
  g.kind = "hypercube";
  auto r = GenerateGraphs(g, 12, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs a power of two (8 or 16)"), std::string::npos);
}

TEST(Generators, DirectedExponentialWithUniformWeightsIsDoublyStochastic) {
  GeneratorOptions o;
  o.graph.kind = "exponential";
  o.n = 12;
  o.directed = true;
  o.weights = "uniform";
  auto spec = GenerateTopology(o);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_TRUE(spec->directed);
  EXPECT_FALSE(spec->push_sum);
  // 12 nodes: hops 1, 2, 4, 8 -> 4 out-neighbours, weight 1/5.
  EXPECT_EQ(spec->graph->OutNeighbors(0, 1), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(spec->graph->Row(0, 1).front().weight, 0.2);
}

TEST(Generators, UniformWeightsOnAnIrregularGraphSuggestMetropolis) {
  GeneratorOptions o;
  o.graph.kind = "star";
  o.n = 5;
  o.weights = "uniform";
  auto spec = GenerateTopology(o);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("degrees range from 1 to 4"), std::string::npos);
  EXPECT_NE(spec.status().message().find("metropolis"), std::string::npos);
}

TEST(Generators, ImportsANetworkxEdgeListFile) {
  auto dir = testing::TempDir("edgelist");
  testing::WriteFile(dir / "g.edgelist",
                     "# networkx.write_edgelist(G, path, data=['weight'])\n"
                     "0 1 0.5\n1 2 0.5\n2 3\n3 0 {'weight': 1}\n\n");
  GeneratorSpec g;
  g.kind = "edge-list-file";
  g.path = (dir / "g.edgelist").string();
  auto r = GenerateGraphs(g, 0, false);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->front().n, 4);
  EXPECT_EQ(r->front().edges, (std::vector<std::pair<int, int>>{{0, 1}, {0, 3}, {1, 2}, {2, 3}}));
  testing::WriteFile(dir / "bad.edgelist", "0 1\n1 x\n");
  g.path = (dir / "bad.edgelist").string();
  auto bad = GenerateGraphs(g, 0, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.edgelist:2: expected `u v [weight]`"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

// Issue 8: the edge-list reader read device files for tens of seconds.
TEST(Generators, EdgeListFileMustBeARegularFile) {
  GeneratorSpec g;
  g.kind = "edge-list-file";
  for (const char* path : {"/dev/zero", "/dev/urandom"}) {
    g.path = path;
    auto r = GenerateGraphs(g, 0, false);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(
        r.status().message().find(std::string(path) + ": edge-list file is a character device"),
        std::string::npos)
        << r.status().message();
  }
  g.path = "/nonexistent/g.edgelist";
  auto missing = GenerateGraphs(g, 0, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("relative paths are resolved"), std::string::npos);
}

}  // namespace
}  // namespace hearsay
