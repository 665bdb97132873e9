// TcpTransport's per-link state across connections (docs/wire_format.md "Reconnect" and
// "Streams"): the resume exchanged in the handshake, registering and unregistering connections
// (replacing a half-open one, resetting every stream of the link for a restarted peer),
// acknowledgements, exactly-once delivery, the reassembly of striped messages and the reconnect
// after a break; and the connection's side of it (Connection's acknowledgements and round-trip
// probes). A translation unit of its own to keep tcp_transport.cc (listening, dialing,
// Start/Send/Receive/Shutdown) and tcp_connection.cc (socket I/O) readable; it runs on the
// caller's and the I/O threads, with the link's mutex taken after the transport's mu_.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>

#include "common/logging.h"
#include "runtime/transport/tcp/tcp_connection.h"
#include "runtime/transport/tcp/tcp_transport_impl.h"

namespace hearsay::tcp_internal {

LinkResume TcpTransport::ResumeInfo(int peer, int stream) const {
  PeerLinks& p = peer_links(peer);
  Link& l = *p.streams[stream];
  std::lock_guard<std::mutex> lock(l.mu);
  return LinkResume{incarnation_, p.peer_incarnation, l.complete.load()};
}

std::vector<std::unique_lock<std::mutex>> TcpTransport::LockAll(PeerLinks& p) {
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(p.streams.size());
  for (auto& l : p.streams) locks.emplace_back(l->mu);
  return locks;
}

void TcpTransport::DropAcked(Link& l, uint64_t ack) {
  bool freed = false;
  while (!l.unacked.empty() && l.unacked.front().seq <= ack) {
    Unacked& u = l.unacked.front();
    l.unacked_bytes -= std::min(u.bytes, l.unacked_bytes.load());
    // Its buffer goes back to the pool when the last holder lets go (ShareFromPool): this link, a
    // frame still being written, another part of the message, another neighbour's link.
    l.unacked.pop_front();
    freed = true;
  }
  if (freed) cv_.notify_all();  // a Send waiting for room
}

bool TcpTransport::RegisterLink(int peer, int stream, const std::shared_ptr<Connection>& conn,
                                HandshakeRole role, const LinkResume& theirs,
                                const LinkResume& said, LinkResume* welcome, uint64_t* rx_start,
                                std::string* reason, bool* retry_later) {
  const std::string who = "peer " + std::to_string(peer);
  {
    std::lock_guard<std::mutex> lock(mu_);
    PeerLinks& p = peer_links(peer);
    Link& l = *p.streams[stream];
    // A restart concerns every stream of the neighbour.
    auto link_locks = LockAll(p);
    const bool restarted = p.linked && theirs.incarnation != p.peer_incarnation;
    if (!restarted && l.final && l.linked) {
      *reason = who + " already " + (l.done ? "finished" : "ended") + " its link with " + name_ +
                (l.final_why.empty() ? "" : " (" + l.final_why + ")");
      return false;
    }
    const bool any_open = std::any_of(p.streams.begin(), p.streams.end(),
                                      [](const auto& s) { return s->conn != nullptr; });
    if (restarted && any_open) {
      *reason = who + " connected as a new process while its link to " + name_ +
                " is still open (a second process with the same id, or a restart before the old "
                "connection broke); closing the new connection";
      *retry_later = true;
      return false;
    }
    if (restarted) {
      // A new process with the same id (a restart): the old one is gone for good. Whatever was
      // queued for it is dropped (on every stream, with any half-assembled message); the new one
      // starts the link's numbering afresh and rejoins the run through the peers' own protocol
      // (docs/faults.md "Restart and rejoin").
      const bool ended =
          std::all_of(p.streams.begin(), p.streams.end(), [](const auto& s) { return s->final; });
      if (!ended) {
        LinkBroken(peer, who + " restarted: a new process connected in place of the one whose " +
                             "link to " + name_ + " broke");
      }
      for (auto& s : p.streams) {
        DropAcked(*s, s->next_seq);
        s->next_seq = 1;
        s->delivered = 0;
        s->complete = 0;
        s->ack_sent = 0;
        s->final = s->done = s->final_sent = false;
        s->final_why.clear();
      }
      ++p.generation;
      std::lock_guard<std::mutex> rx_lock(p.rx_mu);
      for (auto& q : p.ahead) {
        for (Part& part : q) pool_->Release(std::move(part.msg.payload));
        q.clear();
      }
      p.ahead_bytes = 0;
    } else if (l.conn) {
      // The same process over a new connection while ours still looked open (half-open: the
      // other side saw the break first). The new one is authenticated; the old one goes.
      l.conn->Detach();
    }
    // Their ack counts our messages only if it refers to this incarnation of us.
    const uint64_t acked = theirs.peer_incarnation == incarnation_ ? theirs.delivered : 0;
    if (acked >= l.next_seq) {
      *reason = who + " acknowledges " + std::to_string(acked) + " messages; " + name_ +
                " sent it " + std::to_string(l.next_seq - 1);
      return false;
    }
    DropAcked(l, acked);
    p.peer_incarnation = theirs.incarnation;
    p.linked = true;
    l.linked = true;
    l.conn = conn;
    l.down_reported = false;
    ++l.down_generation;  // a pending grace timer does nothing
    *welcome = LinkResume{incarnation_, p.peer_incarnation, l.complete.load()};
    // The acceptor resends from what its WELCOME says; the dialer from what its AUTH said, if
    // that referred to this incarnation of the acceptor (duplicates are dropped on delivery).
    if (role == HandshakeRole::kAcceptor) {
      *rx_start = welcome->delivered + 1;
    } else {
      *rx_start = (said.peer_incarnation == theirs.incarnation ? said.delivered : 0) + 1;
    }
    // Resend, in order, before anything new (Send holds the link's mutex to queue).
    for (Unacked& u : l.unacked) {
      // Queued behind the WELCOME (the connection holds its writes until it is sent).
      const SendOutcome sent = conn->SendMessage(u);
      if (sent.bytes == 0) break;
      if (!sent.written) ++pending_frames_;
      CountSent(sent.bytes, /*message=*/stream == 0);
      if (u.written && stream == 0) ++messages_resent_;
      u.written = true;
    }
    links_[{peer, stream}] = conn;
    ever_linked_.insert({peer, stream});
    // The last failure stays for Start's message until every stream of the peer is up.
    bool all_up = true;
    for (int k = 0; k < options_.streams; ++k) all_up = all_up && ever_linked_.count({peer, k});
    if (all_up) last_error_.erase(peer);
    dial_backoff_s_.erase({peer, stream});
  }
  HEARSAY_LOG_DEBUG("{}: link to peer {} (stream {}) is up", name_, peer, stream);
  cv_.notify_all();
  return true;
}

void TcpTransport::UnregisterLink(int peer, int stream, const Connection* conn, LinkEnd end,
                                  const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = links_.find({peer, stream});
    if (it != links_.end() && it->second.get() == conn) links_.erase(it);
    PeerLinks& p = peer_links(peer);
    auto link_locks = LockAll(p);
    Link& l = *p.streams[stream];
    if (l.conn.get() != conn) return;  // replaced by a newer connection
    l.conn.reset();
    if (end == LinkEnd::kFinished) {
      l.final = true;
    } else if (end == LinkEnd::kViolation) {
      // A stream that broke the protocol leaves its messages' other parts without a match: the
      // whole link ends (the other streams' connections close quietly).
      for (auto& s : p.streams) {
        s->final = true;
        s->final_why = why;
        if (s->conn) s->conn->Detach();
      }
    } else if (!shutting_down_ && !l.final) {
      l.down_why = why;
      ScheduleReconnect(peer, stream, l);
    }
  }
  cv_.notify_all();
}

