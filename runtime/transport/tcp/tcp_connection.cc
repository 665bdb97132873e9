// Connection: socket I/O around the FrameReader and the Handshake state machine of one TCP
// connection (its acknowledgements and round-trip probes are in tcp_link.cc). One of the three
// translation units of the TCP transport that include Asio (build speed). Everything here runs on
// the connection's strand, except the entry points Begin, SendMessage, CloseWhenFlushed and
// CloseNow.
#include "runtime/transport/tcp/tcp_connection.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>

#include "common/logging.h"
#include "runtime/transport/tcp/tcp_transport_impl.h"

namespace hearsay::tcp_internal {
namespace {

// Small frames are gathered into one vectored write up to these bounds (fewer system calls for
// many small messages); a large frame goes alone.
constexpr size_t kMaxFramesPerWrite = 64;
constexpr size_t kMaxGatherBytes = 1 << 20;
constexpr size_t kMaxOfferBytes = size_t{1} << 30;  // bytes offered to one sendmsg by the strand
constexpr size_t kMaxReadsInARow = 64;  // payload chunks read by one read handler (4 MiB)
std::string RemoteOf(const tcp::socket& s) {
  ErrorCode ec;
  const auto ep = s.remote_endpoint(ec);
  if (ec) return "an unknown address";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

Connection::Connection(TcpTransport* owner, tcp::socket socket, HandshakeRole role,
                       int expected_peer, int stream, bool counted)
    : owner_(owner),
      socket_(std::move(socket)),
      role_(role),
      remote_(RemoteOf(socket_)),
      peer_(expected_peer),
      stream_(stream),
      handshake_(owner->MakeHandshakeSetup(role, expected_peer, stream)),
      reader_(&owner->pool()),
      handshake_timer_(socket_.get_executor()),
      ping_timer_(socket_.get_executor()),
      ack_timer_(socket_.get_executor()),
      counted_(counted) {
  reader_.set_max_payload_bytes(0);  // handshake frames carry no payload
}

std::string Connection::Who() const {
  const int p = peer_.load();
  return p >= 0 ? "peer " + std::to_string(p) + " (" + remote_ + ")" : remote_;
}

void Connection::Begin() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->Guarded([&] {
      // Every connection must authenticate within the handshake timeout: a silent or slow client
      // cannot hold a slot for ever (slow-loris).
      self->handshake_timer_.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(
          Duration(self->owner_->options().handshake_timeout_s)));
      self->handshake_timer_.async_wait([self](const ErrorCode& ec) {
        if (!ec) self->Guarded([&] { self->OnHandshakeTimeout(); });
      });
      if (self->role_ == HandshakeRole::kDialer) self->SendControl(self->handshake_.Hello());
      self->ReadMore();
    });
  });
}

SendOutcome Connection::SendMessage(const Unacked& u) {
  std::lock_guard<std::mutex> lock(send_mu_);
  if (!send_open_) return {};
  const uint64_t seq = ++send_seq_;
  if (u.kind == MessageKind::kDone || u.kind == MessageKind::kFailed) final_sent_ = true;
  Message header;
  header.kind = u.kind;
  header.from = owner_->options().self;
  header.to = peer_.load();
  header.round = u.round;
  header.tag = u.tag;
  OutFrame f;
  FrameHeader fh = DataFrameHeader(header, seq, TakeAck());
  fh.parts = u.parts;
  f.head = EncodeFrameHead(fh, static_cast<uint32_t>(u.length), /*with_mac=*/true);
  f.tag = ComputeFrameMac(send_key_, seq, f.head, u.body());
  f.has_tag = true;
  f.shared = u.payload;
  f.shared_body = u.body();
  f.counted = true;
  f.accounted = u.bytes;
  SendOutcome out;
  out.bytes = f.bytes();
  // Under send_mu_, so frames reach the wire in seq order.
  out.written = WriteOrQueue(f);
  return out;
}

void Connection::Detach() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->detached_ = true;
    self->Close(LinkEnd::kBroken);
  });
}

