// Helpers of the TCP transport tests: free ports, options, starting transports together, and
// RawPeer, a plain socket that plays a neighbour (honest or hostile) byte by byte, running the
// real Handshake state machine when asked to authenticate.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "runtime/transport/frame.h"
#include "runtime/transport/frame_reader.h"
#include "runtime/transport/handshake.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay::test {

inline constexpr const char* kSecret = "s3cret-for-the-tcp-tests";

// Ports the kernel reports free right now (bound together, then released).
inline std::vector<uint16_t> FreePorts(int n) {
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ports.push_back(ntohs(addr.sin_port));
    fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

// A loopback socket listening on `port` with SO_REUSEADDR; with rcvbuf > 0, that receive buffer
// size, which accepted sockets inherit. -1 when the port cannot be bound.
inline int ListenOn(uint16_t port, int backlog = 1, int rcvbuf = 0) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (rcvbuf > 0) ::setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(lfd);
    return -1;
  }
  ::listen(lfd, backlog);
  return lfd;
}

inline HandshakeInfo Info() {
  HandshakeInfo h;
  h.cluster_id = "test-cluster";
  h.topology_hash = 0x1234abcd5678ef00ull;
  h.model_shape = "softmax(d=4,k=2) params=10";
  h.algorithm = "dpsgd";
  return h;
}

inline ClusterConfig Config() {
  const HandshakeInfo i = Info();
  return ClusterConfig{i.cluster_id, i.topology_hash, i.model_shape, i.algorithm};
}

inline TcpTransportOptions Options(int self, const std::vector<uint16_t>& ports,
                                   std::vector<int> neighbors) {
  TcpTransportOptions o;
  o.self = self;
  for (uint16_t p : ports) o.addresses.push_back({"127.0.0.1", p});
  o.neighbors = std::move(neighbors);
  o.handshake = Info();
  o.secret = kSecret;
  return o;
}

