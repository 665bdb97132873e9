// TopologySpec: everything a topology file says -- nodes and addresses, the gossip graph with
// mixing weights, and the emulated network (link defaults, per-link overrides, node capacities,
// link events and traces). One file drives both the gossip graph and the emulated network
// (DESIGN.md "Files users write"; the format is docs/topology_format.md).
//
// Units: bandwidth in bits per second (0 = unlimited), times in seconds, loss a probability.
// Ownership: a TopologySpec owns its nodes and link tables and shares the immutable graph.
// Thread-safety: immutable after loading; all const methods are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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
  bool up = true;            // false while a `down` event holds the link: messages wait for `up`
  bool operator==(const LinkParams&) const = default;
};

struct NodeSpec {
  std::string name;                // "n0" unless the file names it
  std::string host = "127.0.0.1";  // advertised: where the other peers connect
  uint16_t port = 0;  // base_port + index unless the file gives one; 0 = `base_port: auto`
                      // (chosen at launch, runtime/launch/addresses.h)
  // Where this node listens, when that is not host:port (`bind:`, e.g. 0.0.0.0 behind NAT or in
  // a container): "" = host; bind_port 0 = port.
  std::string bind_host{};
  uint16_t bind_port = 0;
  double egress_bps = 0;   // uplink capacity shared by all outgoing links; 0 = unlimited
  double ingress_bps = 0;  // downlink capacity shared by all incoming links; 0 = unlimited
  double slowdown = 1;     // local computation takes this many times longer (stragglers); >= 1
};

// A change of some links at a wall-clock time or at a round (file `events:`). Fields left
// empty keep their value. Applied in file order on top of defaults and overrides.
struct LinkEvent {
  double at_seconds = -1;                  // seconds since the run started; -1 = round-based
  int64_t at_round = 0;                    // 1-based round; 0 = time-based
  std::vector<std::pair<int, int>> links;  // directed (from, to) links it changes
  std::optional<bool> up;                  // down / up
  std::optional<double> bandwidth_bps, latency_s, jitter_s, loss;
  int line = 0;  // file line (for messages)
};

// One link parameter following a two-column (time, value) file, piecewise constant: at time t
// the value of the last sample with time <= t; before the first sample the static value holds.
struct LinkTrace {
  enum class Field { kBandwidth, kLatency, kJitter, kLoss };
  Field field = Field::kBandwidth;
  std::vector<std::pair<int, int>> links;          // directed (from, to)
  std::vector<std::pair<double, double>> samples;  // (seconds, value in bps / s / probability)
  std::string path;                                // the trace file, resolved
  std::string unit;                                // `unit:` for bare values ("" = none)
};

// The generator a graph came from (file `generator:`); kept so writers can say it again.
struct GeneratorSpec {
  std::string kind;  // ring, torus, grid, complete, star, hypercube, exponential,
                     // one-peer-exponential, erdos-renyi, random-regular, edge-list-file
  int rows = 0;      // torus / grid; 0 = most square factorisation of n
  int cols = 0;
  int center = 0;       // star
  double p = 0;         // erdos-renyi edge probability
  int degree = 0;       // random-regular
  uint64_t seed = 1;    // erdos-renyi / random-regular
  int max_tries = 100;  // erdos-renyi / random-regular: draws before giving up
  std::string path;     // edge-list-file (resolved against the topology file's folder)
  bool operator==(const GeneratorSpec&) const = default;
};

struct TopologySpec {
  std::string source;  // file name (for messages)
  std::vector<NodeSpec> nodes;
  std::shared_ptr<const Topology> graph;  // never null after a successful load
  LinkParams link_defaults;
  std::map<std::pair<int, int>, LinkParams> link_overrides;  // directed (from, to)

  bool directed = false;    // the file said `directed: true`
  bool push_sum = false;    // weights column-stochastic but not row-stochastic
  std::string weight_rule;  // uniform | metropolis | max-degree | explicit ("" = sequence)
  std::optional<GeneratorSpec> generator;          // when a generator made the graph
  std::map<std::string, std::vector<int>> groups;  // named node groups (ascending ids)
  std::vector<LinkEvent> events;
  std::vector<LinkTrace> traces;

  int size() const { return static_cast<int>(nodes.size()); }
  // Emulator parameters of the directed link from -> to at `seconds` since the run started
  // (schedules and traces, when the file has them, are applied here). Round-based events are
  // not applied by this overload.
  LinkParams LinkAt(int from, int to, double seconds) const;
  // Same, also applying events with `round:` <= round.
  LinkParams LinkAt(int from, int to, double seconds, int64_t round) const;
  // The wall-clock times (ascending, unique) at which some link's parameters change, so the
  // emulator can wake up there; traces contribute their sample times.
  std::vector<double> ChangeTimes() const;
  // Stable fingerprint of graph, weights and link parameters (for the handshake hash).
  std::string Fingerprint() const;
  // True when the file describes no network at all: every link unlimited with no latency,
  // jitter or loss, no node egress or ingress capacity, no events and no traces. Emulating such
  // a network changes nothing but costs a thread hand-off per message, so none is set up.
  bool IdealNetwork() const;
};

// Values a sweep (an experiment's `grid:`) substitutes into a topology file before parsing it.
// Unset fields keep the file's value. Overrides inherit them like the file's own defaults do.
struct TopologyOverrides {
  std::optional<double> bandwidth_bps;  // links.default.bandwidth
  std::optional<double> latency_s;      // links.default.latency
  // The graph: a generator kind ("ring") or a generator map in YAML flow style
  // ("{kind: random-regular, degree: 4}"); replaces the file's generator, edges or matrix.
  std::optional<std::string> generator;
  std::optional<int> nodes;  // node count (the file must give `nodes:` as a count)
  bool empty() const { return !bandwidth_bps && !latency_s && !generator && !nodes; }
  bool operator==(const TopologyOverrides&) const = default;
};

// Parses a topology file; every error names the file, the line (and column where known) and the
// problem, e.g. "ring.yaml:7:3: edge (2, 9): unknown node 9 (nodes are 0..7)".
Result<TopologySpec> LoadTopologyFile(const std::string& path);
Result<TopologySpec> LoadTopologyFile(const std::string& path, const TopologyOverrides& overrides);
Result<TopologySpec> ParseTopology(std::string_view yaml_text, const std::string& source_name,
                                   const TopologyOverrides& overrides = {});

}  // namespace hearsay
