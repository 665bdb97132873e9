#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"
#include "topology/analysis.h"
#include "topology/static_topology.h"
#include "topology/topology_spec.h"

namespace hearsay {
namespace {

using testing::Parse;

// The exact shape the demo experiment uses.
constexpr const char* kDemo = R"(
nodes: 8                 # a count, or a list of {name, host, port, egress, ingress}
host: 127.0.0.1          # default host
base_port: 17100         # node i gets base_port + i unless it gives a port
generator: {kind: ring}  # or `edges: [[0,1], [1,2], ...]` (undirected unless `directed: true`)
weights: metropolis      # uniform | metropolis | max-degree | explicit (then `matrix: [[...], ...]`)
links:
  default: {bandwidth: 20Mbit, latency: 20ms, jitter: 1ms, loss: 0}
  overrides:
    - {from: 0, to: 1, bandwidth: 5Mbit, latency: 50ms}   # directed link
)";

TEST(TopologyFile, ParsesTheDemoShape) {
  auto spec = Parse(kDemo);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  ASSERT_EQ(spec->size(), 8);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(spec->nodes[i].host, "127.0.0.1");
    EXPECT_EQ(spec->nodes[i].port, 17100 + i);
    EXPECT_EQ(spec->nodes[i].name, "n" + std::to_string(i));
  }
  const Topology& t = *spec->graph;
  EXPECT_EQ(t.period(), 1);
  const auto& row0 = t.Row(0, 1);
  ASSERT_EQ(row0.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(row0[k].id, (std::vector<int>{0, 1, 7})[k]);
    EXPECT_NEAR(row0[k].weight, 1.0 / 3, 1e-15);  // w_ii = 1 - row sum: within an ulp of 1/3
  }
  EXPECT_EQ(t.InNeighbors(0, 5), (std::vector<int>{1, 7}));
  EXPECT_EQ(t.OutNeighbors(3, 5), (std::vector<int>{2, 4}));
  const LinkParams slow = spec->LinkAt(0, 1, 0);
  EXPECT_EQ(slow.bandwidth_bps, 5e6);
  EXPECT_DOUBLE_EQ(slow.latency_s, 0.05);
  EXPECT_DOUBLE_EQ(slow.jitter_s, 0.001);  // not overridden: the default
  const LinkParams back = spec->LinkAt(1, 0, 0);
  EXPECT_EQ(back.bandwidth_bps, 20e6);
  EXPECT_DOUBLE_EQ(back.latency_s, 0.02);
  EXPECT_TRUE(back.up);
  EXPECT_FALSE(spec->directed);
  EXPECT_EQ(spec->weight_rule, "metropolis");
}

TEST(TopologyFile, BetweenOverridesBothDirections) {
  auto spec = Parse(R"(
nodes: 4
generator: {kind: ring}
links:
  default: {bandwidth: 20Mbit, latency: 20ms}
  overrides:
    - {between: [0, 1], bandwidth: 5Mbit}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->LinkAt(0, 1, 0).bandwidth_bps, 5e6);
  EXPECT_EQ(spec->LinkAt(1, 0, 0).bandwidth_bps, 5e6);
  EXPECT_EQ(spec->LinkAt(1, 2, 0).bandwidth_bps, 20e6);
  EXPECT_EQ(spec->link_overrides.size(), 2u);
}

// A file without any network description needs no emulator; each kind of description does.
TEST(TopologyFile, IdealNetworkOnlyWithoutLinksCapacitiesEventsOrTraces) {
  const std::string ring = "nodes: 4\ngenerator: {kind: ring}\n";
  auto plain = Parse(ring);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_TRUE(plain->IdealNetwork());
  for (const std::string extra :
       {"links:\n  default: {latency: 1ms}\n", "links:\n  default: {bandwidth: 1Gbit}\n",
        "links:\n  default: {loss: 0.01}\n",
        "links:\n  overrides:\n    - {from: 0, to: 1, latency: 5ms}\n",
        "groups:\n  g: {nodes: \"0..1\", egress: 10Mbit}\n",
        "events:\n  - {at: 60s, between: [0, 1], latency: 80ms}\n"}) {
    auto spec = Parse(ring + extra);
    ASSERT_TRUE(spec.ok()) << extra << ": " << spec.status().message();
    EXPECT_FALSE(spec->IdealNetwork()) << extra;
  }
}

