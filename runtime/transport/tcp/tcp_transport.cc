// The only translation unit of the TCP transport that includes Asio (build speed).
#include "runtime/transport/tcp/tcp_transport.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <boost/asio.hpp>

#include "common/logging.h"
#include "runtime/transport/frame.h"
#include "runtime/transport/handshake.h"
#include "runtime/transport/inbox.h"

namespace hearsay {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

struct OutFrame {
  ByteBuffer head;
  ByteBuffer payload;
  bool counted = false;  // a data frame counted in TcpTransport::pending_frames_
};

class TcpTransport;

// One TCP connection: handshake, then framed reads and queued writes. Every member below is
// touched only on the connection's strand (the socket's executor).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(TcpTransport* owner, tcp::socket socket, HandshakeRole role, int expected_peer)
      : owner_(owner), socket_(std::move(socket)), role_(role), peer_(expected_peer) {}

  void Begin();
  // Any thread: queue a frame (dropped if the connection is closed).
  void Enqueue(OutFrame frame);
  // Any thread: half-close once queued writes are out; the read side runs until the peer's EOF.
  void CloseWhenFlushed();
  // Any thread: close now.
  void CloseNow();
  int peer() const { return peer_; }

 private:
  // kRefused: we sent REFUSE; frames are ignored until the other side closes.
  enum class State { kAwaitHello, kAwaitAuth, kAwaitWelcome, kOpen, kRefused, kClosed };

  void ReadPrefix();
  void ReadBody(const FramePrefix& prefix);
  void OnFrame(const FrameHeader& header, ByteBuffer payload);
  void OnHandshakeFrame(const FrameHeader& header);
  void SendControl(FrameHeader header);
  void Push(OutFrame frame);
  void WriteNext();
  void OnReadError(const ErrorCode& ec);
  void Refuse(const std::string& reason, bool fatal);
  void Fail(const std::string& why, bool log_as_error);
  void Close();
  void HalfCloseIfFlushed();
  std::string Remote() const;

  TcpTransport* const owner_;
  tcp::socket socket_;
  const HandshakeRole role_;
  int peer_;  // -1 until an acceptor has read the dialer's HELLO
  State state_ = State::kAwaitHello;
  std::string our_nonce_, their_nonce_;
  std::array<uint8_t, kFramePrefixBytes> prefix_buf_{};
  ByteBuffer header_buf_;
  ByteBuffer payload_buf_;
  std::deque<OutFrame> queue_;
  bool writing_ = false;
  bool half_close_requested_ = false;
  bool peer_eof_ = false;
  bool done_received_ = false;
  bool registered_ = false;
};

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(TcpTransportOptions options)
      : options_(std::move(options)),
        name_("peer " + std::to_string(options_.self)),
        inbox_(name_),
        acceptor_(io_) {
    for (int j : options_.neighbors) neighbor_set_.insert(j);
  }
  ~TcpTransport() override { (void)Shutdown(Now()); }

  Status Start(TimePoint deadline) override;
  Status Send(Message msg) override;
  Result<Message> Receive(TimePoint deadline) override;
  Status Shutdown(TimePoint deadline) override;
  TransportStats stats() const override;

  // Called by connections (on their strands).
  const TcpTransportOptions& options() const { return options_; }
  const std::string& name() const { return name_; }
  HelloInfo OurHello() const;
  bool IsNeighbor(int j) const { return neighbor_set_.count(j) > 0; }
  // Registers an authenticated link; false (with a reason) if the peer is already linked.
  bool RegisterLink(int peer, const std::shared_ptr<Connection>& conn, std::string* reason);
  void UnregisterLink(int peer, const Connection* conn, bool done_received);
  void RecordFatal(int peer, Status error);
  void RecordAttemptError(int peer, const std::string& error);
  void HandshakeFailed(int peer);  // dialer side: retry later
  void Deliver(Message msg) {
    bytes_received_ += FrameWireBytes(msg);
    ++messages_received_;
    inbox_.Push(std::move(msg));
  }
  void LinkBroken(Status error) { inbox_.PushError(std::move(error)); }
  void FramesDone(size_t n);
  bool shutting_down() const { return shutting_down_.load(); }

 private:
  void Accept();
  void Dial(int peer, double backoff_s);
  std::string DescribeMissing() const;  // requires mu_

  const TcpTransportOptions options_;
  const std::string name_;
  std::set<int> neighbor_set_;
  Inbox inbox_;
  asio::io_context io_;  // destroyed after the connections held in its handlers
  tcp::acceptor acceptor_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::map<int, tcp::resolver::results_type> endpoints_;
  TimePoint start_deadline_{};
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> dialing_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;                              // guarded by mu_
  bool shut_down_ = false;                            // guarded by mu_
  std::map<int, std::shared_ptr<Connection>> links_;  // open links, guarded by mu_
  std::set<int> ever_linked_;                         // guarded by mu_
  std::set<int> finished_;                            // peers that sent DONE and closed
  std::map<int, std::string> last_error_;             // guarded by mu_
  std::optional<Status> fatal_;                       // guarded by mu_
  size_t pending_frames_ = 0;                         // queued, not yet written; mu_

  std::atomic<uint64_t> bytes_sent_{0}, bytes_received_{0}, messages_sent_{0},
      messages_received_{0};
};

