// Internal to the TCP transport (not part of the public API; only tcp_connection.cc and
// tcp_transport.cc include it): the TcpTransport class behind MakeTcpTransport
// (tcp_transport.h). Declared here so that connections (tcp_connection.cc) can call back into
// it; defined in tcp_transport.cc.
//
// Threading (DESIGN.md): one io_context run by `io_threads` threads owns all sockets; each
// connection's handlers run on its own strand with at most one write in flight. Send encodes the
// frame head and payload checksum on the caller's thread and posts the frame to the connection;
// Receive pops the thread-safe inbox. The methods called by connections run on their strands and
// synchronise through mu_, atomics and the inbox.
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

#include "runtime/transport/frame.h"
#include "runtime/transport/handshake.h"
#include "runtime/transport/inbox.h"
#include "runtime/transport/tcp/tcp_connection.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay::tcp_internal {

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

}  // namespace hearsay::tcp_internal