TEST(TopologyFile, ReadsNodeListsGroupsAndCapacities) {
  auto spec = Parse(R"(
nodes:
  - {name: a, host: 10.0.0.1, port: 9000, egress: 100Mbit}
  - {name: b, host: 10.0.0.2}
  - c
  - {name: d, ingress: 1Gbit}
base_port: 18000
groups:
  left: [a, b]
  right: {nodes: "2..3", egress: 10Mbit}
edges: [[a, b], [b, c], [c, d], [d, a]]
links:
  default: {bandwidth: 1Gbit, latency: 1ms}
  overrides:
    - {from: left, to: right, latency: 30ms}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->nodes[0].port, 9000);
  EXPECT_EQ(spec->nodes[1].port, 18001);
  EXPECT_EQ(spec->nodes[1].host, "10.0.0.2");
  EXPECT_EQ(spec->nodes[2].name, "c");
  EXPECT_EQ(spec->nodes[0].egress_bps, 100e6);
  EXPECT_EQ(spec->nodes[3].ingress_bps, 1e9);
  EXPECT_EQ(spec->nodes[2].egress_bps, 10e6);
  EXPECT_EQ(spec->groups.at("right"), (std::vector<int>{2, 3}));
  // left -> right links of the graph: b -> c and a -> d.
  EXPECT_DOUBLE_EQ(spec->LinkAt(1, 2, 0).latency_s, 0.03);
  EXPECT_DOUBLE_EQ(spec->LinkAt(0, 3, 0).latency_s, 0.03);
  EXPECT_DOUBLE_EQ(spec->LinkAt(3, 0, 0).latency_s, 0.001);
  EXPECT_EQ(spec->link_overrides.size(), 2u);
}

TEST(TopologyFile, AppliesEventsAtTimesAndRounds) {
  auto spec = Parse(R"(
nodes: 4
generator: {kind: ring}
links:
  default: {bandwidth: 20Mbit, latency: 20ms}
events:
  - {at: 10s, between: [0, 1], state: down}
  - {at: 20s, from: 0, to: 1, state: up, bandwidth: 1Mbit}
  - {round: 100, from: 2, to: 3, latency: 200ms}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_TRUE(spec->LinkAt(0, 1, 9.99).up);
  EXPECT_FALSE(spec->LinkAt(0, 1, 10).up);
  EXPECT_FALSE(spec->LinkAt(1, 0, 25).up);  // only 0 -> 1 came back
  const LinkParams later = spec->LinkAt(0, 1, 25);
  EXPECT_TRUE(later.up);
  EXPECT_EQ(later.bandwidth_bps, 1e6);
  EXPECT_DOUBLE_EQ(spec->LinkAt(2, 3, 1000).latency_s, 0.02);  // round events need a round
  EXPECT_DOUBLE_EQ(spec->LinkAt(2, 3, 0, 99).latency_s, 0.02);
  EXPECT_DOUBLE_EQ(spec->LinkAt(2, 3, 0, 100).latency_s, 0.2);
  EXPECT_EQ(spec->ChangeTimes(), (std::vector<double>{10, 20}));
}

TEST(TopologyFile, FollowsTwoColumnTraces) {
  auto dir = testing::TempDir("trace");
  testing::WriteFile(dir / "bw.txt", "# t value\n0 10Mbit\n5 2Mbit\n7.5s 8Mbit\n");
  testing::WriteFile(dir / "lat.txt", "1 30\n2 60\n");
  testing::WriteFile(dir / "t.yaml", R"(
nodes: 3
generator: {kind: ring}
links:
  default: {bandwidth: 20Mbit, latency: 20ms}
traces:
  - {from: 0, to: 1, bandwidth: bw.txt}
  - {between: [1, 2], latency: lat.txt, unit: ms}
)");
  auto spec = LoadTopologyFile((dir / "t.yaml").string());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->LinkAt(0, 1, 0).bandwidth_bps, 10e6);
  EXPECT_EQ(spec->LinkAt(0, 1, 4.9).bandwidth_bps, 10e6);
  EXPECT_EQ(spec->LinkAt(0, 1, 5).bandwidth_bps, 2e6);
  EXPECT_EQ(spec->LinkAt(0, 1, 100).bandwidth_bps, 8e6);
  EXPECT_EQ(spec->LinkAt(1, 0, 100).bandwidth_bps, 20e6);
  EXPECT_DOUBLE_EQ(spec->LinkAt(2, 1, 0.5).latency_s, 0.02);  // before the first sample
  EXPECT_DOUBLE_EQ(spec->LinkAt(2, 1, 1.5).latency_s, 0.03);
  EXPECT_DOUBLE_EQ(spec->LinkAt(1, 2, 3).latency_s, 0.06);
  std::filesystem::remove_all(dir);
}

