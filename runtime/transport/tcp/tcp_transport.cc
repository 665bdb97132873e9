// TcpTransport: listening (with the cap on unauthenticated connections and accept backoff),
// dialing with backoff, the link table, Start, Send (with backpressure and striping), Shutdown,
// and MakeTcpTransport (its option checks are in tcp_options.cc). One of the four translation
// units of the TCP transport that include Asio (build speed); Receive and who runs the network
// (the thread in Receive, or the I/O thread) are in tcp_io.cc, the per-connection code in
// tcp_connection.cc, the per-link state across connections (reconnect, resend, exactly-once,
// reassembly) in tcp_link.cc. Start, Send and Shutdown run on the caller's thread; the accept,
// dial-timer and connect handlers and the methods called by connections run on whichever thread
// runs io_; shared state is guarded by mu_ (counters are atomic, the inbox is thread-safe).
#include "runtime/transport/tcp/tcp_transport.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "common/logging.h"
#include "runtime/transport/tcp/tcp_connection.h"
#include "runtime/transport/tcp/tcp_options.h"
#include "runtime/transport/tcp/tcp_transport_impl.h"

namespace hearsay {
namespace tcp_internal {
namespace {

// A process's incarnation: random, never 0 (0 means "none known" on the wire).
uint64_t NewIncarnation() {
  std::random_device rd;
  uint64_t v = 0;
  while (v == 0) v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return v;
}

}  // namespace

TcpTransport::TcpTransport(TcpTransportOptions options)
    : options_(std::move(options)),
      name_("peer " + std::to_string(options_.self)),
      incarnation_(NewIncarnation()),
      key_(std::make_shared<const ClusterKey>(options_.secret)),
      config_{options_.handshake.cluster_id, options_.handshake.topology_hash,
              options_.handshake.model_shape, options_.handshake.algorithm,
              static_cast<uint32_t>(options_.streams)},
      pool_(std::make_shared<BufferPool>(/*max_buffers=*/32, options_.buffer_pool_bytes)),
      log_limiter_(/*interval_s=*/10),
      inbox_(name_),
      acceptor_(io_),
      accept_timer_(io_) {
  inbox_.SetNotifier([this](TimePoint) { OnInboxPush(); });
  for (int j : options_.neighbors) {
    neighbor_set_.insert(j);
    auto p = std::make_unique<PeerLinks>();
    for (int k = 0; k < options_.streams; ++k) p->streams.push_back(std::make_unique<Link>());
    p->ahead.resize(static_cast<size_t>(options_.streams));
    link_state_.emplace(j, std::move(p));
  }
}

HandshakeSetup TcpTransport::MakeHandshakeSetup(HandshakeRole role, int peer, int stream) const {
  HandshakeSetup s;
  s.role = role;
  s.self = options_.self;
  s.peer = peer;
  s.stream = stream;
  s.key = key_;
  s.config = config_;
  // The lower id dials: an acceptor expects only neighbours below itself.
  s.may_dial_us = [this](int j) { return IsNeighbor(j) && j < options_.self; };
  s.resume = [this](int j, int k) {
    return IsNeighbor(j) && k >= 0 && k < options_.streams ? ResumeInfo(j, k)
                                                           : LinkResume{incarnation_};
  };
  return s;
}

void TcpTransport::LogLimited(const std::string& key, const std::string& message) {
  uint64_t suppressed = 0;
  if (!log_limiter_.Allow(key, &suppressed)) return;
  if (suppressed > 0) {
    HEARSAY_LOG_WARN("{}: {} ({} similar lines suppressed)", name_, message, suppressed);
  } else {
    HEARSAY_LOG_WARN("{}: {}", name_, message);
  }
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

// A handshake failure may be an impostor on the neighbour's port or a neighbour with the wrong
// secret; either way retrying at once would only repeat it, so the delay doubles per failure (up
// to connect_backoff_max_s) and resets once the link is up.
void TcpTransport::HandshakeFailed(int peer, int stream) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fatal_ || !WantDial(peer, stream)) return;
  double& backoff = dial_backoff_s_[{peer, stream}];
  backoff = backoff <= 0 ? options_.connect_backoff_initial_s
                         : std::min(2 * backoff, options_.connect_backoff_max_s);
  Dial(peer, stream, backoff);
}

void TcpTransport::FramesDone(int peer, size_t n, uint64_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_frames_ -= std::min(n, pending_frames_);
    uint64_t& queued = queued_bytes_[peer];
    queued -= std::min(bytes, queued);
  }
  cv_.notify_all();
}

