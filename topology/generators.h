// Graph generators (ring, torus, grid, complete, star, hypercube, static and one-peer
// exponential, Erdos-Renyi, random regular, edge-list files) and GenerateTopology(), which turns
// generator options into a full, validated TopologySpec -- the same path `generator:` in a
// topology file and `hearsay topo gen` take.
//
// Random generators draw from the counter-based Philox stream (common/random.h, stream
// kStreamTopology) keyed by the seed, so a (kind, n, parameters, seed) gives the same graph on
// every host. Thread-safety: pure functions (edge-list-file reads a file).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "topology/graph.h"
#include "topology/topology_spec.h"
#include "topology/weights.h"

namespace hearsay {

// The generator kinds, canonical spelling, in the order `topo gen --help` lists them.
const std::vector<std::string>& GeneratorKinds();
// Accepts "one_peer_exponential" etc. and a few aliases (er, regular, exp); "" when unknown.
std::string CanonicalGeneratorKind(const std::string& kind);

// The graphs a generator makes for n nodes: one graph for static kinds; for
// one-peer-exponential, ceil(log2 n) directed graphs (round t uses graph (t - 1) mod period;
// at round t peer i sends to i + 2^(t mod period), ALGORITHMS.md). `directed` asks the
// exponential generator for the directed form i -> i + 2^k (the others ignore it, except that
// edge-list-file edges are then read as directed). n = 0 is allowed for edge-list-file (n
// becomes the largest id + 1).
Result<std::vector<Graph>> GenerateGraphs(const GeneratorSpec& spec, int n, bool directed);

// Weighs each graph by `rule`, validates the weights (weights.h) and connectivity (the union
// of the sequence must be connected; strongly connected when directed) and builds the
// Topology: a StaticTopology for one graph, a ScheduleTopology for a sequence. `push_sum`
// (optional) is set when the weights are only column-stochastic.
Result<std::shared_ptr<const Topology>> BuildTopology(const std::vector<Graph>& graphs,
                                                      WeightRule rule, bool* push_sum);
// Same from explicit matrices (one per phase).
Result<std::shared_ptr<const Topology>> BuildTopologyFromWeights(std::vector<WeightRows> phases,
                                                                 bool directed, bool* push_sum);
// Checks that the union of the phases' links is connected (strongly, when directed); the
// error names the components or an unreachable node.
Status CheckConnected(const std::vector<std::shared_ptr<const StaticTopology>>& phases,
                      bool directed);

struct GeneratorOptions {
  GeneratorSpec graph;                 // kind and its parameters
  int n = 0;                           // number of nodes (0 only for edge-list-file)
  bool directed = false;               // see GenerateGraphs
  std::string weights = "metropolis";  // rule; one-peer-exponential always uses uniform (1/2)
  LinkParams link;                     // emulator defaults for every link
  std::string host = "127.0.0.1";      // every node's host
  int base_port = 17100;               // node i listens on base_port + i
};

// A complete TopologySpec (nodes n0..n{n-1}, the graph, link defaults); source "generated".
Result<TopologySpec> GenerateTopology(const GeneratorOptions& options);

}  // namespace hearsay
