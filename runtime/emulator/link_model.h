// LinkModel: the emulated network seen from one sending node, as a pure, clock-free model in
// virtual time (seconds since the run started). The emulating transport (link_emulator.h), the
// tests and the accuracy benchmark all drive this same class.
//
// Model (DESIGN.md "Network emulator", docs/wire_format.md for what a wire byte is):
//   - Each directed link self -> to is a FIFO: one message transmits at a time, in submit order.
//   - Transmitting links share the node's egress capacity max-min fairly (like concurrent TCP
//     flows), each capped by its own link bandwidth; rates are recomputed whenever a
//     transmission starts or ends and at the topology's change times (fluid model). A link that
//     is down transmits nothing until it is up again. Whether a link is up follows the sender's
//     latest round (the highest round submitted so far, heartbeats included), not the round of
//     the message at its head: a link taken down from round R1 to round R2 releases what it held
//     once the sender reaches R2. Bandwidth, latency, jitter and loss follow the message's round.
//   - When its last bit is sent, a message arrives after the link's one-way latency, plus
//     uniform jitter in [0, jitter_s], plus the retransmission delay of lost segments: each
//     1448-byte segment is lost with probability `loss` and costs one round trip (2 x latency,
//     at least 1 ms), or a 200 ms minimum RTO for messages of fewer than 4 segments (no fast
//     retransmit). Arrival times on a link never decrease, so order is kept.
//   - Random draws come from the counter-based generator (common/random.h), key (seed, peer =
//     self, round = to, stream kStreamEmulator), so a run is reproducible.
// So a message of S wire bytes on an idle link of bandwidth B and latency L arrives L + 8S/B
// after it was submitted.
//
// IngressModel is the receiving side: a node's downlink capacity shared by its incoming links.
// Thread-safety: none; the owner serialises calls.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "common/fifo.h"
#include "topology/topology_spec.h"

namespace hearsay {

inline constexpr double kNever = std::numeric_limits<double>::infinity();

struct LinkModelConfig {
  int self = 0;
  uint64_t seed = 0;
  double egress_bps = 0;  // shared by all outgoing links; 0 = unlimited
  // Parameters of link self -> to at virtual time `seconds` for a message of round `round`.
  std::function<LinkParams(int to, double seconds, int64_t round)> link;
  std::vector<double> change_times;  // ascending times at which `link` may change
  // True when `link` never changes (no events, no traces): parameters are then looked up once
  // per link and cached.
  bool constant_links = false;

  // Reads nodes[self].egress_bps, TopologySpec::LinkAt and ChangeTimes; `spec` must outlive
  // the config's use.
  static LinkModelConfig FromSpec(std::shared_ptr<const TopologySpec> spec, int self,
                                  uint64_t seed);
};

struct Delivery {
  uint64_t id = 0;  // from Submit
  int to = 0;
  double arrival_s = 0;  // virtual time the last bit reaches `to`
  uint64_t tag = 0;      // the caller's, from Submit
};

class LinkModel {
 public:
  explicit LinkModel(LinkModelConfig config);
  // Movable (the links' addresses move with their store), not copyable.
  LinkModel(const LinkModel&) = delete;
  LinkModel& operator=(const LinkModel&) = delete;
  LinkModel(LinkModel&&) = default;
  LinkModel& operator=(LinkModel&&) = default;

  // Hands a message of `wire_bytes` for `to` to the network at virtual time now_s (times never
  // go backwards; an earlier time is treated as the current one). Returns its id (0, 1, ...);
  // `tag` is the caller's and comes back with the delivery.
  uint64_t Submit(double now_s, int to, uint64_t wire_bytes, int64_t round = 0, uint64_t tag = 0);
  // Advances to now_s and returns the messages that arrived by then, by arrival time (ties by
  // id). The vector is the model's own, valid until the next call (no allocation per call).
  const std::vector<Delivery>& AdvanceTo(double now_s);
  // The next virtual time at which something happens (a transmission ends, a message arrives,
  // the network changes); kNever when nothing is pending.
  double NextEventTime();
  // No message is transmitting, queued or propagating.
  bool idle() const;
  double now() const { return now_; }

 private:
  struct Pending {
    uint64_t id = 0;
    uint64_t wire_bytes = 0;
    double remaining_bits = 0;
    int64_t round = 0;
    uint64_t tag = 0;
  };
  struct Link {
    int to = 0;
    Fifo<Pending> queue;       // front is transmitting
    Fifo<Delivery> in_flight;  // propagating, arrival times non-decreasing
    uint64_t sent = 0;         // messages that finished transmitting (draw counter)
    double last_arrival = -kNever;
    bool cached = false;  // `params` holds the link's constant parameters
    LinkParams params;
  };
  struct Rate {
    int to = 0;
    Link* link = nullptr;
    double bps = 0;  // may be infinite
  };

  LinkParams Params(int to, Link& link, double t, int64_t round) const;
  // Transmission rates (bits/s, may be infinite) of the links with a queued message, in
  // ascending `to`; in rates_, valid until the next call.
  const std::vector<Rate>& Rates(double t);
  // Moves transmissions forward to virtual time t (>= now_), finishing those that complete.
  void AdvanceTransmissions(double t);
  double NextChange(double after) const;
  void Finish(int to, Link& link, double t);
  double LossDelay(int to, uint64_t seq, uint64_t wire_bytes, double latency_s, double loss) const;

  LinkModelConfig config_;
  double now_ = 0;
  uint64_t next_id_ = 0;
  int64_t latest_round_ = 0;  // the highest round submitted (the sender's progress)
  // The links, by ascending `to` (the order Rates and AdvanceTo visit them in, part of the tie
  // rules): a flat vector of the links themselves, since the simulator walks it several times per
  // message and a node's links are cold by then (a tree's pointer chasing was a tenth of a
  // high-degree simulation; pointers to separately stored links and their deques cost most of
  // Rates at 4096 peers). LinkTo finds or adds one (adding moves them: no Link* is kept across it).
  std::vector<Link> links_;
  Link& LinkTo(int to);
  // Scratch space kept between calls (the simulator calls these for every message).
  std::vector<Rate> rates_;
  std::vector<std::pair<double, size_t>> order_;
  std::vector<Delivery> due_;
};

class IngressModel {
 public:
  explicit IngressModel(double ingress_bps) : ingress_bps_(ingress_bps) {}
  // A message of `wire_bytes` whose last bit reached this node at `arrival_s` over a path of
  // `path_bps` (0 = unlimited) is handed to the receiver at the returned time: its bits are
  // taken to have streamed in over the last 8S/path_bps seconds, and the downlink serves
  // messages first come first served, so a downlink slower than the path stretches that.
  double Deliver(double arrival_s, uint64_t wire_bytes, double path_bps);

 private:
  double ingress_bps_;
  double free_at_ = -kNever;
};

}  // namespace hearsay
