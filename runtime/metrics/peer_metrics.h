// PeerMetrics: the live series of one peer daemon (the families below), kept in a
// MetricsRegistry that `hearsay peer --metrics-port` serves and examples/grafana/ reads.
//
//   hearsay_peer_info{peer,run,algorithm,version}        1
//   hearsay_peer_status{peer,state}                     1 for the current state, 0 for the others
//                                                        (starting, connecting, running, done,
//                                                        failed, stopped)
//   hearsay_round{peer}                                  last round completed
//   hearsay_local_loss{peer}                             minibatch loss of that round
//   hearsay_learning_rate{peer}
//   hearsay_run_seconds{peer}                            run time at that round
//   hearsay_compute_seconds_total{peer}                  local computation
//   hearsay_wait_seconds_total{peer}                     waiting for messages
//   hearsay_overlap_seconds_total{peer}                  computation overlapped with transfers
//   hearsay_edge_bytes_sent_total{peer,neighbor}         payload bytes, per directed edge
//   hearsay_edge_bytes_received_total{peer,neighbor}
//   hearsay_edge_messages_sent_total{peer,neighbor,kind}  messages (gossip, heartbeat, ...)
//   hearsay_edge_messages_received_total{peer,neighbor,kind}
//   hearsay_edge_staleness_rounds{peer,neighbor}         rounds the neighbour's last mixed
//                                                        message was behind (async runs)
//   hearsay_max_staleness_rounds{peer}
//   hearsay_wire_bytes_sent_total{peer}                  payload + framing, all links (transport)
//   hearsay_wire_bytes_received_total{peer}
//   hearsay_frames_rejected_total{peer}                  malformed / unauthenticated frames
//   hearsay_edge_rtt_seconds{peer,neighbor}              smoothed round-trip time of the TCP
//                                                        link (TransportStats::rtt_s: ping/pong
//                                                        probes, once a second)
// Thread-safety: every method may be called from any thread (the registry's lock).
#pragma once

#include <cstdint>
#include <string>

#include "runtime/metrics/registry.h"
#include "runtime/peer/peer_core.h"
#include "runtime/transport/transport.h"

namespace hearsay {

enum class PeerState { kStarting, kConnecting, kRunning, kDone, kFailed, kStopped };
const char* PeerStateName(PeerState state);  // "starting", ...

class PeerMetrics {
 public:
  PeerMetrics(int peer, const std::string& run, const std::string& algorithm);

  void SetState(PeerState state);
  // After each round: the core's record and the transport's totals.
  void OnRound(const RoundRecord& r, const TransportStats& wire);
  // Per-edge traffic, as the peer hands messages to / takes them from its transport.
  void OnSent(const Message& msg);
  void OnReceived(const Message& msg);

  const MetricsRegistry& registry() const { return registry_; }
  std::string RenderPrometheus() const { return registry_.RenderPrometheus(); }

 private:
  std::string peer_;
  MetricsRegistry registry_;
};

// "gossip", "done", "failed", "avg_request", "avg_reply", "chunk", "heartbeat", "link_down".
const char* MessageKindLabel(MessageKind kind);

}  // namespace hearsay
