// TcpTransport: listening, dialing with backoff, the link table, Send/Receive/Shutdown, and
// MakeTcpTransport's option checks. One of the two translation units of the TCP transport that
// include Asio (build speed); the per-connection code is in tcp_connection.cc. Start, Send,
// Receive and Shutdown run on the caller's thread; the accept, dial-timer and connect handlers
// and the methods called by connections run on io_context threads; shared state is guarded by
// mu_ (counters are atomic, the inbox is thread-safe).
#include "runtime/transport/tcp/tcp_transport.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/logging.h"
#include "runtime/transport/tcp/tcp_connection.h"
#include "runtime/transport/tcp/tcp_transport_impl.h"

namespace hearsay {
namespace tcp_internal {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

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
  HEARSAY_LOG_DEBUG("{}: link to peer {} is up", name_, peer);
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
        HEARSAY_LOG_WARN("{}: accept failed: {}", name_, ec.message());
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

}  // namespace tcp_internal

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
  return std::unique_ptr<Transport>(std::make_unique<tcp_internal::TcpTransport>(options));
}

}  // namespace hearsay