void TcpTransport::Accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](const ErrorCode& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || shutting_down_) return;
    if (ec) {
      // At the descriptor limit (EMFILE) accept fails again at once: retrying immediately is a
      // busy loop (issue 8: 467k log lines in 3.5 s). Back off 10 ms doubling to 1 s, log at
      // most once per 10 s, and try again; descriptors free up as connections close.
      accept_backoff_s_ = accept_backoff_s_ <= 0 ? 0.01 : std::min(2 * accept_backoff_s_, 1.0);
      LogLimited("accept", "accept failed: " + ec.message() + "; retrying with backoff");
      accept_timer_.expires_after(
          std::chrono::duration_cast<asio::steady_timer::duration>(Duration(accept_backoff_s_)));
      accept_timer_.async_wait([this](const ErrorCode& wait_ec) {
        if (!wait_ec && !shutting_down_) Accept();
      });
      return;
    }
    accept_backoff_s_ = 0;
    if (unauthenticated_.load() >= options_.max_unauthenticated) {
      // Refuse new connections rather than evict old ones: each pending one expires within
      // handshake_timeout_s, so a flood cannot hold the slots for long, and memory stays bounded.
      ErrorCode ignored;
      const auto ep = socket.remote_endpoint(ignored);
      LogLimited("cap", "closed a connection from " + ep.address().to_string() + ": " +
                            std::to_string(options_.max_unauthenticated) +
                            " connections are already in the handshake");
      socket.close(ignored);
      ++handshakes_failed_;
    } else {
      ++unauthenticated_;
      ErrorCode ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Connection>(this, std::move(socket), HandshakeRole::kAcceptor, -1, 0,
                                   /*counted=*/true)
          ->Begin();
    }
    Accept();
  });
}

// Starts one connection attempt for (peer, stream) after `backoff_s` seconds (0 = now); attempts go
// on, with backoff, until the link is up (again) or has ended.
void TcpTransport::Dial(int peer, int stream, double backoff_s) {
  if (shutting_down_ || !dialing_) return;
  auto timer = std::make_shared<asio::steady_timer>(io_);
  timer->expires_after(
      std::chrono::duration_cast<asio::steady_timer::duration>(Duration(backoff_s)));
  timer->async_wait([this, peer, stream, backoff_s, timer](const ErrorCode& ec) {
    if (ec || shutting_down_ || !dialing_ || !WantDial(peer, stream)) return;
    auto socket = std::make_shared<tcp::socket>(asio::make_strand(io_));
    asio::async_connect(
        *socket, endpoints_.at(peer),
        [this, peer, stream, backoff_s, socket](const ErrorCode& ec, const tcp::endpoint&) {
          if (shutting_down_ || !dialing_ || !WantDial(peer, stream)) return;
          if (ec) {
            const PeerAddress& a = options_.addresses[peer];
            RecordAttemptError(peer, "connecting to " + a.host + ":" + std::to_string(a.port) +
                                         ": " + ec.message());
            // A late joiner's link (never up yet) is retried more often: it comes up as soon as
            // the joiner starts, and the joiner waits for it before its state transfer.
            const bool late =
                std::find(options_.late_neighbors.begin(), options_.late_neighbors.end(), peer) !=
                options_.late_neighbors.end();
            const double cap =
                late ? std::min(options_.connect_backoff_max_s, options_.late_backoff_max_s)
                     : options_.connect_backoff_max_s;
            const double next =
                backoff_s <= 0 ? options_.connect_backoff_initial_s : std::min(2 * backoff_s, cap);
            Dial(peer, stream, next);
            return;
          }
          ErrorCode ignored;
          socket->set_option(tcp::no_delay(true), ignored);
          std::make_shared<Connection>(this, std::move(*socket), HandshakeRole::kDialer, peer,
                                       stream, /*counted=*/false)
              ->Begin();
        });
  });
}

