// One test per class of bad topology file: each names file:line:col and what would be valid.
#include <gtest/gtest.h>

#include "test_util.h"

namespace hearsay {
namespace {

using testing::ErrorOf;

#define EXPECT_ERROR(yaml, ...)                                                                   \
  do {                                                                                            \
    const std::string _err = ErrorOf(yaml);                                                       \
    ASSERT_FALSE(_err.empty()) << "parsed a bad file";                                            \
    for (const char* _want : {__VA_ARGS__}) {                                                     \
      EXPECT_NE(_err.find(_want), std::string::npos) << "missing '" << _want << "' in: " << _err; \
    }                                                                                             \
  } while (0)

TEST(BadTopologyFile, MalformedYamlNamesLineAndColumn) {
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring\nweights: metropolis\n",
               "t.yaml:", "invalid YAML");
  EXPECT_ERROR("nodes: [1, 2\n", "t.yaml:", "invalid YAML");
  EXPECT_ERROR("", "the file is empty");
}

TEST(BadTopologyFile, WeightRowNotSummingToOne) {
  EXPECT_ERROR(R"(nodes: 4
weights: explicit
matrix:
  - [0.5, 0.5, 0, 0]
  - [0.5, 0.5, 0, 0]
  - [0, 0, 0.5, 0.5]
  - [0, 0, 0.5, 0.48]
)",
               "t.yaml:7:5: row 3 of weights sums to 0.98; rows must sum to 1");
}

TEST(BadTopologyFile, UnknownNodeInAnEdge) {
  EXPECT_ERROR("nodes: 8\nedges: [[0, 1], [2, 9]]\n",
               "t.yaml:2:21: edge (2, 9): unknown node 9 (nodes are 0..7)");
  EXPECT_ERROR("nodes: 3\nedges: [[0, bob]]\n", "edge (0, bob): unknown node 'bob'");
}

TEST(BadTopologyFile, DisconnectedGraphNamesTheComponents) {
  EXPECT_ERROR("nodes: 8\nedges: [[0, 1], [1, 2], [2, 3], [4, 5], [5, 6], [6, 7]]\n",
               "t.yaml:2:8:", "disconnected: 2 components, {0, 1, 2, 3} and {4, 5, 6, 7}");
  EXPECT_ERROR("nodes: 3\ndirected: true\nedges: [[0, 1], [1, 2]]\nweights: uniform\n",
               "not strongly connected", "node 0 cannot be reached from node 1");
}

TEST(BadTopologyFile, AsymmetricNegativeOrMisshapenMatrix) {
  EXPECT_ERROR("nodes: 2\nweights: explicit\nmatrix: [[0.6, 0.4], [0.5, 0.5]]\n",
               "weights are not symmetric", "directed: true");
  EXPECT_ERROR("nodes: 2\nweights: explicit\nmatrix: [[1.5, -0.5], [-0.5, 1.5]]\n",
               "t.yaml:3:16: matrix[0][1] = -0.5; weights must be non-negative");
  EXPECT_ERROR("nodes: 3\nweights: explicit\nmatrix: [[1, 0, 0], [0, 1], [0, 0, 1]]\n",
               "row 1 of matrix has 2 entries; it needs 3");
  EXPECT_ERROR("nodes: 3\nweights: explicit\nmatrix: [[1, 0, 0]]\n", "expected 3 rows");
  EXPECT_EQ(ErrorOf("nodes: 3\nedges: [[0, 1], [1, 2]]\nweights: explicit\n"
                    "matrix: [[0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]\n"),
            "");  // the same kind of matrix on the edges is fine
  EXPECT_ERROR(
      "nodes: 3\nedges: [[0, 1]]\nweights: explicit\n"
      "matrix: [[0.5, 0, 0.5], [0, 1, 0], [0.5, 0, 0.5]]\n",
      "matrix[0][2] = 0.5 but there is no edge between 0 and 2");
}

TEST(BadTopologyFile, DirectedColumnsMustSumToOne) {
  EXPECT_ERROR("nodes: 2\ndirected: true\nweights: explicit\nmatrix: [[0.5, 0.5], [0.6, 0.4]]\n",
               "column 0 of weights sums to 1.1", "column-stochastic");
}