void Connection::CloseWhenFlushed() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->half_close_requested_ = true;
    self->HalfCloseIfFlushed();
  });
}

void Connection::CloseNow() {
  asio::post(socket_.get_executor(),
             [self = shared_from_this()] { self->Close(LinkEnd::kBroken, "closed by shutdown"); });
}

// ---------------------------------------------------------------------------------------------
// Reading

void Connection::ReadMore() {
  const std::span<uint8_t> space = reader_.ReadSpace();
  socket_.async_read_some(asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](const ErrorCode& ec, size_t n) {
                            self->Guarded([&] { self->OnRead(ec, n); });
                          });
}

void Connection::OnRead(const ErrorCode& ec, size_t n) {
  if (state_ == State::kClosed) return;
  if (ec) return OnReadError(ec);
  if (state_ == State::kRefused) return ReadMore();  // discard until the other side closes
  reader_.Commit(n);
  // The rest of a large payload, while the socket has it: one recv per chunk here instead of one
  // asynchronous read (a trip through the I/O loop) per chunk. Bounded, so that one connection
  // streaming a large frame does not keep the thread from the others; anything but data (no
  // bytes yet, end of stream, an error) is left to the asynchronous read below.
  for (size_t got = 0; got < kMaxReadsInARow && reader_.in_payload(); got += 1) {
    const std::span<uint8_t> space = reader_.ReadSpace();
    const ssize_t k = ::recv(socket_.native_handle(), space.data(), space.size(), MSG_DONTWAIT);
    if (k <= 0) break;
    reader_.Commit(static_cast<size_t>(k));
  }
  while (state_ == State::kHandshake || state_ == State::kOpen) {
    InFrame frame;
    Result<bool> next = reader_.Next(&frame);
    if (!next.ok()) {
      owner_->CountRejected();
      return Fail(next.status().message(), true, /*violation=*/true);
    }
    if (!*next) break;
    if (state_ == State::kOpen) {
      OnMessageFrame(std::move(frame));
    } else {
      OnHandshakeFrame(frame);
    }
  }
  if (state_ != State::kClosed) ReadMore();
}

void Connection::OnHandshakeFrame(const InFrame& frame) {
  HandshakeStep step = handshake_.OnFrame(frame);
  peer_ = handshake_.peer();
  stream_ = handshake_.stream();
  // From the acceptor's HELLO on, later frames can be checked against the session key.
  if (handshake_.keys_ready() && !keyed_) {
    reader_.set_receive_key(handshake_.receive_key());
    keyed_ = true;
  }
  ApplyStep(std::move(step));
}