TEST(TopologyFile, GraphSequenceRepeatsWithItsPeriod) {
  auto spec = Parse(R"(
nodes: 4
sequence:
  - {edges: [[0, 1], [2, 3]]}
  - {edges: [[1, 2], [3, 0]], weights: max-degree}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  const Topology& t = *spec->graph;
  EXPECT_EQ(t.period(), 2);
  EXPECT_EQ(t.InNeighbors(0, 1), std::vector<int>{1});
  EXPECT_EQ(t.InNeighbors(0, 2), std::vector<int>{3});
  EXPECT_EQ(t.InNeighbors(0, 3), std::vector<int>{1});
  EXPECT_EQ(t.Row(1, 4), t.Row(1, 2));
}

TEST(TopologyFile, ExplicitMatrixDefinesTheGraph) {
  auto spec = Parse(R"(
nodes: 3
weights: explicit
matrix:
  - [0.5, 0.5, 0]
  - [0.5, 0.25, 0.25]
  - [0, 0.25, 0.75]
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->graph->Row(1, 1), (std::vector<Neighbor>{{0, 0.5}, {1, 0.25}, {2, 0.25}}));
  EXPECT_EQ(spec->graph->InNeighbors(0, 1), std::vector<int>{1});
}

TEST(TopologyFile, DirectedUniformWeightsAreFlaggedPushSum) {
  auto spec = Parse(R"(
nodes: 3
directed: true
edges: [[0, 1], [1, 2], [2, 0], [0, 2]]
weights: uniform
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_TRUE(spec->directed);
  EXPECT_TRUE(spec->push_sum);
  // Node 0 has out-degree 2: it keeps 1/3 and gives 1/3 to each of 1 and 2.
  EXPECT_EQ(spec->graph->OutNeighbors(0, 1), (std::vector<int>{1, 2}));
  EXPECT_EQ(spec->graph->Row(1, 1), (std::vector<Neighbor>{{0, 1.0 / 3}, {1, 0.5}}));
}

TEST(TopologyFile, FingerprintChangesWithGraphWeightsAndLinks) {
  auto a = Parse(kDemo), b = Parse(kDemo);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Fingerprint(), b->Fingerprint());
  std::string other = kDemo;
  other.replace(other.find("5Mbit"), 5, "6Mbit");
  auto c = Parse(other);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->Fingerprint(), c->Fingerprint());
  std::string uniform = kDemo;
  uniform.replace(uniform.find("weights: metropolis"), 19, "weights: max-degree");
  auto d = Parse(uniform);
  ASSERT_TRUE(d.ok());
  // Ring: metropolis and max-degree give the same W; the graph part must agree.
  EXPECT_EQ(a->graph->Fingerprint(), d->graph->Fingerprint());
  std::string star = kDemo;
  star.replace(star.find("kind: ring"), 10, "kind: star");
  auto e = Parse(star);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_NE(a->graph->Fingerprint(), e->graph->Fingerprint());
}

