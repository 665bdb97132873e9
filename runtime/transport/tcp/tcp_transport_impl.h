// Internal to the TCP transport (not part of the public API; only tcp_connection.cc, tcp_io.cc,
// tcp_link.cc and tcp_transport.cc include it): the TcpTransport class behind MakeTcpTransport
// (tcp_transport.h). Declared here so that connections (tcp_connection.cc) can call back into
// it; defined in tcp_transport.cc and, for the per-link state, tcp_link.cc, for who runs the
// network, tcp_io.cc.
//
// Threading (DESIGN.md): one io_context owns all sockets; each connection's handlers run on its
// own strand with at most one write in flight. Who runs the io_context: the thread waiting in
// Receive, while it waits (a message is read, checked and returned by the thread that asked for
// it: no hand-off), and otherwise the transport's I/O thread (see "Running the network" below).
// Send numbers and MACs a frame on the caller's thread and writes it at once or posts it to the
// connection; Receive pops the thread-safe inbox. The methods called by connections run on their
// strands and synchronise through mu_, atomics, the inbox, the buffer pool and the log limiter
// (all thread-safe). The accept handler and its backoff timer run on io_ with one accept
// outstanding at a time.
// Ownership: the transport owns its threads and sockets; Shutdown (or the destructor) joins them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/transport/auth.h"
#include "runtime/transport/buffer_pool.h"
#include "runtime/transport/frame.h"
#include "runtime/transport/handshake.h"
#include "runtime/transport/inbox.h"
#include "runtime/transport/log_limiter.h"
#include "runtime/transport/tcp/tcp_connection.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay::tcp_internal {

// A striped message's parts have at least this many bytes (docs/wire_format.md "Streams").
inline constexpr uint64_t kMinPartBytes = 64 << 10;

// How a registered connection ended (Connection::Close -> TcpTransport::UnregisterLink).
enum class LinkEnd {
  kBroken,     // an I/O error or EOF before DONE/FAILED: reconnect, resend what is unacknowledged
  kFinished,   // the peer said DONE or FAILED and closed: a normal end
  kViolation,  // the stream broke the protocol (bad MAC, sequence, ack): the link ends for good
};

// A message (or, on a link with several streams, one part of it) sent on a link and not yet
// acknowledged by the other side: kept (payload shared with the frame being written and with the
// message's other parts) so that a reconnect can resend it.
struct Unacked {
  uint64_t seq = 0;  // the link's message number, 1, 2, ... across reconnects
  MessageKind kind = MessageKind::kGossip;
  int64_t round = 0;
  uint32_t tag = 0;
  uint32_t parts = 0;  // stream 0 of a striped message: how many parts it has (0: unstriped)
  std::shared_ptr<const ByteBuffer> payload;
  uint64_t offset = 0, length = 0;  // this frame's bytes of *payload
  uint64_t bytes = 0;               // wire bytes (the frame estimate made by Send)
  bool written = false;             // handed to a connection once (a later send is a resend)
  std::span<const uint8_t> body() const { return {payload->data() + offset, length}; }
};

// One stream of a neighbour's link, which outlives its connections (docs/wire_format.md
// "Reconnect"). With `streams: 1` (the default) it is the link. Guarded by mu (taken after the
// transport's mu_ where both are needed, never before it; several streams' mu only under mu_, in
// stream order); the atomics are also read without it.
struct Link {
  std::mutex mu;
  std::shared_ptr<Connection> conn;  // the open connection; null while the link is down
  bool linked = false;               // a connection was registered once
  // Sending: the next message number and what the neighbour has not acknowledged yet.
  uint64_t next_seq = 1;
  std::deque<Unacked> unacked;
  std::atomic<uint64_t> unacked_bytes{0};
  bool final_sent = false;  // DONE or FAILED sent
  // Receiving: frames delivered from the neighbour's current incarnation (Message::seq of the
  // last one; exactly-once across reconnects), and of those the ones whose whole message reached
  // the inbox (`complete`, what acknowledgements and the resume report: a part waiting for the
  // rest of its message is resent if the link breaks, so the sender's bound on unacknowledged
  // bytes also bounds what waits here); with one stream the two are equal. `ack_sent`: the highest
  // `complete` sent back in any frame's `ack`.
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> complete{0};
  std::atomic<uint64_t> ack_sent{0};
  // The link's end: `final` once the neighbour said DONE (done) or FAILED, or broke the protocol
  // (final_why); no reconnect then, except by a new incarnation (a restarted peer).
  bool final = false;
  bool done = false;  // DONE received (the link ends when its connection closes)
  std::string final_why;
  // While down: a counter of breaks (a grace timer acts only on its own), and whether Receive
  // was told (kLinkDown with tag 1).
  uint64_t down_generation = 0;
  bool down_reported = false;
  std::string down_why;
};