void TcpTransport::ScheduleReconnect(int peer, int stream, Link& l) {
  const uint64_t generation = ++l.down_generation;
  auto timer = std::make_shared<asio::steady_timer>(io_);
  timer->expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(
      Duration(options_.reconnect_grace_s)));
  timer->async_wait([this, peer, stream, generation, timer](const ErrorCode& ec) {
    if (ec || shutting_down_) return;
    std::lock_guard<std::mutex> lock(mu_);
    PeerLinks& p = peer_links(peer);
    auto link_locks = LockAll(p);
    Link& l = *p.streams[stream];
    if (l.down_generation != generation || l.conn || l.final || l.down_reported) return;
    l.down_reported = true;
    // Once per neighbour while any of its streams is down and reported.
    for (const auto& s : p.streams) {
      if (s.get() != &l && s->down_reported && !s->conn) return;
    }
    LinkBroken(peer,
               l.down_why + fmt::format("; not re-established within {:g} s (still trying)",
                                        options_.reconnect_grace_s),
               /*may_return=*/true);
  });
  if (peer > options_.self) Dial(peer, stream, options_.connect_backoff_initial_s);
}

bool TcpTransport::WantDial(int peer, int stream) {
  Link& l = link(peer, stream);
  std::lock_guard<std::mutex> lock(l.mu);
  return !l.conn && !l.final;
}