TEST(TopologyFile, EveryExampleFileLoadsAndIsConnected) {
  const auto dir = std::filesystem::path(testing::SourceDir()) / "examples" / "topologies";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    auto spec = LoadTopologyFile(entry.path().string());
    ASSERT_TRUE(spec.ok()) << spec.status().message();
    auto a = AnalyzeTopology(spec->graph);
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(a->strongly_connected) << entry.path();
  }
  EXPECT_GE(count, 12);
}

TEST(TopologyFile, TwoSiteExampleHasASlowInterSiteLink) {
  auto spec = LoadTopologyFile(testing::SourceDir() + "/examples/topologies/two_sites.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->LinkAt(0, 1, 0).bandwidth_bps, 1e9);
  EXPECT_EQ(spec->LinkAt(4, 3, 0).bandwidth_bps, 50e6);
  EXPECT_DOUBLE_EQ(spec->LinkAt(4, 3, 61).latency_s, 0.08);
  EXPECT_EQ(spec->LinkAt(3, 4, 31).bandwidth_bps, 35e6);  // trace
  EXPECT_FALSE(spec->LinkAt(3, 4, 0, 510).up);
  EXPECT_TRUE(spec->LinkAt(3, 4, 0, 520).up);
  EXPECT_EQ(spec->nodes[1].egress_bps, 500e6);
}

}  // namespace
}  // namespace hearsay

