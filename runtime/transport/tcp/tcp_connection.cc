// Connection: the handshake state machine, the framed read loop and the write queue of one TCP
// connection. One of the two translation units of the TCP transport that include Asio (build
// speed). Everything here runs on the connection's strand, except the entry points Begin,
// Enqueue, CloseWhenFlushed and CloseNow, which post to it.
#include "runtime/transport/tcp/tcp_connection.h"

#include "common/logging.h"
#include "runtime/transport/tcp/tcp_transport_impl.h"

namespace hearsay::tcp_internal {

std::string Connection::Remote() const {
  ErrorCode ec;
  const auto ep = socket_.remote_endpoint(ec);
  if (ec) return "an unknown address";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

void Connection::Begin() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->role_ == HandshakeRole::kDialer) {
      self->our_nonce_ = MakeNonce();
      FrameHeader h;
      h.kind = FrameKind::kHello;
      h.hello = self->owner_->OurHello();
      h.hello.nonce = self->our_nonce_;
      h.receiver = self->peer_;
      self->SendControl(std::move(h));
    }
    self->ReadPrefix();
  });
}

void Connection::Enqueue(OutFrame frame) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), f = std::move(frame)]() mutable {
    self->Push(std::move(f));
  });
}

void Connection::CloseWhenFlushed() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->half_close_requested_ = true;
    self->HalfCloseIfFlushed();
  });
}

void Connection::CloseNow() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

void Connection::SendControl(FrameHeader header) {
  header.sender = owner_->options().self;
  if (header.receiver < 0) header.receiver = peer_;
  Push(OutFrame{EncodeFrameHead(header, 0), {}});
}

void Connection::Push(OutFrame frame) {
  if (state_ == State::kClosed) {
    if (frame.counted) owner_->FramesDone(1);
    return;
  }
  queue_.push_back(std::move(frame));
  if (!writing_) WriteNext();
}

void Connection::WriteNext() {
  if (queue_.empty() || state_ == State::kClosed) return;
  writing_ = true;
  const OutFrame& f = queue_.front();
  std::array<asio::const_buffer, 2> buffers = {asio::buffer(f.head), asio::buffer(f.payload)};
  asio::async_write(socket_, buffers, [self = shared_from_this()](const ErrorCode& ec, size_t) {
    self->writing_ = false;
    if (self->state_ == State::kClosed) return;
    if (ec) {
      self->Fail("write failed: " + ec.message(), /*log_as_error=*/false);
      return;
    }
    if (self->queue_.front().counted) self->owner_->FramesDone(1);
    self->queue_.pop_front();
    if (!self->queue_.empty()) {
      self->WriteNext();
    } else {
      self->HalfCloseIfFlushed();
    }
  });
}

void Connection::HalfCloseIfFlushed() {
  if (!half_close_requested_ || writing_ || !queue_.empty() || state_ == State::kClosed) return;
  ErrorCode ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (peer_eof_) Close();  // both directions are finished
}

void Connection::ReadPrefix() {
  asio::async_read(socket_, asio::buffer(prefix_buf_),
                   [self = shared_from_this()](const ErrorCode& ec, size_t n) {
                     if (self->state_ == State::kClosed) return;
                     if (ec == asio::error::eof && n > 0) {
                       return self->Fail("truncated frame: the connection ended after " +
                                             std::to_string(n) + " of " +
                                             std::to_string(kFramePrefixBytes) + " prefix bytes",
                                         true);
                     }
                     if (ec) return self->OnReadError(ec);
                     const uint64_t limit = self->state_ == State::kOpen
                                                ? self->owner_->options().max_frame_bytes
                                                : kMaxHandshakeFrameBytes;
                     Result<FramePrefix> prefix = DecodeFramePrefix(self->prefix_buf_, limit);
                     if (!prefix.ok()) return self->Fail(prefix.status().message(), true);
                     self->ReadBody(*prefix);
                   });
}

void Connection::ReadBody(const FramePrefix& prefix) {
  header_buf_.resize(prefix.header_bytes);
  payload_buf_.resize(prefix.payload_bytes);
  std::array<asio::mutable_buffer, 2> buffers = {asio::buffer(header_buf_),
                                                 asio::buffer(payload_buf_)};
  asio::async_read(socket_, buffers, [self = shared_from_this()](const ErrorCode& ec, size_t) {
    if (self->state_ == State::kClosed) return;
    if (ec) {
      if (ec == asio::error::eof) {
        return self->Fail("truncated frame: the connection ended inside a frame", true);
      }
      return self->OnReadError(ec);
    }
    Result<FrameHeader> header = DecodeFrameHeader(self->header_buf_);
    if (!header.ok()) return self->Fail(header.status().message(), true);
    self->OnFrame(*header, std::move(self->payload_buf_));
    self->payload_buf_ = ByteBuffer();
    if (self->state_ != State::kClosed) self->ReadPrefix();
  });
}

