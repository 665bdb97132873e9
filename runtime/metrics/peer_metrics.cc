#include "runtime/metrics/peer_metrics.h"

#include "runtime/version.h"

namespace hearsay {
namespace {

using Type = MetricsRegistry::Type;
constexpr PeerState kStates[] = {PeerState::kStarting, PeerState::kConnecting, PeerState::kRunning,
                                 PeerState::kDone,     PeerState::kFailed,     PeerState::kStopped};

}  // namespace

const char* PeerStateName(PeerState state) {
  switch (state) {
    case PeerState::kStarting:
      return "starting";
    case PeerState::kConnecting:
      return "connecting";
    case PeerState::kRunning:
      return "running";
    case PeerState::kDone:
      return "done";
    case PeerState::kFailed:
      return "failed";
    case PeerState::kStopped:
      return "stopped";
  }
  return "unknown";
}

const char* MessageKindLabel(MessageKind kind) {
  switch (kind) {
    case MessageKind::kGossip:
      return "gossip";
    case MessageKind::kDone:
      return "done";
    case MessageKind::kFailed:
      return "failed";
    case MessageKind::kAvgRequest:
      return "avg_request";
    case MessageKind::kAvgReply:
      return "avg_reply";
    case MessageKind::kChunk:
      return "chunk";
    case MessageKind::kHeartbeat:
      return "heartbeat";
    case MessageKind::kLinkDown:
      return "link_down";
    case MessageKind::kJoin:
      return "join";
    case MessageKind::kJoinState:
      return "join_state";
    case MessageKind::kSetCopy:
      return "set_copy";
    case MessageKind::kCopyHash:
      return "copy_hash";
    case MessageKind::kPing:
      return "ping";
    case MessageKind::kPong:
      return "pong";
    case MessageKind::kAck:
      return "ack";
  }
  return "other";
}

PeerMetrics::PeerMetrics(int peer, const std::string& run, const std::string& algorithm)
    : peer_(std::to_string(peer)) {
  MetricsRegistry& m = registry_;
  m.Declare("hearsay_peer_info", Type::kGauge, "Constant 1; labels say what the peer runs.");
  m.Declare("hearsay_peer_status", Type::kGauge, "1 for the peer's current state, else 0.");
  m.Declare("hearsay_round", Type::kGauge, "Last round the peer completed.");
  m.Declare("hearsay_local_loss", Type::kGauge, "Minibatch loss of the last round.");
  m.Declare("hearsay_learning_rate", Type::kGauge, "Learning rate of the last round.");
  m.Declare("hearsay_run_seconds", Type::kGauge, "Run time (s) at the last round.");
  m.Declare("hearsay_compute_seconds_total", Type::kCounter, "Seconds of local computation.");
  m.Declare("hearsay_wait_seconds_total", Type::kCounter, "Seconds spent waiting for messages.");
  m.Declare("hearsay_overlap_seconds_total", Type::kCounter,
            "Seconds of computation that ran while payloads travelled.");
  m.Declare("hearsay_edge_bytes_sent_total", Type::kCounter, "Payload bytes sent to a neighbour.");
  m.Declare("hearsay_edge_bytes_received_total", Type::kCounter,
            "Payload bytes received from a neighbour.");
  m.Declare("hearsay_edge_messages_sent_total", Type::kCounter, "Messages sent to a neighbour.");
  m.Declare("hearsay_edge_messages_received_total", Type::kCounter,
            "Messages received from a neighbour.");
  m.Declare("hearsay_edge_staleness_rounds", Type::kGauge,
            "Rounds the neighbour's last mixed message was behind this peer.");
  m.Declare("hearsay_max_staleness_rounds", Type::kGauge, "Largest staleness so far.");
  m.Declare("hearsay_edge_rtt_seconds", Type::kGauge,
            "Smoothed round-trip time of the TCP link to the neighbour (ping/pong probes).");
  m.Declare("hearsay_wire_bytes_sent_total", Type::kCounter,
            "Bytes handed to the network, framing included, all links.");
  m.Declare("hearsay_wire_bytes_received_total", Type::kCounter,
            "Bytes read from the network, framing included, all links.");
  m.Declare("hearsay_frames_rejected_total", Type::kCounter,
            "Frames refused: malformed, unauthenticated, replayed or with a bad MAC.");
  m.Declare("hearsay_messages_resent_total", Type::kCounter,
            "Messages written again after a link broke before they were acknowledged.");
  m.Set("hearsay_peer_info",
        {{"peer", peer_}, {"run", run}, {"algorithm", algorithm}, {"version", RuntimeVersion()}},
        1);
  SetState(PeerState::kStarting);
}

void PeerMetrics::SetState(PeerState state) {
  for (PeerState s : kStates) {
    registry_.Set("hearsay_peer_status", {{"peer", peer_}, {"state", PeerStateName(s)}},
                  s == state ? 1 : 0);
  }
}

void PeerMetrics::OnRound(const RoundRecord& r, const TransportStats& wire) {
  const MetricLabels self = {{"peer", peer_}};
  registry_.Set("hearsay_round", self, static_cast<double>(r.round));
  registry_.Set("hearsay_local_loss", self, r.loss);
  registry_.Set("hearsay_learning_rate", self, r.lr);
  registry_.Set("hearsay_run_seconds", self, r.wall_s);
  registry_.Add("hearsay_compute_seconds_total", self, r.compute_s);
  registry_.Add("hearsay_wait_seconds_total", self, r.wait_s);
  registry_.Add("hearsay_overlap_seconds_total", self, r.overlap_s);
  for (const auto& [neighbor, behind] : r.staleness) {
    registry_.Set("hearsay_edge_staleness_rounds",
                  {{"peer", peer_}, {"neighbor", std::to_string(neighbor)}},
                  static_cast<double>(behind));
  }
  registry_.Set("hearsay_max_staleness_rounds", self, static_cast<double>(r.max_staleness));
  // Transport totals are cumulative: set, not added.
  registry_.Set("hearsay_wire_bytes_sent_total", self, static_cast<double>(wire.bytes_sent));
  registry_.Set("hearsay_wire_bytes_received_total", self,
                static_cast<double>(wire.bytes_received));
  registry_.Set("hearsay_frames_rejected_total", self, static_cast<double>(wire.frames_rejected));
  registry_.Set("hearsay_messages_resent_total", self, static_cast<double>(wire.messages_resent));
  for (const auto& [neighbor, rtt] : wire.rtt_s) {
    registry_.Set("hearsay_edge_rtt_seconds",
                  {{"peer", peer_}, {"neighbor", std::to_string(neighbor)}}, rtt);
  }
}

void PeerMetrics::OnSent(const Message& msg) {
  const std::string to = std::to_string(msg.to);
  registry_.Add("hearsay_edge_bytes_sent_total", {{"peer", peer_}, {"neighbor", to}},
                static_cast<double>(msg.payload_size()));
  registry_.Add("hearsay_edge_messages_sent_total",
                {{"peer", peer_}, {"neighbor", to}, {"kind", MessageKindLabel(msg.kind)}}, 1);
}

void PeerMetrics::OnReceived(const Message& msg) {
  if (msg.kind == MessageKind::kLinkDown) return;  // the transport's notice, not traffic
  const std::string from = std::to_string(msg.from);
  registry_.Add("hearsay_edge_bytes_received_total", {{"peer", peer_}, {"neighbor", from}},
                static_cast<double>(msg.payload.size()));
  registry_.Add("hearsay_edge_messages_received_total",
                {{"peer", peer_}, {"neighbor", from}, {"kind", MessageKindLabel(msg.kind)}}, 1);
}

}  // namespace hearsay