namespace hearsay {
namespace {

// tc/netem's names and units read exactly like hearsay's own.
TEST(TopologyFile, TcNetemSynonymsMeanTheSameAsHearsayNames) {
  auto tc = Parse(R"(
nodes: 4
generator: {kind: ring}
links:
  default: {rate: 20mbit, delay: 20msec, jitter: 1ms, loss: 1%}
  overrides:
    - {between: [0, 1], rate: 500kbit, delay: 0.1sec, loss: 0.5%}
events:
  - {at: 2sec, between: [1, 2], rate: 1gbit, delay: 300usec}
)");
  ASSERT_TRUE(tc.ok()) << tc.status().message();
  auto own = Parse(R"(
nodes: 4
generator: {kind: ring}
links:
  default: {bandwidth: 20Mbit, latency: 20ms, jitter: 1ms, loss: 0.01}
  overrides:
    - {between: [0, 1], bandwidth: 500kbit, latency: 100ms, loss: 0.005}
events:
  - {at: 2s, between: [1, 2], bandwidth: 1Gbit, latency: 300us}
)");
  ASSERT_TRUE(own.ok()) << own.status().message();
  EXPECT_EQ(tc->link_defaults, own->link_defaults);
  EXPECT_EQ(tc->link_defaults.bandwidth_bps, 20e6);
  EXPECT_DOUBLE_EQ(tc->link_defaults.loss, 0.01);
  EXPECT_EQ(tc->LinkAt(0, 1, 0), own->LinkAt(0, 1, 0));
  EXPECT_EQ(tc->LinkAt(0, 1, 0).bandwidth_bps, 500e3);
  EXPECT_DOUBLE_EQ(tc->LinkAt(1, 0, 0).latency_s, 0.1);
  EXPECT_EQ(tc->LinkAt(1, 2, 3), own->LinkAt(1, 2, 3));
  EXPECT_EQ(tc->LinkAt(1, 2, 3).bandwidth_bps, 1e9);
  EXPECT_EQ(tc->Fingerprint(), own->Fingerprint());
}

TEST(TopologyFile, TraceFilesAcceptPercentLossAndTheRateName) {
  auto dir = testing::TempDir("tc_trace");
  testing::WriteFile(dir / "loss.txt", "0 1%\n1s 0.02\n2s 5%\n");
  testing::WriteFile(dir / "rate.txt", "0 10mbit\n500ms 2mbit\n");
  testing::WriteFile(dir / "t.yaml",
                     "nodes: 3\ngenerator: {kind: ring}\ntraces:\n"
                     "  - {between: [0, 1], loss: loss.txt}\n"
                     "  - {from: 1, to: 2, rate: rate.txt}\n");
  auto spec = LoadTopologyFile((dir / "t.yaml").string());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_DOUBLE_EQ(spec->LinkAt(0, 1, 0.5).loss, 0.01);
  EXPECT_DOUBLE_EQ(spec->LinkAt(1, 0, 2.5).loss, 0.05);
  EXPECT_EQ(spec->LinkAt(1, 2, 0.7).bandwidth_bps, 2e6);
  testing::WriteFile(dir / "bad.txt", "0 150%\n");
  testing::WriteFile(dir / "b.yaml",
                     "nodes: 3\ngenerator: {kind: ring}\ntraces:\n"
                     "  - {between: [0, 1], loss: bad.txt}\n");
  auto bad = LoadTopologyFile((dir / "b.yaml").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.txt:1: loss '150%' must be a probability"),
            std::string::npos)
      << bad.status().message();
}

TEST(TopologyFile, NodesAndGroupsCarryASlowdownFactor) {
  auto spec = Parse(R"(
nodes: [{name: a, slowdown: 4}, b, c, d]
generator: {kind: ring}
groups:
  slow: {nodes: [c], slowdown: 2.5}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->nodes[0].slowdown, 4);
  EXPECT_EQ(spec->nodes[1].slowdown, 1);
  EXPECT_EQ(spec->nodes[2].slowdown, 2.5);
}

// A sweep's values land in the file before parsing, so overrides still inherit the defaults.
TEST(TopologyFile, OverridesReplaceLinkDefaultsGeneratorAndNodeCount) {
  const std::string file = R"(
nodes: 8
generator: {kind: random-regular, degree: 4, seed: 3}
links:
  default: {rate: 20Mbit, delay: 20ms}
  overrides:
    - {between: [0, 1], jitter: 2ms}
)";
  TopologyOverrides o;
  o.bandwidth_bps = 1e6;
  o.latency_s = 0.1;
  o.generator = "ring";
  o.nodes = 6;
  auto spec = ParseTopology(file, "t.yaml", o);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->size(), 6);
  EXPECT_EQ(spec->generator->kind, "ring");
  EXPECT_EQ(spec->graph->InNeighbors(0, 1), (std::vector<int>{1, 5}));
  EXPECT_EQ(spec->link_defaults.bandwidth_bps, 1e6);
  EXPECT_DOUBLE_EQ(spec->link_defaults.latency_s, 0.1);
  EXPECT_EQ(spec->LinkAt(0, 1, 0).bandwidth_bps, 1e6);  // the override inherits the new default
  EXPECT_DOUBLE_EQ(spec->LinkAt(0, 1, 0).jitter_s, 0.002);
  TopologyOverrides map;
  map.generator = "{kind: random-regular, degree: 3, seed: 5}";
  auto rr = ParseTopology(file, "t.yaml", map);
  ASSERT_TRUE(rr.ok()) << rr.status().message();
  EXPECT_EQ(rr->generator->degree, 3);

  TopologyOverrides n;
  n.nodes = 4;
  auto listed = ParseTopology("nodes: [a, b, c]\ngenerator: {kind: ring}\n", "t.yaml", n);
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.status().message().find("t.yaml:1:8: a grid over `n` sets the node count"),
            std::string::npos)
      << listed.status().message();
}

}  // namespace
}  // namespace hearsay