void Connection::OnFrame(const FrameHeader& header, ByteBuffer payload) {
  if (state_ == State::kRefused) return;
  if (state_ != State::kOpen) return OnHandshakeFrame(header);
  Result<Message> msg =
      DataFrameToMessage(header, std::move(payload), peer_, owner_->options().self);
  if (!msg.ok()) return Fail(msg.status().message(), true);
  if (msg->kind == MessageKind::kDone) done_received_ = true;
  owner_->Deliver(std::move(*msg));
}

void Connection::OnHandshakeFrame(const FrameHeader& h) {
  const TcpTransportOptions& opt = owner_->options();
  const std::string self_name = owner_->name();
  if (h.kind == FrameKind::kRefuse && peer_ >= 0) {
    const std::string msg =
        self_name + " refused by peer " + std::to_string(peer_) + ": " + h.reason;
    HEARSAY_LOG_ERROR("{}", msg);
    owner_->RecordFatal(peer_, FailedPrecondition(msg));
    return Close();
  }
  if (state_ == State::kAwaitHello) {
    if (h.kind != FrameKind::kHello) {
      return Fail(
          std::string("unauthenticated ") + FrameKindName(h.kind) + " frame before the handshake",
          true);
    }
    if (h.sender != h.hello.peer) {
      return Refuse("HELLO sender " + std::to_string(h.sender) + " differs from its peer id " +
                        std::to_string(h.hello.peer),
                    /*fatal=*/true);
    }
    if (role_ == HandshakeRole::kAcceptor) {
      const int j = h.hello.peer;
      peer_ = j;
      if (h.receiver != opt.self) {
        return Refuse("dialed peer " + std::to_string(h.receiver) + " but reached peer " +
                          std::to_string(opt.self) + " (check the addresses)",
                      /*fatal=*/true);
      }
      if (!owner_->IsNeighbor(j) || j > opt.self) {
        peer_ = -1;
        return Refuse("peer " + std::to_string(j) + " is not a neighbour that dials " + self_name,
                      /*fatal=*/true);
      }
    } else if (h.hello.peer != peer_) {
      return Refuse("dialed peer " + std::to_string(peer_) + " at " + Remote() + " but peer " +
                        std::to_string(h.hello.peer) + " answered",
                    /*fatal=*/true);
    }
    const std::string mismatch = HelloMismatch(h.hello, owner_->OurHello());
    if (!mismatch.empty()) return Refuse(mismatch, /*fatal=*/true);
    their_nonce_ = h.hello.nonce;
    if (role_ == HandshakeRole::kAcceptor) {
      our_nonce_ = MakeNonce();
      FrameHeader reply;
      reply.kind = FrameKind::kHello;
      reply.hello = owner_->OurHello();
      reply.hello.nonce = our_nonce_;
      reply.hello.proof =
          HandshakeProof(HandshakeRole::kAcceptor, opt.secret, opt.handshake.cluster_id, peer_,
                         opt.self, their_nonce_, our_nonce_);
      SendControl(std::move(reply));
      state_ = State::kAwaitAuth;
      return;
    }
    const std::string expected =
        HandshakeProof(HandshakeRole::kAcceptor, opt.secret, opt.handshake.cluster_id, opt.self,
                       peer_, our_nonce_, their_nonce_);
    if (!ProofsEqual(expected, h.hello.proof)) {
      return Refuse("authentication failed: peer " + std::to_string(peer_) +
                        "'s proof does not match our cluster secret",
                    /*fatal=*/true);
    }
    FrameHeader auth;
    auth.kind = FrameKind::kAuth;
    auth.proof = HandshakeProof(HandshakeRole::kDialer, opt.secret, opt.handshake.cluster_id,
                                opt.self, peer_, our_nonce_, their_nonce_);
    SendControl(std::move(auth));
    state_ = State::kAwaitWelcome;
    return;
  }
  if (state_ == State::kAwaitAuth && h.kind == FrameKind::kAuth) {
    const std::string expected =
        HandshakeProof(HandshakeRole::kDialer, opt.secret, opt.handshake.cluster_id, peer_,
                       opt.self, their_nonce_, our_nonce_);
    if (!ProofsEqual(expected, h.proof)) {
      // Not fatal here: anyone can connect and claim an id; the dialer learns why from REFUSE.
      return Refuse("authentication failed: peer " + std::to_string(peer_) +
                        "'s proof does not match our cluster secret",
                    /*fatal=*/false);
    }
    std::string why;
    if (!owner_->RegisterLink(peer_, shared_from_this(), &why)) return Refuse(why, /*fatal=*/true);
    registered_ = true;
    FrameHeader welcome;
    welcome.kind = FrameKind::kWelcome;
    SendControl(std::move(welcome));
    state_ = State::kOpen;
    return;
  }
  if (state_ == State::kAwaitWelcome && h.kind == FrameKind::kWelcome) {
    std::string why;
    if (!owner_->RegisterLink(peer_, shared_from_this(), &why)) return Fail(why, true);
    registered_ = true;
    state_ = State::kOpen;
    return;
  }
  Fail(std::string("unexpected ") + FrameKindName(h.kind) + " frame during the handshake", true);
}

