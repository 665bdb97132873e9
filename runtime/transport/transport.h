// Transport: moves Messages between peers (DESIGN.md "Core seams").
//
// Implementations: TCP over Boost.Asio (runtime/transport/tcp/), in-process (runtime/transport/
// inproc/); the network emulator (runtime/emulator/) wraps any of them. Messages on one directed
// link are delivered in send order. A transport never interprets payloads.
//
// Threading: Send and Receive are called from the peer's compute thread; implementations hand
// messages over through a thread-safe inbox, filled by their own I/O threads (in-process, the
// emulator) or, over TCP, by the very thread waiting in Receive while it waits (and by the
// transport's own thread while nobody waits; see WillBeBusy). Every
// blocking call takes an absolute deadline, except Send, which a transport may block for a bounded
// time when too many bytes are queued for one neighbour (backpressure; see its options).
// Failures inside a transport's own threads never escape them: Receive returns the reason.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/byte_buffer.h"
#include "common/clock.h"
#include "common/status.h"

namespace hearsay {

// Values 1..15 travel as message frames of the same number (docs/wire_format.md); new kinds need
// no wire change. Never renumber.
enum class MessageKind : uint8_t {
  kGossip = 1,      // a round's algorithm payload
  kDone = 2,        // sender finished its last round and will send nothing more
  kFailed = 3,      // sender failed and will send nothing more; the payload is its reason (text)
  kAvgRequest = 4,  // AD-PSGD: "average with me", the sender's (encoded) model
  kAvgReply = 5,    // AD-PSGD: the (encoded) half-difference the responder applied
  kChunk = 6,       // all-reduce: one chunk of a reduce-scatter / all-gather step (`tag`)
  kHeartbeat = 7,   // "still here", on a link that carried nothing else for a while
  // Never on the wire: a transport hands this to Receive, from = the neighbour, payload = the
  // reason, when the link to that neighbour broke before it said DONE (the peer goes on without
  // it; docs/faults.md). tag = 1: the transport is still trying to re-establish the link (TCP
  // reconnect), so the neighbour may come back with everything it sent; tag = 0: for good.
  kLinkDown = 8,
  // Rejoin of a restarted peer (docs/faults.md "Restart and rejoin"): JOIN (restarted -> each
  // neighbour), JOIN_STATE (the neighbour's copy of the joiner and its own public copy, at a
  // round boundary; payload: runtime/peer/gossip_core.cc), SET_COPY (joiner -> neighbours: the
  // copy every holder adopts and the joiner's next round), COPY_HASH (the holder's hash of its
  // copy after adopting it).
  kJoin = 9,
  kJoinState = 10,
  kSetCopy = 11,
  kCopyHash = 12,
  // Never handed to Receive: the TCP transport's round-trip probe of a link. kPing carries the
  // sender's clock (8 bytes); the receiver's I/O thread answers at once with kPong echoing it
  // (runtime/transport/tcp/tcp_connection.h, hearsay_edge_rtt_seconds).
  kPing = 13,
  kPong = 14,
  // Never handed to Receive: the TCP transport's acknowledgement, sent when a link delivered
  // messages but had nothing else to send back soon (every frame's `ack` field carries the count
  // otherwise; docs/wire_format.md "Reconnect").
  kAck = 15,
};

struct Message {
  MessageKind kind = MessageKind::kGossip;
  int32_t from = -1;
  int32_t to = -1;
  int64_t round = 0;
  uint32_t tag = 0;  // kChunk: the step within the round; 0 otherwise
  // Set by the transport on received messages: the per-link, per-direction sequence number
  // (1, 2, ... in send order; docs/wire_format.md). Ignored on Send.
  uint64_t seq = 0;
  ByteBuffer payload;
  // On Send only, instead of payload: bytes shared with other messages, so that one payload goes
  // to several neighbours without a copy per neighbour (GossipCore::BeginRound; made with
  // Transport::SharePayload). Nobody writes them while shared. A transport that hands messages
  // over as they are (in-process, the simulator) gives each a copy of its own (OwnPayload); TCP
  // writes the one buffer on every link. Received messages never carry it.
  std::shared_ptr<const ByteBuffer> shared_payload;