Status TcpTransport::Start(TimePoint deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return FailedPrecondition(name_ + ": Start called twice");
    started_ = true;
  }
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
    PeerAddress a = options_.addresses[self];
    if (!options_.bind.host.empty()) a.host = options_.bind.host;
    if (options_.bind.port != 0) a.port = options_.bind.port;
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
    if (j <= self) continue;
    for (int k = 0; k < options_.streams; ++k) Dial(j, k, 0);
  }
  work_.emplace(io_.get_executor());
  io_thread_ = std::thread([this] { RunIoThread(); });
  io_started_ = true;

  std::unique_lock<std::mutex> lock(mu_);
  const TimePoint some_by = options_.start_with_some_after_s > 0
                                ? DeadlineIn(options_.start_with_some_after_s)
                                : TimePoint::max();
  // Every link up, but those to late joiners (which may already be up too).
  auto all_up = [&] {
    return std::all_of(options_.neighbors.begin(), options_.neighbors.end(), [&](int j) {
      bool linked = true;
      for (int k = 0; k < options_.streams; ++k) linked = linked && ever_linked_.count({j, k}) > 0;
      return linked || std::find(options_.late_neighbors.begin(), options_.late_neighbors.end(),
                                 j) != options_.late_neighbors.end();
    });
  };
  auto ready = [&] {
    return fatal_.has_value() || all_up() || (!ever_linked_.empty() && Now() >= some_by);
  };
  while (!ready() && Now() < deadline) {
    if (options_.stop && options_.stop->load()) {
      dialing_ = false;
      return Cancelled(name_ + ": stopped while waiting for peers " + DescribeMissing());
    }
    cv_.wait_until(lock, std::min(deadline, DeadlineIn(0.1)), ready);
  }
  if (fatal_) {
    dialing_ = false;
    return *fatal_;
  }
  // Dialing goes on after Start: a link that breaks, or is not up yet, is (re)dialed.
  if (all_up()) return Status::Ok();
  if (!ever_linked_.empty() && Now() >= some_by) {
    HEARSAY_LOG_WARN("{}: starting with links to peers {} still down: {}", name_, DescribeMissing(),
                     "they join when they come up");
    return Status::Ok();
  }
  dialing_ = false;
  return DeadlineExceeded(name_ + ": links to peers " + DescribeMissing() +
                          " were not up before the deadline");
}