// After the handshake only MAC'd frames with the next sequence number are accepted: a frame that
// fails its MAC was forged or corrupted, one with another seq was replayed, reordered or lost in
// an injected stream. Either way the stream cannot be trusted any more, so the link closes.
void Connection::OnMessageFrame(InFrame frame) {
  if (frame.mac != MacCheck::kValid) {
    owner_->CountRejected();
    return Fail(frame.mac == MacCheck::kAbsent
                    ? FrameKindName(frame.header.kind) + " frame without a MAC after the handshake"
                    : FrameKindName(frame.header.kind) +
                          " frame failed its MAC check (forged or corrupted in transit)",
                true, /*violation=*/true);
  }
  if (frame.header.seq != last_seq_ + 1) {
    owner_->CountRejected();
    return Fail("frame with sequence number " + std::to_string(frame.header.seq) + " where " +
                    std::to_string(last_seq_ + 1) + " was expected (replayed, reordered or lost)",
                true, /*violation=*/true);
  }
  const uint64_t wire_bytes = frame.prefix.frame_bytes();
  Result<Message> msg = DataFrameToMessage(frame.header, std::move(frame.payload), peer_.load(),
                                           owner_->options().self);
  if (!msg.ok()) {
    owner_->CountRejected();
    return Fail(msg.status().message(), true, /*violation=*/true);
  }
  last_seq_ = frame.header.seq;
  const int stream = stream_.load();
  const uint32_t parts = frame.header.parts;
  if (parts > (stream == 0 ? static_cast<uint32_t>(owner_->streams()) : 0u)) {
    owner_->CountRejected();
    return Fail("frame on stream " + std::to_string(stream) + " of " +
                    std::to_string(owner_->streams()) + " says its message has " +
                    std::to_string(parts) + " parts",
                true, /*violation=*/true);
  }
  if (!owner_->OnAck(peer_.load(), stream, this, frame.header.ack)) {
    owner_->CountRejected();
    return Fail("frame acknowledges " + std::to_string(frame.header.ack) +
                    " messages, more than were sent on the link",
                true, /*violation=*/true);
  }
  if (msg->kind == MessageKind::kPing) {
    if (!half_close_requested_) SendProbe(MessageKind::kPong, std::move(msg->payload));
    return;
  }
  if (msg->kind == MessageKind::kPong) return OnPong(msg->payload);
  if (msg->kind == MessageKind::kAck) return;
  // The link's numbering, 1, 2, ... across reconnects, without probes and acks.
  const MessageKind kind = msg->kind;
  uint32_t completed = 0;
  std::string why;
  switch (owner_->DeliverFrom(peer_.load(), stream, this, rx_next_++, parts, std::move(*msg),
                              wire_bytes, &completed, &why)) {
    case TcpTransport::Delivery::kDelivered:
    case TcpTransport::Delivery::kDuplicate:
      break;
    case TcpTransport::Delivery::kViolation:
      owner_->CountRejected();
      return Fail(why, true, /*violation=*/true);
    case TcpTransport::Delivery::kStale:
      return;  // a newer connection took over the link
    case TcpTransport::Delivery::kGap:
      owner_->CountRejected();
      return Fail("message " + std::to_string(rx_next_ - 1) + " of the link arrived before " +
                      std::to_string(owner_->link(peer_.load(), stream).delivered.load() + 1),
                  true, /*violation=*/true);
  }
  if (kind == MessageKind::kDone || kind == MessageKind::kFailed) done_received_ = true;
  // Other streams whose parts this completed acknowledge them too (their own next delivery might
  // be far off).
  completed &= ~(1u << stream);
  if (completed != 0) owner_->NudgeAcks(peer_.load(), completed, kind);
  MaybeAck(kind, wire_bytes);
}

void Connection::OnReadError(const ErrorCode& ec) {
  if (state_ == State::kRefused) return Close(LinkEnd::kBroken);
  if (state_ == State::kOpen && done_received_ && !reader_.mid_frame()) {
    // The peer finished and closed: a normal end. Flush what is queued, then close.
    HEARSAY_LOG_DEBUG("{}: peer {} finished and closed the connection", owner_->name(),
                      peer_.load());
    half_close_requested_ = true;
    peer_eof_ = true;
    {
      std::lock_guard<std::mutex> lock(send_mu_);
      if (writing_ || !queue_.empty()) return;  // the last write completion closes
    }
    return Close(LinkEnd::kFinished);
  }
  std::string why =
      ec == asio::error::eof ? std::string("the peer closed the connection") : ec.message();
  if (ec == asio::error::eof && reader_.mid_frame()) {
    why = "truncated frame: the connection ended inside a frame";
  }
  Fail(why, /*log_as_error=*/reader_.mid_frame());
}

// ---------------------------------------------------------------------------------------------
// Handshake outcomes

void Connection::ApplyStep(HandshakeStep step) {
  switch (step.outcome) {
    case HandshakeStep::Outcome::kContinue:
      if (step.reply) SendControl(*step.reply);
      return;
    case HandshakeStep::Outcome::kOpen:
      return OpenLink(std::move(step.reply));
    case HandshakeStep::Outcome::kFail:
      return EndHandshake(step);
  }
}