// ---------------------------------------------------------------------------------------------
// Connection

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
    HS_LOG_ERROR("{}", msg);
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
  HS_LOG_ERROR("{} (connection from {})", msg, Remote());
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
    HS_LOG_DEBUG("{}: peer {} finished and closed the connection", owner_->name(), peer_);
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
        HS_LOG_ERROR("{}; closing the connection", msg);
      } else {
        HS_LOG_WARN("{}", msg);
      }
      // Unregister the link before reporting it, so that a caller who sees the error and then
      // sends to this peer gets Unavailable too.
      Close();
      owner_->LinkBroken(Unavailable(msg));
      return;
    }
  } else {
    if (!quiet && log_as_error) {
      HS_LOG_ERROR(
          "{}: rejected a frame from {} during the handshake: {}; closing the "
          "connection",
          owner_->name(), peer_ >= 0 ? who + " (" + Remote() + ")" : who, why);
    } else if (!quiet) {
      HS_LOG_WARN("{}: handshake with {} failed: {}; closing the connection", owner_->name(),
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

// ---------------------------------------------------------------------------------------------
// TcpTransport

HelloInfo TcpTransport::OurHello() const {
  HelloInfo h;
  h.cluster_id = options_.handshake.cluster_id;
  h.peer = options_.self;
  h.topology_hash = options_.handshake.topology_hash;
  h.model_shape = options_.handshake.model_shape;
  h.algorithm = options_.handshake.algorithm;
  return h;
}

bool TcpTransport::RegisterLink(int peer, const std::shared_ptr<Connection>& conn,
                                std::string* reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ever_linked_.count(peer)) {
      *reason = "peer " + std::to_string(peer) + " is already connected to " + name_;
      return false;
    }
    links_[peer] = conn;
    ever_linked_.insert(peer);
    last_error_.erase(peer);
  }
  HS_LOG_DEBUG("{}: link to peer {} is up", name_, peer);
  cv_.notify_all();
  return true;
}

void TcpTransport::UnregisterLink(int peer, const Connection* conn, bool done_received) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = links_.find(peer);
    if (it != links_.end() && it->second.get() == conn) links_.erase(it);
    if (done_received) finished_.insert(peer);
  }
  cv_.notify_all();
}

void TcpTransport::RecordFatal(int peer, Status error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fatal_) fatal_ = std::move(error);
  }
  cv_.notify_all();
}

void TcpTransport::RecordAttemptError(int peer, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  last_error_[peer] = error;
}

void TcpTransport::HandshakeFailed(int peer) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fatal_ || ever_linked_.count(peer)) return;
  Dial(peer, options_.connect_backoff_initial_s);
}

void TcpTransport::FramesDone(size_t n) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_frames_ -= std::min(n, pending_frames_);
  }
  cv_.notify_all();
}

void TcpTransport::Accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](const ErrorCode& ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted && !shutting_down_) {
        HS_LOG_WARN("{}: accept failed: {}", name_, ec.message());
        Accept();
      }
      return;
    }
    ErrorCode ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Connection>(this, std::move(socket), HandshakeRole::kAcceptor, -1)->Begin();
    Accept();
  });
}