bool TcpTransport::OnAck(int peer, int stream, const Connection* conn, uint64_t ack) {
  Link& l = link(peer, stream);
  std::lock_guard<std::mutex> lock(l.mu);
  if (l.conn.get() != conn) return true;  // a replaced connection: ignored
  if (ack >= l.next_seq) return false;
  DropAcked(l, ack);
  return true;
}

TcpTransport::Delivery TcpTransport::DeliverFrom(int peer, int stream, const Connection* conn,
                                                 uint64_t link_seq, uint32_t parts, Message msg,
                                                 uint64_t wire_bytes, uint32_t* completed,
                                                 std::string* why) {
  PeerLinks& p = peer_links(peer);
  Link& l = *p.streams[stream];
  std::lock_guard<std::mutex> lock(l.mu);
  if (l.conn.get() != conn) return Delivery::kStale;
  const uint64_t delivered = l.delivered.load();
  if (link_seq <= delivered) return Delivery::kDuplicate;
  if (link_seq != delivered + 1) return Delivery::kGap;
  l.delivered = link_seq;
  // The link ends when the connection then closes (UnregisterLink): the neighbour still reads
  // until it has everything it waits for.
  if (msg.kind == MessageKind::kDone) l.done = true;
  bytes_received_ += wire_bytes;
  if (p.streams.size() == 1) {
    l.complete = link_seq;
    msg.seq = link_seq;
    ++messages_received_;
    inbox_.Push(std::move(msg));  // under the link's mutex: in order with kLinkDown notices
    return Delivery::kDelivered;
  }
  std::lock_guard<std::mutex> rx_lock(p.rx_mu);
  // A sender keeps at most max_queued_bytes unacknowledged (plus one message larger than that),
  // and parts are acknowledged only once their message is whole: more waiting here is a sender
  // that ignores the protocol.
  const uint64_t bound = options_.max_queued_bytes + options_.max_message_bytes;
  if (p.ahead_bytes + msg.payload.size() > bound) {
    *why = "more than " + std::to_string(bound) +
           " bytes of message parts wait for their other parts (max_queued_bytes + "
           "max_message_bytes)";
    return Delivery::kViolation;
  }
  p.ahead_bytes += msg.payload.size();
  p.ahead[stream].push_back(Part{std::move(msg), parts, link_seq});
  // Message i's part s is the i-th part on stream s among the messages with more than s parts:
  // each stream is in order, so the messages come out whole and in order.
  while (!p.ahead[0].empty()) {
    Part& first = p.ahead[0].front();
    const uint32_t n = std::max<uint32_t>(1, first.parts);
    for (uint32_t s = 1; s < n; ++s) {
      if (p.ahead[s].empty()) return Delivery::kDelivered;  // not all in yet
    }
    uint64_t total = 0;
    for (uint32_t s = 0; s < n; ++s) {
      const Message& m = p.ahead[s].front().msg;
      if (m.kind != first.msg.kind || m.round != first.msg.round || m.tag != first.msg.tag) {
        *why = "part " + std::to_string(s) + " of message " + std::to_string(first.link_seq) +
               " (stream " + std::to_string(s) + ", round " + std::to_string(m.round) +
               ") does not match its first part (round " + std::to_string(first.msg.round) + ")";
        return Delivery::kViolation;
      }
      total += m.payload.size();
    }
    Message whole;
    whole.kind = first.msg.kind;
    whole.from = first.msg.from;
    whole.to = first.msg.to;
    whole.round = first.msg.round;
    whole.tag = first.msg.tag;
    whole.seq = first.link_seq;
    if (n == 1) {
      whole.payload = std::move(first.msg.payload);
    } else {
      whole.payload = pool_->Acquire(total);
      whole.payload.resize(total);
      uint64_t at = 0;
      for (uint32_t s = 0; s < n; ++s) {
        ByteBuffer& b = p.ahead[s].front().msg.payload;
        if (!b.empty()) std::memcpy(whole.payload.data() + at, b.data(), b.size());
        at += b.size();
        pool_->Release(std::move(b));
      }
    }
    for (uint32_t s = 0; s < n; ++s) {
      p.streams[s]->complete = p.ahead[s].front().link_seq;
      p.ahead[s].pop_front();
      *completed |= 1u << s;
    }
    p.ahead_bytes -= total;
    ++messages_received_;
    inbox_.Push(std::move(whole));
  }
  return Delivery::kDelivered;
}