Status TcpTransport::Send(Message msg) {
  if (!IsNeighbor(msg.to)) {
    return InvalidArgument(name_ + ": cannot send to peer " + std::to_string(msg.to) +
                           ", which is not a neighbour");
  }
  msg.from = options_.self;
  if (msg.payload_size() > options_.max_message_bytes) {
    return InvalidArgument(name_ + ": message of " + std::to_string(msg.payload_size()) +
                           " bytes to peer " + std::to_string(msg.to) + " exceeds the limit of " +
                           std::to_string(options_.max_message_bytes) +
                           " bytes (max_message_bytes)");
  }
  const int to = msg.to;
  const std::string who = "peer " + std::to_string(to);
  PeerLinks& p = peer_links(to);
  // Parts of at most ceil(size / n) bytes each; every part's frame is charged its header and MAC.
  const uint32_t n = PartsOf(msg);
  const uint64_t size = msg.payload_size();
  const uint64_t overhead = FrameWireBytes(msg) - size;
  const uint64_t wire_bytes = size + n * overhead;
  // One Send at a time per neighbour: the parts of striped messages keep one order on every
  // stream. Taken before mu_ (never while holding it).
  std::lock_guard<std::mutex> send_lock(p.send_mu);
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Backpressure: block while the messages the neighbour has not acknowledged exceed the bound
    // (a message larger than the bound still goes alone), bounded by send_timeout_s and the stop
    // flag. While the link is down nothing drains: then Unavailable at once.
    const TimePoint deadline = DeadlineIn(options_.send_timeout_s);
    while (true) {
      if (shut_down_ || shutting_down_) return Cancelled(name_ + ": send after shutdown");
      bool up = true;
      uint64_t queued = 0;
      for (uint32_t k = 0; k < n; ++k) {
        Link& l = *p.streams[k];
        std::lock_guard<std::mutex> link_lock(l.mu);
        if (l.final) {
          if (l.done) return Status::Ok();  // it finished; nobody reads any more
          return Unavailable(name_ + ": the link to " + who + " has ended" +
                             (l.final_why.empty() ? "" : ": " + l.final_why));
        }
        if (!l.linked) return Unavailable(name_ + ": no open link to " + who);
        up = up && l.conn != nullptr;
      }
      for (const auto& l : p.streams) queued += l->unacked_bytes.load();
      if (queued == 0 || queued + wire_bytes <= options_.max_queued_bytes) break;
      if (!up) {
        return Unavailable(name_ + ": the link to " + who + " is down and " +
                           std::to_string(queued) +
                           " bytes already wait for it (max_queued_bytes " +
                           std::to_string(options_.max_queued_bytes) + ")");
      }
      if (options_.stop && options_.stop->load()) {
        return Cancelled(name_ + ": stopped while waiting to send to " + who);
      }
      if (Now() >= deadline) {
        return Unavailable(name_ + ": " + std::to_string(queued) + " bytes queued for " + who +
                           " (sent, not acknowledged) exceed max_queued_bytes (" +
                           std::to_string(options_.max_queued_bytes) + ") and did not drain in " +
                           fmt::format("{:g}", options_.send_timeout_s) +
                           " s: that peer does not read");
      }
      lock.unlock();
      WakeIoThread();  // the queue drains only while somebody runs the network
      lock.lock();
      cv_.wait_until(lock, std::min(deadline, DeadlineIn(0.1)));
    }
    pending_frames_ += n;  // tentatively: undone below for each part not queued
    queued_bytes_[to] += wire_bytes;
  }
  // Kept until every part is acknowledged; shared with the other neighbours it went to.
  std::shared_ptr<const ByteBuffer> payload = msg.shared_payload
                                                  ? std::move(msg.shared_payload)
                                                  : ShareFromPool(pool_, std::move(msg.payload));
  bool ended = false;
  uint64_t generation = 0;
  for (uint32_t k = 0; k < n; ++k) {
    const uint64_t begin = size * k / n, end = size * (k + 1) / n;
    const uint64_t part_bytes = end - begin + overhead;
    SendOutcome sent;
    {
      Link& l = *p.streams[k];
      std::lock_guard<std::mutex> link_lock(l.mu);
      if (k == 0) generation = p.generation;
      if (l.final) {
        ended = true;
      } else if (p.generation == generation) {
        // (Otherwise the neighbour restarted after the first part went: the new process starts
        // afresh, and the parts already sent were dropped with everything queued for the old
        // one.) Numbered and kept until acknowledged; written now if the link is up, else on
        // reconnect.
        Unacked u;
        u.seq = l.next_seq++;
        u.kind = msg.kind;
        u.round = msg.round;
        u.tag = msg.tag;
        u.parts = k == 0 && n > 1 ? n : 0;
        u.payload = payload;
        u.offset = begin;
        u.length = end - begin;
        u.bytes = part_bytes;
        if (u.kind == MessageKind::kDone || u.kind == MessageKind::kFailed) l.final_sent = true;
        if (l.conn) sent = l.conn->SendMessage(u);
        u.written = sent.bytes > 0;
        l.unacked_bytes += part_bytes;
        l.unacked.push_back(std::move(u));
      }
    }
    // Not queued (the link is down: it goes on reconnect, or it ended) or written at once.
    if (sent.bytes == 0 || sent.written) FramesDone(to, 1, part_bytes);
    if (sent.bytes > 0 && !sent.written) WakeIoThread();  // queued on the connection
    if (sent.bytes > 0) CountSent(sent.bytes, /*message=*/k == 0);
  }
  if (ended) {
    std::lock_guard<std::mutex> link_lock(p.streams[0]->mu);
    if (p.streams[0]->done) return Status::Ok();
    return Unavailable(name_ + ": the link to " + who + " has ended");
  }
  return Status::Ok();
}