TEST(BadTopologyFile, UnknownKeysAndKindsListTheValidOnes) {
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nweigths: uniform\n",
               "t.yaml:3:1: topology: unknown key 'weigths'; did you mean 'weights'? (valid keys:",
               "traces");
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: donut}\n",
               "t.yaml:2:19: unknown generator kind 'donut'; valid kinds: ring, torus");
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nweights: fancy\n",
               "t.yaml:3:10: unknown weight rule 'fancy'; valid rules: uniform, metropolis");
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nlinks: {default: {bandwith: 1Mbit}}\n",
               "links.default: unknown key 'bandwith'; did you mean 'bandwidth'?");
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: rnig}\n",
               "unknown generator kind 'rnig'; did you mean 'ring'?");
  EXPECT_ERROR("nodes: [alice, bob]\nedges: [[alice, bbo]]\n",
               "unknown node 'bbo'; did you mean 'bob'?");
}

TEST(BadTopologyFile, BadUnitsSayWhichUnitsExist) {
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nlinks: {default: {bandwidth: 20}}\n",
               "t.yaml:3:30: links.default.bandwidth: bandwidth '20' has no unit", "Mbit");
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nlinks: {default: {latency: 20 parsecs}}\n",
               "unknown unit 'parsecs'", "ms");
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nlinks: {default: {loss: 1.5}}\n",
               "links.default.loss = 1.5; a probability must be in [0, 1)");
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nlinks: {default: {loss: 100%}}\n",
               "links.default.loss = 100%; a probability must be in [0, 1)");
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nlinks: {default: {loss: 1 percent}}\n",
               "links.default.loss: '1 percent' is not a fraction");
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nlinks: {default: {rate: 20mbps}}\n",
               "t.yaml:3:25: links.default.bandwidth: bandwidth '20mbps': 'mbps' is ambiguous",
               "mbit or MB/s");
  EXPECT_ERROR(
      "nodes: 4\ngenerator: {kind: ring}\nlinks: {default: {rate: 1mbit, bandwidth: 2mbit}}\n",
      "`bandwidth` and `rate` are two names for the same setting");
  EXPECT_ERROR("nodes: [{name: a, slowdown: 0.5}, b]\ngenerator: {kind: ring}\n",
               "t.yaml:1:29: nodes[0].slowdown = 0.5; a slowdown factor must be >= 1");
  EXPECT_ERROR("nodes: [{name: a, slowdown: .nan}, b]\ngenerator: {kind: ring}\n",
               "nodes[0].slowdown: expected a number");
}