// Starts one connection attempt to `peer` after `backoff_s` seconds (0 = now).
void TcpTransport::Dial(int peer, double backoff_s) {
  if (shutting_down_ || !dialing_) return;
  auto timer = std::make_shared<asio::steady_timer>(io_);
  timer->expires_after(
      std::chrono::duration_cast<asio::steady_timer::duration>(Duration(backoff_s)));
  timer->async_wait([this, peer, backoff_s, timer](const ErrorCode& ec) {
    if (ec || shutting_down_ || !dialing_) return;
    auto socket = std::make_shared<tcp::socket>(asio::make_strand(io_));
    asio::async_connect(
        *socket, endpoints_.at(peer),
        [this, peer, backoff_s, socket](const ErrorCode& ec, const tcp::endpoint&) {
          if (shutting_down_ || !dialing_) return;
          if (ec) {
            const PeerAddress& a = options_.addresses[peer];
            RecordAttemptError(peer, "connecting to " + a.host + ":" + std::to_string(a.port) +
                                         ": " + ec.message());
            const double next = backoff_s <= 0
                                    ? options_.connect_backoff_initial_s
                                    : std::min(2 * backoff_s, options_.connect_backoff_max_s);
            Dial(peer, next);
            return;
          }
          ErrorCode ignored;
          socket->set_option(tcp::no_delay(true), ignored);
          std::make_shared<Connection>(this, std::move(*socket), HandshakeRole::kDialer, peer)
              ->Begin();
        });
  });
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
  return Join(missing);
}

Status TcpTransport::Start(TimePoint deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return FailedPrecondition(name_ + ": Start called twice");
    started_ = true;
  }
  start_deadline_ = deadline;
  const int self = options_.self;
  bool has_lower = false;
  tcp::resolver resolver(io_);
  for (int j : options_.neighbors) {
    if (j < self) {
      has_lower = true;
      continue;
    }
    const PeerAddress& a = options_.addresses[j];
    ErrorCode ec;
    auto results = resolver.resolve(a.host, std::to_string(a.port), ec);
    if (ec) {
      return Unavailable(name_ + ": cannot resolve the address of peer " + std::to_string(j) +
                         " (" + a.host + ":" + std::to_string(a.port) + "): " + ec.message());
    }
    endpoints_[j] = std::move(results);
  }
  if (has_lower) {
    const PeerAddress& a = options_.addresses[self];
    ErrorCode ec;
    auto results = resolver.resolve(a.host, std::to_string(a.port), ec);
    if (ec || results.empty()) {
      return Unavailable(name_ + ": cannot resolve its own address " + a.host + ":" +
                         std::to_string(a.port) + ": " + (ec ? ec.message() : "no result"));
    }
    const tcp::endpoint ep = results.begin()->endpoint();
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable(name_ + ": cannot listen on " + a.host + ":" + std::to_string(a.port) +
                         ": " + ec.message());
    }
    Accept();
  }
  dialing_ = true;
  for (int j : options_.neighbors) {
    if (j > self) Dial(j, 0);
  }
  work_.emplace(io_.get_executor());
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    threads_.emplace_back([this] { io_.run(); });
  }

  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [&] {
    return fatal_.has_value() || ever_linked_.size() == options_.neighbors.size();
  };
  while (!ready() && Now() < deadline) {
    if (options_.stop && options_.stop->load()) {
      dialing_ = false;
      return Cancelled(name_ + ": stopped while waiting for peers " + DescribeMissing());
    }
    cv_.wait_until(lock, std::min(deadline, DeadlineIn(0.1)), ready);
  }
  dialing_ = false;
  if (fatal_) return *fatal_;
  if (ever_linked_.size() == options_.neighbors.size()) return Status::Ok();
  return DeadlineExceeded(name_ + ": links to peers " + DescribeMissing() +
                          " were not up before the deadline");
}