Status TcpTransport::Shutdown(TimePoint deadline) {
  // A transport that shuts down before its peer said DONE or FAILED on a link says FAILED itself,
  // so the neighbour knows at once that it is gone for good (and does not wait to reconnect).
  bool started = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    started = started_ && !shut_down_ && !shutting_down_ && fatal_ == std::nullopt;
  }
  if (started) {
    for (const auto& [peer, pl] : link_state_) {
      bool needed = false;
      uint64_t queued = 0;
      for (const auto& l : pl->streams) queued += l->unacked_bytes.load();
      {
        Link& l0 = *pl->streams[0];
        std::lock_guard<std::mutex> link_lock(l0.mu);
        // Not when the neighbour's queue is full: Send would wait for it to drain.
        needed = l0.conn && !l0.final_sent && !l0.final &&
                 queued + (64u << 10) <= options_.max_queued_bytes;
      }
      if (!needed) continue;
      Message m;
      m.kind = MessageKind::kFailed;
      m.to = peer;
      const std::string why = name_ + "'s transport shut down before it finished";
      m.payload.assign(why.begin(), why.end());
      (void)Send(std::move(m));
    }
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (shut_down_) return Status::Ok();
  shut_down_ = true;
  Status result;
  WakeIoThread();  // to write what is queued and close the connections
  if (started_) {
    cv_.wait_until(lock, deadline, [&] { return pending_frames_ == 0; });
    if (pending_frames_ > 0) {
      result = DeadlineExceeded(name_ + ": " + std::to_string(pending_frames_) +
                                " queued frames were not written before the shutdown deadline");
    }
    shutting_down_ = true;
    for (auto& [id, conn] : links_) conn->CloseWhenFlushed();
    // Wait (bounded) for the other ends to close too, so no unread data turns into a reset.
    cv_.wait_until(lock, deadline, [&] { return links_.empty(); });
    for (auto& [id, conn] : links_) conn->CloseNow();
  }
  shutting_down_ = true;
  dialing_ = false;
  lock.unlock();
  cv_.notify_all();  // a Send blocked on a full queue returns Cancelled
  inbox_.Cancel();
  asio::post(io_, [this] {
    ErrorCode ec;
    acceptor_.close(ec);
    accept_timer_.cancel();
  });
  work_.reset();
  io_.stop();
  {
    std::lock_guard<std::mutex> drive_lock(drive_mu_);
    io_exit_ = true;
  }
  drive_cv_.notify_all();
  if (io_thread_.joinable()) io_thread_.join();
  {
    std::lock_guard<std::mutex> relock(mu_);
    links_.clear();
  }
  for (auto& [peer, pl] : link_state_) {
    for (auto& l : pl->streams) {
      std::lock_guard<std::mutex> link_lock(l->mu);
      l->conn.reset();  // before io_ goes: a connection owns timers of it
    }
  }
  return result;
}

void TcpTransport::RecordRtt(int peer, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, first] = rtt_s_.emplace(peer, seconds);
  if (!first) it->second = 0.875 * it->second + 0.125 * seconds;
}

TransportStats TcpTransport::stats() const {
  TransportStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.rtt_s = rtt_s_;
  }
  s.bytes_sent = bytes_sent_;
  s.bytes_received = bytes_received_;
  s.messages_sent = messages_sent_;
  s.messages_received = messages_received_;
  s.frames_rejected = frames_rejected_;
  s.handshakes_failed = handshakes_failed_;
  s.messages_resent = messages_resent_;
  return s;
}

}  // namespace tcp_internal

Result<std::unique_ptr<Transport>> MakeTcpTransport(const TcpTransportOptions& options) {
  HEARSAY_RETURN_IF_ERROR(tcp_internal::ValidateTcpOptions(options));
  return std::unique_ptr<Transport>(std::make_unique<tcp_internal::TcpTransport>(options));
}

}  // namespace hearsay
