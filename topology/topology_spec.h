// TopologySpec: everything a topology file says -- nodes and addresses, the gossip graph with
// mixing weights, and the emulated network (link defaults, per-link overrides, node capacities).
// One file drives both the gossip graph and the emulated network (DESIGN.md "Files users write").
//
// Units: bandwidth in bits per second (0 = unlimited), times in seconds, loss a probability.
// Thread-safety: immutable after loading.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "topology/topology.h"

namespace hearsay {

struct LinkParams {
  double bandwidth_bps = 0;  // link capacity; 0 = unlimited
  double latency_s = 0;      // one-way propagation delay
  double jitter_s = 0;       // uniform extra delay in [0, jitter_s] (order is still kept)
  double loss = 0;           // loss probability, modelled as TCP retransmission delay
};

struct NodeSpec {
  std::string name;             // "n0" unless the file names it
  std::string host = "127.0.0.1";
  uint16_t port = 0;            // base_port + index unless the file gives one
  double egress_bps = 0;        // uplink capacity shared by all outgoing links; 0 = unlimited
  double ingress_bps = 0;       // downlink capacity shared by all incoming links; 0 = unlimited
};

struct TopologySpec {
  std::string source;                     // file name (for messages)
  std::vector<NodeSpec> nodes;
  std::shared_ptr<const Topology> graph;  // never null after a successful load
  LinkParams link_defaults;
  std::map<std::pair<int, int>, LinkParams> link_overrides;  // directed (from, to)

  int size() const { return static_cast<int>(nodes.size()); }
  // Emulator parameters of the directed link from -> to at `seconds` since the run started
  // (schedules and traces, when the file has them, are applied here).
  LinkParams LinkAt(int from, int to, double seconds) const;
  // Stable fingerprint of graph, weights and link parameters (for the handshake hash).
  std::string Fingerprint() const;
};

// Parses a topology file; every error names the file, the line (and column where known) and the
// problem, e.g. "ring.yaml:7:3: edge (2, 9): unknown node 9 (nodes are 0..7)".
Result<TopologySpec> LoadTopologyFile(const std::string& path);
Result<TopologySpec> ParseTopology(std::string_view yaml_text, const std::string& source_name);

}  // namespace hearsay
