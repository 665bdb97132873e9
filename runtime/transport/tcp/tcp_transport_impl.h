// Internal to the TCP transport (not part of the public API; only tcp_connection.cc and
// tcp_transport.cc include it): the TcpTransport class behind MakeTcpTransport
// (tcp_transport.h). Declared here so that connections (tcp_connection.cc) can call back into
// it; defined in tcp_transport.cc.
//
// Threading (DESIGN.md): one io_context run by `io_threads` threads owns all sockets; each
// connection's handlers run on its own strand with at most one write in flight. Send numbers and
// MACs a frame on the caller's thread and posts it to the connection; Receive pops the thread-safe
// inbox. The methods called by connections run on their strands and synchronise through mu_,
// atomics, the inbox, the buffer pool and the log limiter (all thread-safe). The accept handler
// and its backoff timer run on io_ with one accept outstanding at a time.
// Ownership: the transport owns its threads and sockets; Shutdown (or the destructor) joins them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
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

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(TcpTransportOptions options);
  ~TcpTransport() override { (void)Shutdown(Now()); }

  Status Start(TimePoint deadline) override;
  Status Send(Message msg) override;
  Result<Message> Receive(TimePoint deadline) override;
  Status Shutdown(TimePoint deadline) override;
  TransportStats stats() const override;
  void Recycle(ByteBuffer buffer) override { pool_.Release(std::move(buffer)); }
  ByteBuffer AcquireBuffer(size_t bytes) override {
    ByteBuffer b = pool_.Acquire(bytes);
    b.clear();
    return b;
  }

  // Called by connections (on their strands).
  const TcpTransportOptions& options() const { return options_; }
  const std::string& name() const { return name_; }
  HandshakeSetup MakeHandshakeSetup(HandshakeRole role, int peer) const;
  BufferPool& pool() { return pool_; }
  bool IsNeighbor(int j) const { return neighbor_set_.count(j) > 0; }
  // Registers an authenticated link; false (with a reason) if the peer is already linked.
  bool RegisterLink(int peer, const std::shared_ptr<Connection>& conn, std::string* reason);
  void UnregisterLink(int peer, const Connection* conn, bool done_received);
  void RecordFatal(int peer, Status error);
  void RecordAttemptError(int peer, const std::string& error);
  void HandshakeFailed(int peer);  // dialer side: retry later, with backoff
  void UnauthenticatedDone() { --unauthenticated_; }
  void Deliver(Message msg, uint64_t wire_bytes) {
    bytes_received_ += wire_bytes;
    ++messages_received_;
    inbox_.Push(std::move(msg));
  }
  // Tells the peer (through Receive) that the link to `peer` broke, and why.
  void LinkBroken(int peer, const std::string& why) {
    Message m;
    m.kind = MessageKind::kLinkDown;
    m.from = peer;
    m.to = options_.self;
    m.payload.assign(why.begin(), why.end());
    inbox_.Push(std::move(m));
  }
  // n message frames (bytes on the wire) to `peer` were written or dropped.
  void FramesDone(int peer, size_t n, uint64_t bytes);
  bool shutting_down() const { return shutting_down_.load(); }
  void CountRejected() { ++frames_rejected_; }
  // A round-trip sample of the link to `peer` (any I/O thread): smoothed as TCP's SRTT,
  // rtt <- 7/8 rtt + 1/8 sample, the first sample taken as is.
  void RecordRtt(int peer, double seconds);
  void CountHandshakeFailed() { ++handshakes_failed_; }
  // A warning prefixed with this peer's name, at most once per 10 s per key.
  void LogLimited(const std::string& key, const std::string& message);

 private:
  void Accept();
  void Dial(int peer, double backoff_s);
  void RunIoThread();
  std::string DescribeMissing() const;  // requires mu_

  const TcpTransportOptions options_;
  const std::string name_;
  std::set<int> neighbor_set_;
  std::shared_ptr<const ClusterKey> key_;
  ClusterConfig config_;
  BufferPool pool_;
  LogLimiter log_limiter_;
  Inbox inbox_;
  asio::io_context io_;  // destroyed after the connections held in its handlers
  tcp::acceptor acceptor_;
  asio::steady_timer accept_timer_;
  double accept_backoff_s_ = 0;  // accept handler only
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::map<int, tcp::resolver::results_type> endpoints_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> dialing_{false};
  std::atomic<int> unauthenticated_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;                              // guarded by mu_
  bool shut_down_ = false;                            // guarded by mu_
  std::map<int, std::shared_ptr<Connection>> links_;  // open links, guarded by mu_
  std::set<int> ever_linked_;                         // guarded by mu_
  std::set<int> finished_;                            // peers that sent DONE and closed; mu_
  std::map<int, std::string> last_error_;             // guarded by mu_
  std::map<int, double> dial_backoff_s_;              // per peer, after failed handshakes; mu_
  std::optional<Status> fatal_;                       // guarded by mu_
  size_t pending_frames_ = 0;                         // queued, not yet written; mu_
  std::map<int, uint64_t> queued_bytes_;              // per neighbour, not yet written; mu_
  std::map<int, double> rtt_s_;                       // smoothed RTT per neighbour; mu_

  std::atomic<uint64_t> bytes_sent_{0}, bytes_received_{0}, messages_sent_{0},
      messages_received_{0}, frames_rejected_{0}, handshakes_failed_{0};
};

}  // namespace hearsay::tcp_internal