inline std::unique_ptr<Transport> Make(const TcpTransportOptions& o) {
  Result<std::unique_ptr<Transport>> t = MakeTcpTransport(o);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

// Starts every transport concurrently; returns their Start statuses.
inline std::vector<Status> StartAll(std::vector<std::unique_ptr<Transport>>& ts, double seconds) {
  std::vector<std::future<Status>> fs;
  const TimePoint deadline = DeadlineIn(seconds);
  for (auto& t : ts)
    fs.push_back(std::async(std::launch::async, [&t, deadline] { return t->Start(deadline); }));
  std::vector<Status> out;
  for (auto& f : fs) out.push_back(f.get());
  return out;
}

inline Message Gossip(int to, int64_t round, size_t bytes) {
  Message m;
  m.to = to;
  m.round = round;
  m.payload.resize(bytes);
  for (size_t i = 0; i < bytes; ++i) m.payload[i] = static_cast<uint8_t>(i * 31 + round);
  return m;
}

// Two linked transports say DONE to each other; "" when each then receives the other's DONE
// (link-down notices of a reconnecting link skipped) numbered `seq`, else what went wrong.
inline std::string EndBothWays(std::vector<std::unique_ptr<Transport>>& ts, uint64_t seq) {
  for (int i = 0; i < 2; ++i) {
    Message done;
    done.kind = MessageKind::kDone;
    done.to = 1 - i;
    const Status s = ts[i]->Send(std::move(done));
    if (!s.ok()) return "peer " + std::to_string(i) + " sending DONE: " + s.ToString();
  }
  for (int i = 0; i < 2; ++i) {
    Result<Message> m = ts[i]->Receive(DeadlineIn(20));
    while (m.ok() && m->kind == MessageKind::kLinkDown) m = ts[i]->Receive(DeadlineIn(20));
    if (!m.ok()) return "peer " + std::to_string(i) + ": " + m.status().ToString();
    if (m->kind != MessageKind::kDone || m->seq != seq) {
      return "peer " + std::to_string(i) + " received kind " +
             std::to_string(static_cast<int>(m->kind)) + " numbered " + std::to_string(m->seq) +
             ", not DONE numbered " + std::to_string(seq);
    }
  }
  return "";
}

// A raw socket connected to a transport's port, playing peer `self` towards peer `peer`.
class RawPeer {
 public:
  explicit RawPeer(uint16_t port, int self = 0, int peer = 1) : self_(self), peer_(peer) {
    const TimePoint deadline = DeadlineIn(20);
    while (Now() < deadline) {
      fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(port);
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) break;
      ::close(fd_);
      fd_ = -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    timeval tv{15, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    reader_.set_max_payload_bytes(1 << 20);
  }
  ~RawPeer() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Wraps an accepted socket (to play the acceptor with Accept).
  static std::unique_ptr<RawPeer> Adopt(int fd, int self, int peer) {
    std::unique_ptr<RawPeer> p(new RawPeer(self, peer));
    p->fd_ = fd;
    return p;
  }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;
  bool connected() const { return fd_ >= 0; }

  // With `pause` > 0: one byte at a time, that long apart (a slow or hostile sender).
  void Write(std::span<const uint8_t> bytes, std::chrono::microseconds pause = {}) {
    size_t off = 0;
    while (off < bytes.size()) {
      const size_t len = pause.count() > 0 ? 1 : bytes.size() - off;
      ssize_t n = ::send(fd_, bytes.data() + off, len, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += n;
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
  }
  // An unauthenticated frame (no MAC).
  void WritePlain(const FrameHeader& h, const ByteBuffer& payload = {}) {
    Write(EncodeFrameHead(h, static_cast<uint32_t>(payload.size()), false));
    Write(payload);
  }
  // A frame MAC'd under this connection's send key (after Handshake), optionally corrupted after
  // the MAC was computed.
  void WriteMacd(const FrameHeader& h, const ByteBuffer& payload, bool corrupt_payload = false,
                 std::chrono::microseconds pause = {}) {
    Write(MacdFrame(h, payload, corrupt_payload), pause);
  }
  // The bytes WriteMacd writes.
  ByteBuffer MacdFrame(const FrameHeader& h, const ByteBuffer& payload,
                       bool corrupt_payload = false) {
    ByteBuffer bytes = EncodeFrameHead(h, static_cast<uint32_t>(payload.size()), true);
    const MacTag tag = ComputeFrameMac(hs_->send_key(), h.seq, bytes, payload);
    bytes.insert(bytes.end(), payload.begin(), payload.end());
    if (corrupt_payload) bytes[bytes.size() - 1] ^= 0x01;
    bytes.insert(bytes.end(), tag.begin(), tag.end());
    return bytes;
  }
  // A well-formed message frame with the next sequence number.
  FrameHeader NextMessage(int64_t round) {
    Message m;
    m.from = self_;
    m.to = peer_;
    m.round = round;
    return DataFrameHeader(m, ++seq_, 0);
  }

  Result<InFrame> ReadFrame() {
    while (true) {
      InFrame f;
      HEARSAY_ASSIGN_OR_RETURN(bool got, reader_.Next(&f));
      if (got) return f;
      const std::span<uint8_t> space = reader_.ReadSpace();
      const ssize_t n = ::recv(fd_, space.data(), space.size(), 0);
      if (n <= 0) return Unavailable("closed");
      reader_.Commit(static_cast<size_t>(n));
    }
  }
  // True when the other side closes the connection (EOF or reset) within the receive timeout.
  bool ClosedByPeer() {
    uint8_t buf[4096];
    while (true) {
      ssize_t r = ::recv(fd_, buf, sizeof(buf), 0);
      if (r == 0) return true;
      if (r < 0) return errno == ECONNRESET;
    }
  }
  // Runs the dialer side of the real handshake (for `stream` of the link); true when the link
  // opened.
  bool Handshake(const std::string& secret, ClusterConfig config = Config(), int stream = 0) {
    HandshakeSetup s;
    s.role = HandshakeRole::kDialer;
    s.self = self_;
    s.peer = peer_;
    s.stream = stream;
    s.key = std::make_shared<const ClusterKey>(secret);
    s.config = std::move(config);
    hs_ = std::make_unique<hearsay::Handshake>(std::move(s));
    Send(hs_->Hello());
    return RunHandshake();
  }
  // Runs the acceptor side of the real handshake; true when the link opened.
  bool Accept(const std::string& secret, ClusterConfig config = Config()) {
    HandshakeSetup s;
    s.role = HandshakeRole::kAcceptor;
    s.self = self_;
    s.key = std::make_shared<const ClusterKey>(secret);
    s.config = std::move(config);
    const int peer = peer_;
    s.may_dial_us = [peer](int j) { return j == peer; };
    hs_ = std::make_unique<hearsay::Handshake>(std::move(s));
    return RunHandshake();
  }
  const std::string& last_error() const { return last_error_; }

 private:
  RawPeer(int self, int peer) : self_(self), peer_(peer) { reader_.set_max_payload_bytes(1 << 20); }
  bool RunHandshake() {
    while (true) {
      Result<InFrame> f = ReadFrame();
      if (!f.ok()) return false;
      HandshakeStep step = hs_->OnFrame(*f);
      if (hs_->keys_ready()) reader_.set_receive_key(hs_->receive_key());
      last_error_ = step.error;
      if (step.reply) Send(*step.reply);
      if (step.outcome == HandshakeStep::Outcome::kOpen) return true;
      if (step.outcome == HandshakeStep::Outcome::kFail) return false;
    }
  }
  void Send(const ControlFrame& cf) {
    if (cf.mac) {
      WriteMacd(cf.header, {});
    } else {
      WritePlain(cf.header);
    }
  }

  int fd_ = -1;
  const int self_, peer_;
  FrameReader reader_;
  std::unique_ptr<hearsay::Handshake> hs_;
  uint64_t seq_ = 0;
  std::string last_error_;
};

// Starts transport `a` (peer 0, dialing peer 1 at `port`) against a RawPeer that plays peer 1:
// it accepts the connection (with a receive buffer of `rcvbuf` bytes if > 0) and runs the real
// handshake. Null when either side failed.
inline std::unique_ptr<RawPeer> StartAgainstRawPeer(Transport& a, uint16_t port, int rcvbuf = 0) {
  std::unique_ptr<RawPeer> raw;
  std::thread acceptor([&] {
    const int lfd = ListenOn(port, 1, rcvbuf);
    if (lfd < 0) return;
    const int fd = ::accept(lfd, nullptr, nullptr);
    ::close(lfd);
    raw = RawPeer::Adopt(fd, 1, 0);
    if (!raw->Accept(kSecret)) {
      ADD_FAILURE() << "handshake: " << raw->last_error();
      raw.reset();
    }
  });
  const Status started = a.Start(DeadlineIn(20));
  acceptor.join();
  if (!started.ok()) {
    ADD_FAILURE() << started.ToString();
    return nullptr;
  }
  return raw;
}

}  // namespace hearsay::test