void Connection::OpenLink(std::optional<ControlFrame> welcome) {
  {
    // Before registering: once the link is in the table, another thread may SendMessage.
    // Frames queued by RegisterLink (resent messages) and by other threads wait until the
    // WELCOME is in front of them.
    std::lock_guard<std::mutex> lock(send_mu_);
    send_key_ = handshake_.send_key();
    send_open_ = true;
    hold_writes_ = true;
  }
  std::string why;
  bool retry_later = false;
  LinkResume ours = handshake_.ours();
  if (!owner_->RegisterLink(peer_.load(), stream_.load(), shared_from_this(), role_,
                            handshake_.theirs(), handshake_.ours(), &ours, &rx_next_, &why,
                            &retry_later)) {
    {
      std::lock_guard<std::mutex> lock(send_mu_);
      send_open_ = false;
      hold_writes_ = false;
    }
    HandshakeStep refused;
    refused.outcome = HandshakeStep::Outcome::kFail;
    refused.error = why;
    // A retry is only closed (the dialer tries again with backoff); a refusal is MAC'd, and
    // ends the other side's attempts.
    if (role_ == HandshakeRole::kAcceptor && !retry_later) refused.reply = handshake_.Refusal(why);
    return EndHandshake(refused);
  }
  registered_ = true;
  state_ = State::kOpen;
  handshake_timer_.cancel();
  LeaveHandshakeCount();
  reader_.set_max_payload_bytes(owner_->options().max_message_bytes);
  // Sent before any message frame: the resent messages (and any sent meanwhile) were held in
  // the queue behind it.
  {
    std::lock_guard<std::mutex> lock(send_mu_);
    if (welcome) {
      Handshake::SetResume(welcome->header, ours);
      queue_.push_front(ControlOut(*welcome));
    }
    hold_writes_ = false;
  }
  WriteNext();
  if (owner_->options().ping_interval_s > 0) SchedulePing(0);
}

// The handshake failed. Fatal failures (an authenticated peer with another configuration) end
// Start on this side; the rest only close this connection, and a dialer tries again later with
// backoff, because anyone can make a handshake fail.
void Connection::EndHandshake(const HandshakeStep& step) {
  owner_->CountHandshakeFailed();
  const int peer = peer_.load();
  const bool quiet = owner_->shutting_down();
  if (step.fatal) {
    if (!quiet) HEARSAY_LOG_ERROR("{}", step.error);
    if (peer >= 0) owner_->RecordFatal(peer, FailedPrecondition(step.error));
  } else {
    if (!quiet) {
      owner_->LogLimited(remote_, "handshake with " + Who() + " failed: " + step.error +
                                      "; closing the connection");
    }
    if (peer >= 0 && owner_->IsNeighbor(peer)) owner_->RecordAttemptError(peer, step.error);
    if (role_ == HandshakeRole::kDialer && peer >= 0 && !quiet) {
      owner_->HandshakeFailed(peer, stream_.load());
    }
  }
  LeaveHandshakeCount();
  if (!step.reply) return Close(LinkEnd::kBroken);
  SendControl(*step.reply);
  // Let the REFUSE reach the other side, then close; reads are discarded meanwhile.
  half_close_requested_ = true;
  state_ = State::kRefused;
  HalfCloseIfFlushed();
}

void Connection::OnHandshakeTimeout() {
  if (state_ == State::kRefused) return Close(LinkEnd::kBroken);
  if (state_ != State::kHandshake) return;
  HandshakeStep step;
  step.outcome = HandshakeStep::Outcome::kFail;
  step.error =
      fmt::format("no complete handshake within {:g} s", owner_->options().handshake_timeout_s);
  EndHandshake(step);
}

void Connection::LeaveHandshakeCount() {
  if (!counted_) return;
  counted_ = false;
  owner_->UnauthenticatedDone();
}

// ---------------------------------------------------------------------------------------------
// Writing

OutFrame Connection::ControlOut(const ControlFrame& frame) {
  OutFrame f;
  f.head = EncodeFrameHead(frame.header, 0, frame.mac);
  if (frame.mac) {
    f.tag = ComputeFrameMac(handshake_.send_key(), frame.header.seq, f.head, {});
    f.has_tag = true;
  }
  return f;
}

