// TcpTransport's per-link state across connections (docs/wire_format.md "Reconnect"): the
// resume exchanged in the handshake, registering and unregistering connections (replacing a
// half-open one, resetting the link for a restarted peer), acknowledgements, exactly-once
// delivery and the reconnect after a break. A translation unit of its own to keep
// tcp_transport.cc (listening, dialing, Start/Send/Receive/Shutdown) readable; like it, it runs
// on the caller's and the I/O threads, with the link's mutex taken after the transport's mu_.
#include <algorithm>
#include <mutex>
#include <string>

#include "common/logging.h"
#include "runtime/transport/tcp/tcp_connection.h"
#include "runtime/transport/tcp/tcp_transport_impl.h"

namespace hearsay::tcp_internal {

LinkResume TcpTransport::ResumeInfo(int peer) const {
  Link& l = link(peer);
  std::lock_guard<std::mutex> lock(l.mu);
  return LinkResume{incarnation_, l.peer_incarnation, l.delivered.load()};
}

void TcpTransport::DropAcked(Link& l, uint64_t ack) {
  bool freed = false;
  while (!l.unacked.empty() && l.unacked.front().seq <= ack) {
    Unacked& u = l.unacked.front();
    l.unacked_bytes -= std::min(u.bytes, l.unacked_bytes.load());
    // The last owner gives the buffer back to the pool (a frame still being written holds it
    // otherwise, and frees it when written).
    if (u.payload.use_count() == 1) pool_.Release(std::move(*u.payload));
    l.unacked.pop_front();
    freed = true;
  }
  if (freed) cv_.notify_all();  // a Send waiting for room
}

bool TcpTransport::RegisterLink(int peer, const std::shared_ptr<Connection>& conn,
                                HandshakeRole role, const LinkResume& theirs,
                                const LinkResume& said, LinkResume* welcome, uint64_t* rx_start,
                                std::string* reason, bool* retry_later) {
  const std::string who = "peer " + std::to_string(peer);
  {
    std::lock_guard<std::mutex> lock(mu_);
    Link& l = link(peer);
    std::lock_guard<std::mutex> link_lock(l.mu);
    const bool restarted = l.linked && theirs.incarnation != l.peer_incarnation;
    if (!restarted && l.final && l.linked) {
      *reason = who + " already " + (l.done ? "finished" : "ended") + " its link with " + name_ +
                (l.final_why.empty() ? "" : " (" + l.final_why + ")");
      return false;
    }
    if (restarted && l.conn) {
      *reason = who + " connected as a new process while its link to " + name_ +
                " is still open (a second process with the same id, or a restart before the old "
                "connection broke); closing the new connection";
      *retry_later = true;
      return false;
    }
    if (restarted) {
      // A new process with the same id (a restart): the old one is gone for good. Whatever was
      // queued for it is dropped; the new one starts the link's numbering afresh and rejoins
      // the run through the peers' own protocol (docs/faults.md "Restart and rejoin").
      if (!l.final) {
        LinkBroken(peer, who + " restarted: a new process connected in place of the one whose " +
                             "link to " + name_ + " broke");
      }
      DropAcked(l, l.next_seq);
      l.next_seq = 1;
      l.delivered = 0;
      l.ack_sent = 0;
      l.final = l.done = l.final_sent = false;
      l.final_why.clear();
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
    l.peer_incarnation = theirs.incarnation;
    l.linked = true;
    l.conn = conn;
    l.down_reported = false;
    ++l.down_generation;  // a pending grace timer does nothing
    *welcome = LinkResume{incarnation_, l.peer_incarnation, l.delivered.load()};
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
      CountSent(sent.bytes);
      if (u.written) ++messages_resent_;
      u.written = true;
    }
    links_[peer] = conn;
    ever_linked_.insert(peer);
    last_error_.erase(peer);
    dial_backoff_s_.erase(peer);
  }
  HEARSAY_LOG_DEBUG("{}: link to peer {} is up", name_, peer);
  cv_.notify_all();
  return true;
}

void TcpTransport::UnregisterLink(int peer, const Connection* conn, LinkEnd end,
                                  const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = links_.find(peer);
    if (it != links_.end() && it->second.get() == conn) links_.erase(it);
    Link& l = link(peer);
    std::lock_guard<std::mutex> link_lock(l.mu);
    if (l.conn.get() != conn) return;  // replaced by a newer connection
    l.conn.reset();
    if (end == LinkEnd::kFinished) {
      l.final = true;
    } else if (end == LinkEnd::kViolation) {
      l.final = true;
      l.final_why = why;
    } else if (!shutting_down_ && !l.final) {
      l.down_why = why;
      ScheduleReconnect(peer, l);
    }
  }
  cv_.notify_all();
}

void TcpTransport::ScheduleReconnect(int peer, Link& l) {
  const uint64_t generation = ++l.down_generation;
  auto timer = std::make_shared<asio::steady_timer>(io_);
  timer->expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(
      Duration(options_.reconnect_grace_s)));
  timer->async_wait([this, peer, generation, timer](const ErrorCode& ec) {
    if (ec || shutting_down_) return;
    Link& l = link(peer);
    std::lock_guard<std::mutex> lock(l.mu);
    if (l.down_generation != generation || l.conn || l.final || l.down_reported) return;
    l.down_reported = true;
    LinkBroken(peer,
               l.down_why + fmt::format("; not re-established within {:g} s (still trying)",
                                        options_.reconnect_grace_s),
               /*may_return=*/true);
  });
  if (peer > options_.self) Dial(peer, options_.connect_backoff_initial_s);
}

bool TcpTransport::WantDial(int peer) {
  Link& l = link(peer);
  std::lock_guard<std::mutex> lock(l.mu);
  return !l.conn && !l.final;
}

bool TcpTransport::OnAck(int peer, const Connection* conn, uint64_t ack) {
  Link& l = link(peer);
  std::lock_guard<std::mutex> lock(l.mu);
  if (l.conn.get() != conn) return true;  // a replaced connection: ignored
  if (ack >= l.next_seq) return false;
  DropAcked(l, ack);
  return true;
}

TcpTransport::Delivery TcpTransport::DeliverFrom(int peer, const Connection* conn,
                                                 uint64_t link_seq, Message msg,
                                                 uint64_t wire_bytes) {
  Link& l = link(peer);
  std::lock_guard<std::mutex> lock(l.mu);
  if (l.conn.get() != conn) return Delivery::kStale;
  const uint64_t delivered = l.delivered.load();
  if (link_seq <= delivered) return Delivery::kDuplicate;
  if (link_seq != delivered + 1) return Delivery::kGap;
  l.delivered = link_seq;
  msg.seq = link_seq;
  // The link ends when the connection then closes (UnregisterLink): the neighbour still reads
  // until it has everything it waits for.
  if (msg.kind == MessageKind::kDone) l.done = true;
  bytes_received_ += wire_bytes;
  ++messages_received_;
  inbox_.Push(std::move(msg));  // under the link's mutex: in order with kLinkDown notices
  return Delivery::kDelivered;
}

std::string TcpTransport::DescribeMissing() const {
  std::vector<std::string> missing;
  for (int j : options_.neighbors) {
    if (ever_linked_.count(j)) continue;
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

}  // namespace hearsay::tcp_internal