void TcpTransport::NudgeAcks(int peer, uint32_t mask, MessageKind kind) {
  PeerLinks& p = peer_links(peer);
  for (size_t s = 0; s < p.streams.size(); ++s) {
    if (!(mask & (1u << s))) continue;
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> lock(p.streams[s]->mu);
      conn = p.streams[s]->conn;
    }
    if (conn) conn->AckSoon(kind);
  }
}

uint32_t TcpTransport::PartsOf(const Message& msg) const {
  const auto streams = static_cast<uint32_t>(options_.streams);
  if (streams == 1) return 1;
  if (msg.kind == MessageKind::kDone || msg.kind == MessageKind::kFailed) return streams;
  return static_cast<uint32_t>(
      std::clamp<uint64_t>(msg.payload_size() / kMinPartBytes, 1, streams));
}

std::string TcpTransport::DescribeMissing() const {
  std::vector<std::string> missing;
  for (int j : options_.neighbors) {
    bool all = true;
    for (int s = 0; s < options_.streams; ++s) all = all && ever_linked_.count({j, s}) > 0;
    if (all) continue;
    std::string s = std::to_string(j);
    auto it = last_error_.find(j);
    s += it != last_error_.end()
             ? " (" + it->second + ")"
             : (j > options_.self ? " (no answer yet)" : " (it never connected)");
    missing.push_back(s);
  }
  std::string out;
  for (const auto& p : missing) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The connection's side of a link's bookkeeping (it runs on the connection's strand, except
// TakeAck, called by SendMessage): acknowledgements, and the round-trip probes.

namespace {

// Acknowledgements without a frame to carry them: at once after this many messages or bytes, or
// after a DONE/FAILED; otherwise after this delay, unless a frame going the other way carries the
// ack first (gossip is two-way, so that is the common case).
constexpr uint64_t kAckEveryMessages = 16;
constexpr uint64_t kAckEveryBytes = 1 << 20;
constexpr double kAckDelayS = 0.01;

int64_t ProbeClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

uint64_t Connection::TakeAck() {
  Link& l = owner_->link(peer_.load(), stream_.load());
  const uint64_t ack = l.complete.load();
  uint64_t prev = l.ack_sent.load();
  while (prev < ack && !l.ack_sent.compare_exchange_weak(prev, ack)) {
  }
  return ack;
}

// On the strand (probes are sent by its timers and read handler).
void Connection::SendProbe(MessageKind kind, ByteBuffer payload) {
  if (state_ != State::kOpen || half_close_requested_) return;
  Message msg;
  msg.kind = kind;
  msg.from = owner_->options().self;
  msg.to = peer_.load();
  msg.payload = std::move(payload);
  std::lock_guard<std::mutex> lock(send_mu_);
  // After DONE/FAILED only acknowledgements: the other side may still be sending.
  if (!send_open_ || (final_sent_ && kind != MessageKind::kAck)) return;
  const uint64_t seq = ++send_seq_;
  OutFrame f;
  f.head = EncodeFrameHead(DataFrameHeader(msg, seq, TakeAck()),
                           static_cast<uint32_t>(msg.payload.size()), /*with_mac=*/true);
  f.tag = ComputeFrameMac(send_key_, seq, f.head, msg.payload);
  f.has_tag = true;
  f.payload = std::move(msg.payload);
  (void)WriteOrQueue(f);
}

void Connection::SchedulePing(double delay_s) {
  ping_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(delay_s)));
  ping_timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    self->Guarded([&] {
      if (ec || self->state_ != State::kOpen || self->half_close_requested_) return;
      ByteBuffer clock(sizeof(int64_t));
      const int64_t now = ProbeClockNs();
      std::memcpy(clock.data(), &now, sizeof(now));
      self->SendProbe(MessageKind::kPing, std::move(clock));
      self->SchedulePing(self->owner_->options().ping_interval_s);
    });
  });
}