void Connection::SendControl(const ControlFrame& frame) { Push(ControlOut(frame)); }

void Connection::Push(OutFrame frame) {
  std::lock_guard<std::mutex> lock(send_mu_);
  (void)WriteOrQueue(frame);
}

bool Connection::WriteOrQueue(OutFrame& f) {
  // Nothing goes out once the send side is shut; only uncounted frames (probes, handshake
  // frames) get here then, because SendMessage checks send_open_ first.
  if (send_shut_) return true;
  // A frame of any size that finds the connection idle is written at once, without blocking: the
  // socket takes what its buffer has room for (a large frame's first few MiB at most, so the
  // sender -- a peer's compute thread -- waits for no more than that copy, made while the bytes
  // it has just MAC'd are in its cache), the strand writes the rest (docs/wire_format.md
  // "Reading and writing").
  if (!writing_ && queue_.empty() && !hold_writes_) {
    iovec iov[3];
    int n = 0;
    iov[n++] = {const_cast<uint8_t*>(f.head.data()), f.head.size()};
    if (!f.body().empty()) iov[n++] = {const_cast<uint8_t*>(f.body().data()), f.body().size()};
    if (f.has_tag) iov[n++] = {f.tag.data(), f.tag.size()};
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = static_cast<size_t>(n);
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent > 0 && static_cast<uint64_t>(sent) == f.bytes()) return true;
    // The socket took part of it (or nothing: EAGAIN, or an error that the strand's write will
    // meet and report): the strand writes the rest.
    if (sent > 0) f.written = static_cast<uint64_t>(sent);
  }
  queue_.push_back(std::move(f));
  if (!writing_ && !hold_writes_) {
    asio::post(socket_.get_executor(),
               [self = shared_from_this()] { self->Guarded([&] { self->WriteNext(); }); });
  }
  return false;
}

void Connection::WriteNext() {
  std::unique_lock<std::mutex> lock(send_mu_);
  if (writing_ || hold_writes_ || send_shut_ || queue_.empty() || state_ == State::kClosed) return;
  write_buffers_.clear();
  size_t bytes = 0;
  in_flight_ = 0;
  for (const OutFrame& f : queue_) {
    if (in_flight_ > 0 && (in_flight_ >= kMaxFramesPerWrite || bytes + f.bytes() > kMaxGatherBytes))
      break;
    // A frame partly written by a direct write continues where it stopped.
    uint64_t skip = f.written;
    const auto add = [&](const uint8_t* p, size_t n) {
      const size_t drop = static_cast<size_t>(std::min<uint64_t>(skip, n));
      skip -= drop;
      if (n > drop) write_buffers_.push_back(asio::buffer(p + drop, n - drop));
    };
    add(f.head.data(), f.head.size());
    add(f.body().data(), f.body().size());
    if (f.has_tag) add(f.tag.data(), f.tag.size());
    bytes += f.bytes() - f.written;
    ++in_flight_;
  }
  writing_ = true;
  lock.unlock();
  // Every byte, each sendmsg offering all that is left: Asio's transfer_all() would offer at most
  // 64 KiB per call, one system call and one wake-up per 64 KiB of a large frame (the socket takes
  // what its buffer has room for either way).
  const auto all_at_once = [](const ErrorCode& ec, size_t) -> size_t {
    return ec ? 0 : kMaxOfferBytes;
  };
  asio::async_write(socket_, write_buffers_, all_at_once,
                    [self = shared_from_this()](const ErrorCode& ec, size_t) {
                      self->Guarded([&] { self->OnWritten(ec); });
                    });
}

