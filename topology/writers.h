// Writers for topology specs: the YAML topology format (what `hearsay topo gen -o` writes; it
// parses back to the same graph, weights and links) and Graphviz DOT (`hearsay topo dot`).
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "topology/topology_spec.h"

namespace hearsay {

struct YamlWriteOptions {
  // Write `edges:` (or `matrix:`) even when a generator made the graph.
  bool explicit_edges = false;
  // Lines written as `# ...` comments at the top (e.g. the analysis summary).
  std::string header_comment;
};

// YAML in the topology-file format. Events and traces are written with their resolved paths.
std::string WriteTopologyYaml(const TopologySpec& spec, const YamlWriteOptions& options = {});

// Graphviz DOT: `graph` with `--` for symmetric topologies, `digraph` otherwise; edge labels
// carry the weights and the link parameters (bandwidth / latency) where they differ from the
// defaults; node labels carry name, address and self weight. A time-varying topology labels
// each edge with the rounds it is used in (round r of the period: "r1 0.5").
std::string WriteDot(const TopologySpec& spec);

}  // namespace hearsay