// The echo of our own clock: RTT = now - then, including the time the ping and the pong waited
// behind other frames in the two write queues (the link's round trip under its current load).
void Connection::OnPong(const ByteBuffer& payload) {
  int64_t then = 0;
  if (payload.size() != sizeof(then)) {
    owner_->CountRejected();
    return;
  }
  std::memcpy(&then, payload.data(), sizeof(then));
  const int64_t ns = ProbeClockNs() - then;
  if (ns < 0) return;
  owner_->RecordRtt(peer_.load(), static_cast<double>(ns) * 1e-9);
}

void Connection::AckSoon(MessageKind kind) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), kind] {
    self->Guarded([&] {
      if (self->state_ == State::kOpen) self->MaybeAck(kind, 0);
    });
  });
}

void Connection::MaybeAck(MessageKind delivered_kind, uint64_t wire_bytes) {
  bytes_since_ack_ += wire_bytes;
  Link& l = owner_->link(peer_.load(), stream_.load());
  const uint64_t behind = l.complete.load() - std::min(l.complete.load(), l.ack_sent.load());
  if (behind == 0) {
    bytes_since_ack_ = 0;
    return;
  }
  const bool now = behind >= kAckEveryMessages || bytes_since_ack_ >= kAckEveryBytes ||
                   delivered_kind == MessageKind::kDone || delivered_kind == MessageKind::kFailed;
  if (now) {
    bytes_since_ack_ = 0;
    if (!half_close_requested_) SendProbe(MessageKind::kAck, ByteBuffer());
    return;
  }
  if (ack_timer_armed_) return;
  ack_timer_armed_ = true;
  ack_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(kAckDelayS)));
  ack_timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    self->Guarded([&] {
      self->ack_timer_armed_ = false;
      if (ec || self->state_ != State::kOpen || self->half_close_requested_) return;
      Link& link = self->owner_->link(self->peer_.load(), self->stream_.load());
      if (link.complete.load() > link.ack_sent.load()) {
        self->bytes_since_ack_ = 0;
        self->SendProbe(MessageKind::kAck, ByteBuffer());
      }
    });
  });
}

}  // namespace hearsay::tcp_internal