Status TcpTransport::Send(Message msg) {
  if (!IsNeighbor(msg.to)) {
    return InvalidArgument(name_ + ": cannot send to peer " + std::to_string(msg.to) +
                           ", which is not a neighbour");
  }
  msg.from = options_.self;
  const uint64_t wire_bytes = FrameWireBytes(msg);
  if (wire_bytes > options_.max_frame_bytes) {
    return InvalidArgument(name_ + ": message of " + std::to_string(msg.payload.size()) +
                           " bytes to peer " + std::to_string(msg.to) +
                           " exceeds the frame limit of " +
                           std::to_string(options_.max_frame_bytes) + " bytes");
  }
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_ || shutting_down_) return Cancelled(name_ + ": send after shutdown");
    auto it = links_.find(msg.to);
    if (it == links_.end()) {
      if (finished_.count(msg.to)) return Status::Ok();  // it finished; nobody reads any more
      return Unavailable(name_ + ": no open link to peer " + std::to_string(msg.to));
    }
    conn = it->second;
    ++pending_frames_;
  }
  OutFrame frame{EncodeFrameHead(DataFrameHeader(msg), static_cast<uint32_t>(msg.payload.size())),
                 std::move(msg.payload), /*counted=*/true};
  bytes_sent_ += wire_bytes;
  ++messages_sent_;
  conn->Enqueue(std::move(frame));
  return Status::Ok();
}

Result<Message> TcpTransport::Receive(TimePoint deadline) { return inbox_.Pop(deadline); }

Status TcpTransport::Shutdown(TimePoint deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (shut_down_) return Status::Ok();
  shut_down_ = true;
  Status result;
  if (started_) {
    cv_.wait_until(lock, deadline, [&] { return pending_frames_ == 0; });
    if (pending_frames_ > 0) {
      result = DeadlineExceeded(name_ + ": " + std::to_string(pending_frames_) +
                                " queued frames were not written before the shutdown deadline");
    }
    shutting_down_ = true;
    for (auto& [peer, conn] : links_) conn->CloseWhenFlushed();
    // Wait (bounded) for the other ends to close too, so no unread data turns into a reset.
    cv_.wait_until(lock, deadline, [&] { return links_.empty(); });
    for (auto& [peer, conn] : links_) conn->CloseNow();
  }
  shutting_down_ = true;
  dialing_ = false;
  lock.unlock();
  inbox_.Cancel();
  asio::post(io_, [this] {
    ErrorCode ec;
    acceptor_.close(ec);
  });
  work_.reset();
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  {
    std::lock_guard<std::mutex> relock(mu_);
    links_.clear();
  }
  return result;
}

TransportStats TcpTransport::stats() const {
  TransportStats s;
  s.bytes_sent = bytes_sent_;
  s.bytes_received = bytes_received_;
  s.messages_sent = messages_sent_;
  s.messages_received = messages_received_;
  return s;
}

}  // namespace

Result<std::unique_ptr<Transport>> MakeTcpTransport(const TcpTransportOptions& options) {
  const int n = static_cast<int>(options.addresses.size());
  if (options.self < 0 || options.self >= n) {
    return InvalidArgument("tcp transport: self id " + std::to_string(options.self) +
                           " is outside 0.." + std::to_string(n - 1) + " (" + std::to_string(n) +
                           " addresses given)");
  }
  int prev = -1;
  for (int j : options.neighbors) {
    if (j < 0 || j >= n || j == options.self) {
      return InvalidArgument("tcp transport: peer " + std::to_string(options.self) +
                             " has an invalid neighbour " + std::to_string(j) + " (peers are 0.." +
                             std::to_string(n - 1) + ")");
    }
    if (j <= prev) {
      return InvalidArgument("tcp transport: neighbours of peer " + std::to_string(options.self) +
                             " must be ascending and distinct");
    }
    prev = j;
  }
  if (options.max_frame_bytes < kFramePrefixBytes + kMaxHeaderBytes) {
    return InvalidArgument("tcp transport: max_frame_bytes " +
                           std::to_string(options.max_frame_bytes) + " is too small");
  }
  if (!(options.connect_backoff_initial_s > 0) ||
      options.connect_backoff_max_s < options.connect_backoff_initial_s) {
    return InvalidArgument(
        "tcp transport: connect backoff must satisfy 0 < initial <= max seconds");
  }
  return std::unique_ptr<Transport>(std::make_unique<TcpTransport>(options));
}

}  // namespace hearsay