TEST(BadTopologyFile, WeightRuleThatDoesNotFitTheGraph) {
  EXPECT_ERROR("nodes: 5\ngenerator: {kind: star}\nweights: uniform\n",
               "uniform weights need a regular graph", "metropolis");
  EXPECT_ERROR("nodes: 3\ndirected: true\nedges: [[0, 1], [1, 2], [2, 0]]\n",
               "metropolis weights need an undirected graph");
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nweights: explicit\n", "needs `matrix:");
}

TEST(BadTopologyFile, OverrideOfALinkThatIsNotInTheGraph) {
  EXPECT_ERROR(
      "nodes: 8\ngenerator: {kind: ring}\nlinks:\n  overrides:\n"
      "    - {from: 0, to: 4, bandwidth: 1Mbit}\n",
      "t.yaml:5:7: links.overrides[0]: 0 -> 4 is not a link of the graph");
  EXPECT_ERROR(
      "nodes: 8\ngenerator: {kind: ring}\nlinks:\n  overrides:\n"
      "    - {bandwidth: 1Mbit}\n",
      "say which links");
}

TEST(BadTopologyFile, NodesMissingDuplicatedOrOutOfPorts) {
  EXPECT_ERROR("generator: {kind: ring}\n", "missing `nodes:`");
  EXPECT_ERROR("nodes: [{name: a}, {name: a}]\nedges: [[0, 1]]\n", "name 'a' is used twice");
  EXPECT_ERROR("nodes: [a, b, c, b]\ngenerator: {kind: ring}\n",
               "t.yaml:1:18: nodes[3]: name 'b' is used twice");
  EXPECT_ERROR("nodes: [a, b]\nedges: [[a, b]]\ngroups: {b: [a]}\n",
               "group 'b' has the name of a node");
  EXPECT_ERROR("nodes: [{port: 9000}, {port: 9000}]\nedges: [[0, 1]]\n",
               "nodes 0 and 1 both use 127.0.0.1:9000");
  EXPECT_ERROR("nodes: 4\nbase_port: 65534\ngenerator: {kind: ring}\n", "runs past port 65535");
  EXPECT_ERROR("nodes: 0\ngenerator: {kind: ring}\n", "give a count from 1");
  EXPECT_ERROR("nodes: 1048577\ngenerator: {kind: ring}\n", "give a count from 1 to 1048576");
}

// An edge-list file without `nodes:` takes its node count from the largest id: one edge naming
// node 16,000,000 took 7 s and 2.1 GB before an error about ports. Now the count is checked first.
TEST(BadTopologyFile, AnEdgeListMayNotImplyMoreNodesThanTheLimit) {
  const auto dir = testing::TempDir("edge_limit");
  testing::WriteFile(dir / "far.edgelist", "0 1\n0 16000000\n");
  const std::string err = testing::ErrorOf(
      "generator: {kind: edge-list-file, path: " + (dir / "far.edgelist").string() + "}\n",
      (dir / "t.yaml").string());
  EXPECT_NE(err.find("t.yaml:1:12: edge-list-file: '"), std::string::npos) << err;
  EXPECT_NE(err.find("far.edgelist' names node 16000000, so the graph would have 16000001 nodes; "
                     "at most 1048576 are allowed"),
            std::string::npos)
      << err;
  std::filesystem::remove_all(dir);
}

TEST(BadTopologyFile, AKeyGivenTwiceIsAnError) {
  EXPECT_ERROR("nodes: 8\nnodes: 4\ngenerator: {kind: ring}\n",
               "t.yaml:2:1: `nodes` is given twice in this map (first at line 1)");
  EXPECT_ERROR("nodes: 8\ngenerator: {kind: ring, kind: star}\n",
               "t.yaml:2:25: `kind` is given twice");
  EXPECT_ERROR(
      "nodes: 4\ngenerator: {kind: ring}\nlinks:\n  overrides:\n"
      "    - {between: [0, 1], latency: 5ms, latency: 50ms}\n",
      "t.yaml:5:39: `latency` is given twice");
}

// The duplicate-key walk visits each node once: aliases of aliases (a "billion laughs" document,
// 10^9 leaves when expanded) are checked in linear time, then refused for their unknown keys.
TEST(BadTopologyFile, AliasesAreWalkedOnce) {
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) yaml += (k ? ", *a" : "*a") + std::to_string(i - 1);
    yaml += "]\n";
  }
  yaml += "nodes: 4\ngenerator: {kind: ring}\n";
  EXPECT_ERROR(yaml, "t.yaml:1:1: topology: unknown key 'a0'");
}

TEST(BadTopologyFile, BadEventsAndTraces) {
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nevents:\n  - {between: [0, 1], state: down}\n",
               "t.yaml:4:5: events[0]: say when");
  EXPECT_ERROR(
      "nodes: 4\ngenerator: {kind: ring}\nevents:\n  - {at: 5s, between: [0, 1], "
      "state: sideways}\n",
      "state 'sideways'; valid: down, up");
  EXPECT_ERROR(
      "nodes: 4\ngenerator: {kind: ring}\nevents:\n  - {round: 0, from: 0, to: 1, "
      "state: down}\n",
      "rounds are 1-based");
  EXPECT_ERROR(
      "nodes: 4\ngenerator: {kind: ring}\ntraces:\n  - {from: 0, to: 1, bandwidth: "
      "/nonexistent/bw.txt}\n",
      "cannot open trace file '/nonexistent/bw.txt'");
}

TEST(BadTopologyFile, SequenceConflictsAndDisconnectedUnion) {
  EXPECT_ERROR("nodes: 4\ngenerator: {kind: ring}\nsequence: [{edges: [[0, 1]]}]\n",
               "conflicts with `sequence:`");
  EXPECT_ERROR("nodes: 4\nsequence:\n  - {edges: [[0, 1]]}\n  - {edges: [[0, 1], [2, 3]]}\n",
               "the union of the graph sequence is disconnected");
}

}  // namespace
}  // namespace hearsay