void Connection::OnWritten(const ErrorCode& ec) {
  std::deque<OutFrame> done;
  {
    std::lock_guard<std::mutex> lock(send_mu_);
    writing_ = false;
    if (state_ == State::kClosed) return;
    if (!ec) {
      for (size_t i = 0; i < in_flight_; ++i) {
        done.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    in_flight_ = 0;
  }
  if (ec) return Fail("write failed: " + ec.message(), /*log_as_error=*/false);
  size_t counted = 0;
  uint64_t counted_bytes = 0;
  for (OutFrame& f : done) {
    if (f.counted) {
      ++counted;
      counted_bytes += f.accounted;
    }
    // A written payload is a ready-made receive buffer: same sizes flow both ways in gossip. A
    // message's stays with the link until acknowledged (Link::unacked).
    owner_->pool().Release(std::move(f.payload));
    // A message's buffer goes back when its last holder lets go (ShareFromPool): here when the
    // message was acknowledged before this handler ran.
    f.shared.reset();
  }
  done.clear();
  if (counted > 0) owner_->FramesDone(peer_.load(), counted, counted_bytes);
  WriteNext();
  HalfCloseIfFlushed();
}

void Connection::HalfCloseIfFlushed() {
  if (!half_close_requested_ || state_ == State::kClosed) return;
  {
    std::lock_guard<std::mutex> lock(send_mu_);
    if (writing_ || !queue_.empty()) return;
    // From here on nothing is written: a message sent now stays unacknowledged (resent on a
    // new connection), a probe is dropped.
    send_open_ = false;
    send_shut_ = true;
  }
  ErrorCode ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (peer_eof_) Close(LinkEnd::kFinished);  // both directions are finished
}

// ---------------------------------------------------------------------------------------------
// Ending

void Connection::Fail(const std::string& why, bool log_as_error, bool violation) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kHandshake || state_ == State::kRefused) {
    HandshakeStep step;
    step.outcome = HandshakeStep::Outcome::kFail;
    step.error = why;
    if (state_ == State::kRefused) return Close(LinkEnd::kBroken);
    return EndHandshake(step);
  }
  const bool quiet = owner_->shutting_down() || detached_;
  const std::string msg = "link from " + owner_->name() + " to peer " +
                          std::to_string(peer_.load()) +
                          " broke before that peer sent DONE: " + why;
  if (!quiet) {
    // Logged once: the connection closes, so no later frame of it is looked at.
    if (log_as_error) {
      HEARSAY_LOG_ERROR("{}; closing the connection{}", msg,
                        violation ? "" : "; reconnecting (unacknowledged messages are resent)");
    } else {
      HEARSAY_LOG_WARN("{}; reconnecting (unacknowledged messages are resent)", msg);
    }
  }
  if (!violation) return Close(LinkEnd::kBroken, msg);
  // Unregister the link before reporting it, so that a caller who sees the error and then
  // sends to this peer gets Unavailable too.
  Close(LinkEnd::kViolation, msg);
  if (!quiet) owner_->LinkBroken(peer_.load(), msg);
}

void Connection::Close(LinkEnd end, const std::string& why) {
  if (state_ == State::kClosed) return;
  const bool was_open = registered_;
  state_ = State::kClosed;
  std::deque<OutFrame> dropped_frames;
  {
    std::lock_guard<std::mutex> lock(send_mu_);
    send_open_ = false;
    send_shut_ = true;  // no direct write from here on: the socket closes below
    dropped_frames.swap(queue_);
  }
  handshake_timer_.cancel();
  ping_timer_.cancel();
  ack_timer_.cancel();
  LeaveHandshakeCount();
  ErrorCode ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  size_t dropped = 0;
  uint64_t dropped_bytes = 0;
  for (const OutFrame& f : dropped_frames) {
    if (!f.counted) continue;
    ++dropped;
    dropped_bytes += f.accounted;
  }
  if (dropped > 0) owner_->FramesDone(peer_.load(), dropped, dropped_bytes);
  if (was_open) {
    owner_->UnregisterLink(peer_.load(), stream_.load(), this,
                           done_received_ ? LinkEnd::kFinished : end, why);
  }
}

}  // namespace hearsay::tcp_internal