  size_t payload_size() const { return shared_payload ? shared_payload->size() : payload.size(); }
};

// Turns msg's shared payload into a copy of its own. Does nothing without one.
inline void OwnPayload(Message& msg) {
  if (!msg.shared_payload) return;
  msg.payload.assign(msg.shared_payload->begin(), msg.shared_payload->end());
  msg.shared_payload.reset();
}

struct TransportStats {
  uint64_t bytes_sent = 0;  // payload + framing bytes handed to the wire
  uint64_t bytes_received = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t frames_rejected = 0;    // malformed, unauthenticated, replayed or bad-MAC frames
  uint64_t handshakes_failed = 0;  // connections closed before they were authenticated
  // TCP: messages written again on a new connection after a link broke before the other side
  // acknowledged them (also in messages_sent and bytes_sent).
  uint64_t messages_resent = 0;
  // TCP: smoothed round-trip time per neighbour, in seconds (kPing/kPong probes; absent until a
  // link's first answer). The probes are not in the byte and message counts above.
  std::map<int, double> rtt_s;
};

// Called by a transport, from any of its threads, when something arrives that Receive will
// return from `ready` on (a time already past, often TimePoint(): at once). It may run under the
// transport's locks: it must be quick and must not call back into the transport.
using ArrivalNotifier = std::function<void(TimePoint ready)>;

class Transport {
 public:
  virtual ~Transport() = default;

  // Brings up links to this peer's neighbours (TCP: listen, dial with retry and backoff,
  // handshake) and returns once every link is up, or an error naming the peer that failed.
  virtual Status Start(TimePoint deadline) = 0;
  // Queues msg for peer msg.to and returns without waiting for the wire.
  virtual Status Send(Message msg) = 0;
  // Next arrived message. DeadlineExceeded when none arrives in time; Cancelled after Shutdown;
  // a kLinkDown message when a link broke.
  virtual Result<Message> Receive(TimePoint deadline) = 0;
  // Delivers what is queued (bounded by deadline), then closes every link. Idempotent.
  virtual Status Shutdown(TimePoint deadline) = 0;
  virtual TransportStats stats() const = 0;
  // Event-driven drivers (runtime/launch/peer_pool.h), which wait for many transports at once:
  // `notify` is called after each arrival (message, link-down notice, error) that Receive will
  // return, until Shutdown or another call (null: none). Returns false when the transport cannot
  // tell (the driver then polls it).
  virtual bool SetArrivalNotifier(ArrivalNotifier notify) { return false; }
  // A hint from the thread that calls Receive: it will not call it for about `seconds` (a
  // compute step; infinity: unknown, e.g. the caller's own code runs). A transport whose network
  // runs on the receiving thread while it waits (TCP) hands the network to a thread of its own
  // meanwhile when that is long enough to matter. Any thread; the default ignores it.
  virtual void WillBeBusy(double seconds) {}
  // Buffer reuse (optional; any thread). A transport that pools buffers reads payloads into
  // recycled memory -- no allocation, no zero-fill, no page faults -- and hands out buffers for
  // the next outgoing payloads from the same pool (payloads it has written go back to it).
  // Recycle: gives a received payload's buffer back; the default frees it.
  virtual void Recycle(ByteBuffer buffer) {}
  // An empty buffer with capacity for at least `bytes` bytes, for an outgoing payload (fill it
  // with assign/insert: no zero-fill). The default allocates a fresh one.
  virtual ByteBuffer AcquireBuffer(size_t bytes) {
    ByteBuffer b;
    b.reserve(bytes);
    return b;
  }
  // Whether Send writes a message's shared_payload as it is, so that one buffer serves every
  // neighbour (TCP). False (the default): Send makes a copy per message (OwnPayload), and a
  // sender saves nothing by sharing. Wrappers answer for the transport they wrap.
  virtual bool SharesPayloads() const { return false; }
  // `b` as a shared payload (Message::shared_payload). A pooling transport makes it go back to
  // its pool when the last holder lets go (TCP); the default just shares it.
  virtual std::shared_ptr<const ByteBuffer> SharePayload(ByteBuffer b) {
    return std::make_shared<const ByteBuffer>(std::move(b));
  }
};

}  // namespace hearsay