void Connection::Refuse(const std::string& reason, bool fatal) {
  const std::string self_name = owner_->name();
  const std::string who = peer_ >= 0 ? "peer " + std::to_string(peer_) : Remote();
  const std::string msg = who + " refused by " + self_name + ": " + reason;
  HEARSAY_LOG_ERROR("{} (connection from {})", msg, Remote());
  if (peer_ >= 0 && owner_->IsNeighbor(peer_)) {
    if (fatal) {
      owner_->RecordFatal(peer_, FailedPrecondition(msg));
    } else {
      owner_->RecordAttemptError(peer_, msg);
    }
  }
  FrameHeader refuse;
  refuse.kind = FrameKind::kRefuse;
  refuse.reason = reason;
  SendControl(std::move(refuse));
  // Let the REFUSE reach the other side, then close; reads are ignored meanwhile.
  half_close_requested_ = true;
  state_ = State::kRefused;
  HalfCloseIfFlushed();
}

void Connection::OnReadError(const ErrorCode& ec) {
  if (state_ == State::kRefused) return Close();
  if (state_ == State::kOpen && done_received_) {
    // The peer finished and closed: a normal end. Flush what is queued, then close.
    HEARSAY_LOG_DEBUG("{}: peer {} finished and closed the connection", owner_->name(), peer_);
    half_close_requested_ = true;
    peer_eof_ = true;
    if (writing_ || !queue_.empty()) return;  // the last write completion closes
    return Close();
  }
  const std::string why =
      ec == asio::error::eof ? std::string("the peer closed the connection") : ec.message();
  Fail(why, /*log_as_error=*/false);
}

void Connection::Fail(const std::string& why, bool log_as_error) {
  const std::string who = peer_ >= 0 ? "peer " + std::to_string(peer_) : Remote();
  const bool quiet = owner_->shutting_down();
  if (state_ == State::kOpen) {
    if (!quiet) {
      const std::string msg = "link from " + owner_->name() + " to " + who +
                              " broke before that peer sent DONE: " + why;
      if (log_as_error) {
        HEARSAY_LOG_ERROR("{}; closing the connection", msg);
      } else {
        HEARSAY_LOG_WARN("{}", msg);
      }
      // Unregister the link before reporting it, so that a caller who sees the error and then
      // sends to this peer gets Unavailable too.
      Close();
      owner_->LinkBroken(Unavailable(msg));
      return;
    }
  } else {
    if (!quiet && log_as_error) {
      HEARSAY_LOG_ERROR(
          "{}: rejected a frame from {} during the handshake: {}; closing the "
          "connection",
          owner_->name(), peer_ >= 0 ? who + " (" + Remote() + ")" : who, why);
    } else if (!quiet) {
      HEARSAY_LOG_WARN("{}: handshake with {} failed: {}; closing the connection", owner_->name(),
                  peer_ >= 0 ? who + " (" + Remote() + ")" : who, why);
    }
    if (peer_ >= 0) owner_->RecordAttemptError(peer_, why);
    if (role_ == HandshakeRole::kDialer && peer_ >= 0 && !quiet) owner_->HandshakeFailed(peer_);
  }
  Close();
}

void Connection::Close() {
  if (state_ == State::kClosed) return;
  const bool was_open = registered_;
  state_ = State::kClosed;
  ErrorCode ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  size_t dropped = 0;
  for (const OutFrame& f : queue_) dropped += f.counted ? 1 : 0;
  queue_.clear();
  if (dropped > 0) owner_->FramesDone(dropped);
  if (was_open) owner_->UnregisterLink(peer_, this, done_received_);
}

}  // namespace hearsay::tcp_internal
