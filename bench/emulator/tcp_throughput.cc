// TCP transport throughput vs raw loopback TCP, measured in the same run: the baseline streams
// the same bytes through a plain POSIX socket pair; the transport sends Messages of the same
// size between two TcpTransports (framing, CRC32C, one write in flight per connection).
//   usage: hearsay_bench_tcp_throughput [total_MiB=512] [message_KiB=1024]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay {
namespace {

uint16_t FreePort(int* keep_fd) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *keep_fd = fd;
  return ntohs(addr.sin_port);
}

// Raw loopback: bytes per second streaming `total` bytes in `chunk`-byte writes.
double RawTcp(size_t total, size_t chunk) {
  int listen_fd;
  const uint16_t port = FreePort(&listen_fd);
  ::listen(listen_fd, 1);
  std::thread receiver([&] {
    int fd = ::accept(listen_fd, nullptr, nullptr);
    std::vector<uint8_t> buf(1 << 20);
    size_t got = 0;
    while (got < total) {
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      got += n;
    }
    ::close(fd);
  });
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::vector<uint8_t> data(chunk, 7);
  const TimePoint t0 = Now();
  for (size_t sent = 0; sent < total;) {
    size_t off = 0;
    while (off < chunk) {
      ssize_t n = ::send(fd, data.data() + off, chunk - off, 0);
      if (n <= 0) break;
      off += n;
    }
    sent += chunk;
  }
  ::shutdown(fd, SHUT_WR);
  receiver.join();
  const double seconds = SecondsSince(t0);
  ::close(fd);
  ::close(listen_fd);
  return static_cast<double>(total) / seconds;
}

double HearsayTcp(size_t total, size_t chunk) {
  int fd0, fd1;
  const uint16_t p0 = FreePort(&fd0), p1 = FreePort(&fd1);
  ::close(fd0);
  ::close(fd1);
  std::vector<std::unique_ptr<hearsay::Transport>> ts;
  for (int i = 0; i < 2; ++i) {
    TcpTransportOptions o;
    o.self = i;
    o.addresses = {{"127.0.0.1", p0}, {"127.0.0.1", p1}};
    o.neighbors = {1 - i};
    o.handshake.cluster_id = "bench";
    o.secret = "bench";
    auto t = MakeTcpTransport(o);
    if (!t.ok()) {
      std::fprintf(stderr, "%s\n", t.status().ToString().c_str());
      std::exit(1);
    }
    ts.push_back(std::move(t).value());
  }
  auto started = std::async(std::launch::async, [&] { return ts[1]->Start(DeadlineIn(20)); });
  if (!ts[0]->Start(DeadlineIn(20)).ok() || !started.get().ok()) std::exit(1);
  const size_t messages = total / chunk;
  ByteBuffer payload(chunk, 7);
  const TimePoint t0 = Now();
  std::thread sender([&] {
    for (size_t i = 0; i < messages; ++i) {
      Message m;
      m.to = 1;
      m.round = static_cast<int64_t>(i + 1);
      m.payload = payload;  // the copy a peer makes when it encodes a fresh message
      (void)ts[0]->Send(std::move(m));
    }
  });
  for (size_t i = 0; i < messages; ++i) {
    if (!ts[1]->Receive(DeadlineIn(60)).ok()) std::exit(1);
  }
  const double seconds = SecondsSince(t0);
  sender.join();
  for (auto& t : ts) (void)t->Shutdown(DeadlineIn(5));
  return static_cast<double>(messages * chunk) / seconds;
}

}  // namespace
}  // namespace hearsay

int main(int argc, char** argv) {
  const size_t total = (argc > 1 ? std::atol(argv[1]) : 512) << 20;
  const size_t chunk = (argc > 2 ? std::atol(argv[2]) : 1024) << 10;
  const double raw = hearsay::RawTcp(total, chunk);
  const double tr = hearsay::HearsayTcp(total, chunk);
  std::printf("%zu MiB in %zu KiB messages over loopback\n", total >> 20, chunk >> 10);
  std::printf("raw TCP (POSIX sockets)   %8.1f MB/s\n", raw / 1e6);
  std::printf("hearsay TcpTransport      %8.1f MB/s\n", tr / 1e6);
  std::printf("ratio transport / raw     %8.2f\n", tr / raw);
  return 0;
}