// A part of a striped message, delivered on its stream and waiting for the others.
struct Part {
  Message msg;
  uint32_t parts = 0;  // stream 0: the message's part count (0: 1)
  uint64_t link_seq = 0;
};

// One neighbour: its streams (`streams:` connections, docs/wire_format.md "Streams") and what ties
// them together.
struct PeerLinks {
  std::vector<std::unique_ptr<Link>> streams;
  // Guarded by every stream's mu (written holding all of them, read holding any one): whether a
  // connection was registered once, the neighbour's process incarnation (0: it sent none), and a
  // counter of its restarts (Send drops the rest of a message begun before one).
  bool linked = false;
  uint64_t peer_incarnation = 0;
  uint64_t generation = 0;
  // One Send at a time to this neighbour, so that the parts of striped messages are in the same
  // order on every stream.
  std::mutex send_mu;
  // Reassembly of striped messages (several streams only), taken after a stream's mu: per
  // stream, the parts delivered in order and not yet claimed, and their payload bytes.
  std::mutex rx_mu;
  std::vector<std::deque<Part>> ahead;
  uint64_t ahead_bytes = 0;
};

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(TcpTransportOptions options);
  ~TcpTransport() override { (void)Shutdown(Now()); }

  Status Start(TimePoint deadline) override;
  Status Send(Message msg) override;
  Result<Message> Receive(TimePoint deadline) override;
  Status Shutdown(TimePoint deadline) override;
  TransportStats stats() const override;
  void Recycle(ByteBuffer buffer) override { pool_->Release(std::move(buffer)); }
  ByteBuffer AcquireBuffer(size_t bytes) override {
    ByteBuffer b = pool_->Acquire(bytes);
    b.clear();
    return b;
  }
  // Every link's frames point into the one buffer; it goes back to the pool when the last holder
  // (a link until its neighbour acknowledged it, a frame being written, the sender) lets go.
  bool SharesPayloads() const override { return true; }
  std::shared_ptr<const ByteBuffer> SharePayload(ByteBuffer b) override {
    return ShareFromPool(pool_, std::move(b));
  }

  // Called by connections (on their strands).
  const TcpTransportOptions& options() const { return options_; }
  const std::string& name() const { return name_; }
  HandshakeSetup MakeHandshakeSetup(HandshakeRole role, int peer, int stream) const;
  int streams() const { return options_.streams; }
  BufferPool& pool() { return *pool_; }
  bool IsNeighbor(int j) const { return neighbor_set_.count(j) > 0; }
  // Registers an authenticated connection as `peer`'s link (docs/wire_format.md "Reconnect"):
  // the first one, a reconnect of the same incarnation (a half-open old connection is replaced;
  // what `theirs` does not acknowledge is resent on conn, in order, before anything new), or a
  // restarted peer's (new incarnation: the old one is reported down for good and the link starts
  // afresh). `said`: what the dialer said in its AUTH (acceptor: unused). Returns false with a
  // reason when the link ended for good or `theirs` acknowledges messages never sent. Sets
  // `welcome` (the acceptor's resume fields) and `rx_start` (the link number of the first
  // message frame conn will carry). A new incarnation while the old one's connection is still
  // open is not taken (`retry_later`: close, the dialer tries again): two processes with one id
  // must not take turns, and a restarted peer's old connection breaks within a ping interval.
  // With several streams each is registered on its own; a restart is noticed on the first
  // stream to reconnect and resets them all.
  bool RegisterLink(int peer, int stream, const std::shared_ptr<Connection>& conn,
                    HandshakeRole role, const LinkResume& theirs, const LinkResume& said,
                    LinkResume* welcome, uint64_t* rx_start, std::string* reason,
                    bool* retry_later);
  // A protocol violation on one stream ends every stream of the neighbour.
  void UnregisterLink(int peer, int stream, const Connection* conn, LinkEnd end,
                      const std::string& why);
  LinkResume ResumeInfo(int peer, int stream) const;
  // The other side acknowledged `ack` messages (any frame's ack field): frees them. False when it
  // acknowledges more than were sent (a protocol violation).
  bool OnAck(int peer, int stream, const Connection* conn, uint64_t ack);
  enum class Delivery { kDelivered, kDuplicate, kStale, kGap, kViolation };
  // Delivers the message frame numbered `link_seq` on conn unless conn was replaced (kStale) or
  // it was delivered before (kDuplicate, after a reconnect); kGap: a message is missing. With
  // several streams the frame is a part (`parts`: its message's part count, on stream 0): it
  // waits until its message's other parts are in, and the whole message then goes to the inbox;
  // `completed` gets a bit per stream whose parts that completed (they acknowledge now,
  // NudgeAcks). kViolation (`why`): parts that do not fit together, or more waiting than the
  // sender's bound on unacknowledged bytes allows.
  Delivery DeliverFrom(int peer, int stream, const Connection* conn, uint64_t link_seq,
                       uint32_t parts, Message msg, uint64_t wire_bytes, uint32_t* completed,
                       std::string* why);
  // After DeliverFrom completed striped messages: the connections of the streams in `mask`
  // acknowledge them (now for DONE/FAILED, else within the usual delay).
  void NudgeAcks(int peer, uint32_t mask, MessageKind kind);
  PeerLinks& peer_links(int peer) const { return *link_state_.at(peer); }
  Link& link(int peer, int stream) const { return *peer_links(peer).streams[stream]; }
  void RecordFatal(int peer, Status error);
  void RecordAttemptError(int peer, const std::string& error);
  void HandshakeFailed(int peer, int stream);  // dialer side: retry later, with backoff
  void UnauthenticatedDone() { --unauthenticated_; }
  // Tells the peer (through Receive) that the link to `peer` broke, and why; `may_return`: the
  // transport is still trying to re-establish it (kLinkDown tag 1).
  void LinkBroken(int peer, const std::string& why, bool may_return = false) {
    Message m;
    m.kind = MessageKind::kLinkDown;
    m.from = peer;
    m.to = options_.self;
    m.tag = may_return ? 1 : 0;
    m.payload.assign(why.begin(), why.end());
    inbox_.Push(std::move(m));
  }
  // A frame of `bytes` written; `message`: it starts a message (not a later part of one).
  void CountSent(uint64_t bytes, bool message = true) {
    bytes_sent_ += bytes;
    if (message) ++messages_sent_;
  }
  // n message frames (bytes on the wire) to `peer` were written or dropped.
  void FramesDone(int peer, size_t n, uint64_t bytes);
  bool shutting_down() const { return shutting_down_.load(); }
  void WillBeBusy(double seconds) override;
  void CountRejected() { ++frames_rejected_; }
  // A round-trip sample of the link to `peer` (any I/O thread): smoothed as TCP's SRTT,
  // rtt <- 7/8 rtt + 1/8 sample, the first sample taken as is.
  void RecordRtt(int peer, double seconds);
  void CountHandshakeFailed() { ++handshakes_failed_; }
  // A warning prefixed with this peer's name, at most once per 10 s per key.
  void LogLimited(const std::string& key, const std::string& message);

 private:
  using LinkId = std::pair<int, int>;  // (neighbour, stream)
  void Accept();
  void Dial(int peer, int stream, double backoff_s);
  // Whether (peer, stream) should be dialed: a higher neighbour whose link is down and not ended.
  bool WantDial(int peer, int stream);
  // After a break: redial (if we dial this peer) and, unless it is back within
  // reconnect_grace_s, tell Receive (kLinkDown, tag 1; once while any stream is down). Requires
  // the link's mu.
  void ScheduleReconnect(int peer, int stream, Link& l);
  // Every stream's mu of `p`, in stream order (requires mu_).
  static std::vector<std::unique_lock<std::mutex>> LockAll(PeerLinks& p);
  // How many parts msg is striped into: 1 with one stream; DONE and FAILED go on every stream
  // (each connection then ends normally); others in parts of at least kMinPartBytes.
  uint32_t PartsOf(const Message& msg) const;
  // Frees acknowledged messages (l.mu held).
  void DropAcked(Link& l, uint64_t ack);
  // Running the network (docs/wire_format.md "Threads"). A thread in Receive runs io_ itself
  // until a message is in the inbox or its deadline passes. The I/O thread runs io_ only while no
  // thread is in Receive: when something needs the network now (Start, Shutdown, a frame queued
  // for a connection, a Send waiting for room, WillBeBusy: WakeIoThread), or once no Receive has
  // run it for a lease (kIoLease: acknowledgements, pings and reads go on while the peer thread
  // does something long that it did not announce). A thread entering Receive while the I/O
  // thread runs io_ posts it a no-op, after which the I/O thread steps back; an arrival pushed by
  // a thread other than a receiver posts one too, so a receiver waiting inside io_ wakes up.
  void RunIoThread();
  // The inbox's notifier: wakes a receiver waiting inside io_ for an arrival it did not push.
  void OnInboxPush();
  // Wakes the I/O thread to run io_ now unless some thread already does.
  void WakeIoThread();
  // Runs at most one handler of io_ (until `deadline`); an escaping exception is reported like an
  // I/O thread's. Returns how many handlers ran (0: the deadline passed, or io_ stopped).
  size_t RunIoOnce(TimePoint deadline);
  // Runs every handler of io_ that is ready now, without waiting.
  void PollIo();
  void ReportIoFailure(std::exception_ptr error);
  // Around Receive's use of io_ (a wait, or a poll: false, and nothing to do, while the I/O
  // thread runs io_ anyway).
  bool EnterReceive(bool poll);
  void LeaveReceive();
  std::string DescribeMissing() const;  // requires mu_

  const TcpTransportOptions options_;
  const std::string name_;
  std::set<int> neighbor_set_;
  const uint64_t incarnation_;  // this process's, random
  std::shared_ptr<const ClusterKey> key_;
  ClusterConfig config_;
  std::shared_ptr<BufferPool> pool_;  // shared with the deleters of shared payloads (ShareFromPool)
  LogLimiter log_limiter_;
  Inbox inbox_;
  asio::io_context io_;  // destroyed after the connections held in its handlers
  // Per neighbour; the map is immutable after construction. Declared after io_, so destroyed
  // before it: a link's connection owns timers of io_.
  std::map<int, std::unique_ptr<PeerLinks>> link_state_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_timer_;
  double accept_backoff_s_ = 0;  // accept handler only
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread io_thread_;
  std::atomic<bool> io_started_{false};  // Start launched io_thread_ (Receive runs io_ from then)
  // Who runs io_ (RunIoThread): guarded by drive_mu_ (receivers_ is also read without it).
  std::mutex drive_mu_;
  std::condition_variable drive_cv_;
  std::atomic<int> receivers_{0};  // threads in Receive running io_
  uint64_t receive_epoch_ = 0;     // counts Receive calls that ran io_
  bool io_running_ = false;        // the I/O thread is inside io_
  bool io_wanted_ = false;         // WakeIoThread asked for it
  bool io_exit_ = false;           // Shutdown
  std::map<int, tcp::resolver::results_type> endpoints_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> dialing_{false};
  std::atomic<int> unauthenticated_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;                                 // guarded by mu_
  bool shut_down_ = false;                               // guarded by mu_
  std::map<LinkId, std::shared_ptr<Connection>> links_;  // open links, guarded by mu_
  std::set<LinkId> ever_linked_;                         // guarded by mu_
  std::map<int, std::string> last_error_;                // guarded by mu_
  std::map<LinkId, double> dial_backoff_s_;              // after failed handshakes; mu_
  std::optional<Status> fatal_;                          // guarded by mu_
  size_t pending_frames_ = 0;                            // queued, not yet written; mu_
  std::map<int, uint64_t> queued_bytes_;                 // per neighbour, not yet written; mu_
  std::map<int, double> rtt_s_;                          // smoothed RTT per neighbour; mu_

  std::atomic<uint64_t> bytes_sent_{0}, bytes_received_{0}, messages_sent_{0},
      messages_received_{0}, frames_rejected_{0}, handshakes_failed_{0}, messages_resent_{0};
};

}  // namespace hearsay::tcp_internal
