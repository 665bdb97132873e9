// A fault-injecting TCP proxy for tests: listens on a loopback port and forwards each accepted
// connection to a target port, byte for byte, both ways. Cut() closes every forwarded connection
// at once -- bytes the proxy has read but not written, and whatever sits in the kernel's buffers,
// are lost, as when a real link breaks -- and SetTarget() points new connections elsewhere (port
// 0: new connections are accepted and closed at once, as when the far end is unreachable).
// Threads: one acceptor, one pump per forwarded connection; all joined by the destructor.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace hearsay::testing_util {

class TcpProxy {
 public:
  TcpProxy(uint16_t listen_port, uint16_t target_port) : target_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const sockaddr_in addr = Loopback(listen_port);
    ok_ = ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 &&
          ::listen(listen_fd_, 16) == 0;
    if (ok_) acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~TcpProxy() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    Cut();
    std::lock_guard<std::mutex> lock(mu_);
    for (Pair& p : pairs_) {
      if (p.pump.joinable()) p.pump.join();
      ::close(p.a);
      ::close(p.b);
    }
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  bool ok() const { return ok_; }
  // Closes every forwarded connection; returns how many it closed.
  int Cut() {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (Pair& p : pairs_) {
      if (p.closed.exchange(true)) continue;
      ::shutdown(p.a, SHUT_RDWR);
      ::shutdown(p.b, SHUT_RDWR);
      ++n;
    }
    cuts_ += n;
    return n;
  }
  void SetTarget(uint16_t port) { target_ = port; }
  // Sleep this long after forwarding each chunk (at most 64 KiB): a slow link, so that frames
  // are in flight -- sent, not yet delivered or acknowledged -- when a cut comes.
  void SetPaceMs(int ms) { pace_ms_ = ms; }
  int connections() const { return connections_.load(); }  // forwarded so far
  int cuts() const { return cuts_.load(); }

 private:
  struct Pair {
    int a = -1, b = -1;
    std::atomic<bool> closed{false};
    std::thread pump;
  };

  static sockaddr_in Loopback(uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
  }

  void AcceptLoop() {
    while (!stop_) {
      const int a = ::accept(listen_fd_, nullptr, nullptr);
      if (a < 0) {
        if (stop_) return;
        continue;
      }
      const uint16_t target = target_.load();
      int b = -1;
      if (target != 0) {
        b = ::socket(AF_INET, SOCK_STREAM, 0);
        const sockaddr_in addr = Loopback(target);
        if (::connect(b, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
          ::close(b);
          b = -1;
        }
      }
      if (b < 0) {
        ::close(a);
        continue;
      }
      int one = 1;
      ::setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ::setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ++connections_;
      std::lock_guard<std::mutex> lock(mu_);
      Pair& p = pairs_.emplace_back();
      p.a = a;
      p.b = b;
      p.pump = std::thread([&p, this] { Pump(p, pace_ms_); });
    }
  }

  // Forwards both ways until either side ends or the pair is cut.
  static void Pump(Pair& p, const std::atomic<int>& pace_ms) {
    std::vector<char> buf(1 << 16);
    pollfd fds[2] = {{p.a, POLLIN, 0}, {p.b, POLLIN, 0}};
    while (!p.closed.load()) {
      if (::poll(fds, 2, 100) < 0) break;
      bool end = false;
      for (int k = 0; k < 2 && !end; ++k) {
        if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::read(fds[k].fd, buf.data(), buf.size());
        if (n <= 0) {
          end = true;
          break;
        }
        for (ssize_t off = 0; off < n;) {
          const ssize_t w =
              ::send(fds[1 - k].fd, buf.data() + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
          if (w <= 0) {
            end = true;
            break;
          }
          off += w;
        }
        if (const int ms = pace_ms.load(); ms > 0 && !end) {
          std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        }
      }
      if (end) break;
    }
    // Only shut down here: the descriptors are closed by the destructor, after the pumps are
    // joined, so that Cut() never touches a descriptor number the system has reused.
    p.closed = true;
    ::shutdown(p.a, SHUT_RDWR);
    ::shutdown(p.b, SHUT_RDWR);
  }

  int listen_fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<uint16_t> target_;
  std::atomic<int> connections_{0}, cuts_{0}, pace_ms_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::list<Pair> pairs_;  // guarded by mu_; a list: pumps hold references
};

}  // namespace hearsay::testing_util
