// TCP transport (runtime/transport/tcp/tcp_transport.h) over loopback: connection set-up with
// retry, handshake refusals, delivery, shutdown, and rejection of malformed frames sent by a raw
// socket that plays a neighbour.
#include "runtime/transport/tcp/tcp_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "runtime/transport/crc32c.h"
#include "runtime/transport/frame.h"
#include "runtime/transport/handshake.h"

namespace hearsay {
namespace {

// Ports the kernel reports free right now (bound together, then released).
std::vector<uint16_t> FreePorts(int n) {
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

HandshakeInfo Info() {
  HandshakeInfo h;
  h.cluster_id = "test-cluster";
  h.topology_hash = 0x1234abcd5678ef00ull;
  h.model_shape = "softmax(d=4,k=2) params=10";
  h.algorithm = "dpsgd";
  return h;
}

std::vector<int> RingNeighbors(int i, int n) {
  std::vector<int> nb = {(i + n - 1) % n, (i + 1) % n};
  std::sort(nb.begin(), nb.end());
  nb.erase(std::unique(nb.begin(), nb.end()), nb.end());
  return nb;
}

TcpTransportOptions Options(int self, const std::vector<uint16_t>& ports,
                            std::vector<int> neighbors) {
  TcpTransportOptions o;
  o.self = self;
  for (uint16_t p : ports) o.addresses.push_back({"127.0.0.1", p});
  o.neighbors = std::move(neighbors);
  o.handshake = Info();
  o.secret = "s3cret";
  return o;
}

std::unique_ptr<Transport> Make(const TcpTransportOptions& o) {
  Result<std::unique_ptr<Transport>> t = MakeTcpTransport(o);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

// Starts every transport concurrently; returns their Start statuses.
std::vector<Status> StartAll(std::vector<std::unique_ptr<Transport>>& ts, double seconds) {
  std::vector<std::future<Status>> fs;
  const TimePoint deadline = DeadlineIn(seconds);
  for (auto& t : ts)
    fs.push_back(std::async(std::launch::async, [&t, deadline] { return t->Start(deadline); }));
  std::vector<Status> out;
  for (auto& f : fs) out.push_back(f.get());
  return out;
}

Message Gossip(int to, int64_t round, size_t bytes) {
  Message m;
  m.to = to;
  m.round = round;
  m.payload.resize(bytes);
  for (size_t i = 0; i < bytes; ++i) m.payload[i] = static_cast<uint8_t>(i * 31 + round);
  return m;
}

TEST(TcpTransport, RingOfFourDeliversEveryMessageInOrder) {
  constexpr int kPeers = 4, kRounds = 20;
  const auto ports = FreePorts(kPeers);
  std::vector<std::unique_ptr<Transport>> ts;
  for (int i = 0; i < kPeers; ++i) ts.push_back(Make(Options(i, ports, RingNeighbors(i, kPeers))));
  for (const Status& s : StartAll(ts, 20)) ASSERT_TRUE(s.ok()) << s.ToString();

  std::vector<std::thread> threads;
  std::vector<std::string> failures(kPeers);
  for (int i = 0; i < kPeers; ++i) {
    threads.emplace_back([&, i] {
      Transport& t = *ts[i];
      const auto nb = RingNeighbors(i, kPeers);
      std::map<int, int64_t> last_round;
      int dones = 0;
      auto receive_one = [&]() -> bool {
        Result<Message> m = t.Receive(DeadlineIn(20));
        if (!m.ok()) {
          failures[i] = m.status().ToString();
          return false;
        }
        if (m->kind == MessageKind::kDone) {  // a faster neighbour may finish first
          ++dones;
          if (last_round[m->from] != kRounds) failures[i] = "DONE before the last round";
          return true;
        }
        if (m->round != last_round[m->from] + 1) failures[i] = "out of order";
        last_round[m->from] = m->round;
        if (m->payload != Gossip(i, m->round, 1000 + 37 * m->round).payload) {
          failures[i] = "payload differs";
        }
        return true;
      };
      for (int r = 1; r <= kRounds; ++r) {
        for (int j : nb) {
          if (!t.Send(Gossip(j, r, 1000 + 37 * r)).ok()) failures[i] = "send failed";
        }
        // Sync mode: wait for every neighbour's round-r message.
        while (std::any_of(nb.begin(), nb.end(), [&](int j) { return last_round[j] < r; })) {
          if (!receive_one()) return;
        }
      }
      for (int j : nb) {
        Message done;
        done.kind = MessageKind::kDone;
        done.to = j;
        if (!t.Send(std::move(done)).ok()) failures[i] = "sending DONE failed";
      }
      while (dones < static_cast<int>(nb.size())) {
        if (!receive_one()) return;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < kPeers; ++i) EXPECT_EQ(failures[i], "") << "peer " << i;
  for (auto& t : ts) EXPECT_TRUE(t->Shutdown(DeadlineIn(10)).ok());
  EXPECT_EQ(ts[0]->stats().messages_sent, 2u * kRounds + 2);
}

TEST(TcpTransport, DialerRetriesUntilTheNeighbourListens) {
  const auto ports = FreePorts(2);
  auto a = Make(Options(0, ports, {1}));
  auto b = Make(Options(1, ports, {0}));
  auto started = std::async(std::launch::async, [&] { return a->Start(DeadlineIn(20)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_TRUE(b->Start(DeadlineIn(20)).ok());
  ASSERT_TRUE(started.get().ok());
  ASSERT_TRUE(a->Send(Gossip(1, 1, 10)).ok());
  Result<Message> m = b->Receive(DeadlineIn(10));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->from, 0);
}

TEST(TcpTransport, StartFailsAtDeadlineNamingTheMissingPeer) {
  const auto ports = FreePorts(2);
  auto a = Make(Options(0, ports, {1}));
  const Status s = a->Start(DeadlineIn(0.5));
  ASSERT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(s.message().find("peers 1"), std::string::npos) << s.message();
}

void ExpectRefusal(TcpTransportOptions oa, TcpTransportOptions ob, const std::string& what,
                   const std::vector<std::string>& must_name) {
  auto a = Make(oa);
  auto b = Make(ob);
  auto sb = std::async(std::launch::async, [&] { return b->Start(DeadlineIn(20)); });
  const Status s = a->Start(DeadlineIn(20));
  const Status s_b = sb.get();
  ASSERT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
  for (const auto& v : must_name) EXPECT_NE(s.message().find(v), std::string::npos) << s.message();
  EXPECT_FALSE(s_b.ok());  // the other side fails too, rather than waiting for its deadline
  EXPECT_EQ(s_b.code(), StatusCode::kFailedPrecondition) << s_b.ToString();
}

TEST(TcpTransport, RefusesTopologyHashMismatchNamingBothValues) {
  const auto ports = FreePorts(2);
  auto oa = Options(0, ports, {1});
  auto ob = Options(1, ports, {0});
  ob.handshake.topology_hash = 0x9f8e;
  ExpectRefusal(oa, ob, "topology hash",
                {"peer 0", "peer 1", "0x1234abcd5678ef00", "0x0000000000009f8e"});
}

TEST(TcpTransport, RefusesPeerOfAnotherCluster) {
  const auto ports = FreePorts(2);
  auto oa = Options(0, ports, {1});
  auto ob = Options(1, ports, {0});
  ob.handshake.cluster_id = "other-cluster";
  ExpectRefusal(oa, ob, "cluster id", {"test-cluster", "other-cluster"});
}

TEST(TcpTransport, RefusesPeerWithAnotherAlgorithm) {
  const auto ports = FreePorts(2);
  auto oa = Options(0, ports, {1});
  auto ob = Options(1, ports, {0});
  ob.handshake.algorithm = "choco/qsgd:4";
  ExpectRefusal(oa, ob, "algorithm", {"dpsgd", "choco/qsgd:4"});
}

TEST(TcpTransport, RefusesPeerWithoutTheClusterSecret) {
  const auto ports = FreePorts(2);
  auto oa = Options(0, ports, {1});
  auto ob = Options(1, ports, {0});
  ob.secret = "wrong";
  ExpectRefusal(oa, ob, "authentication failed", {});
}

TEST(TcpTransport, ShutdownFlushesQueuedFramesAndDoneEndsTheLinkQuietly) {
  const auto ports = FreePorts(2);
  auto a = Make(Options(0, ports, {1}));
  auto b = Make(Options(1, ports, {0}));
  std::vector<std::unique_ptr<Transport>> ts;
  ts.push_back(std::move(a));
  ts.push_back(std::move(b));
  for (const Status& s : StartAll(ts, 20)) ASSERT_TRUE(s.ok()) << s.ToString();
  constexpr int kMessages = 40;
  for (int r = 1; r <= kMessages; ++r) ASSERT_TRUE(ts[0]->Send(Gossip(1, r, 256 << 10)).ok());
  Message done;
  done.kind = MessageKind::kDone;
  done.to = 1;
  ASSERT_TRUE(ts[0]->Send(std::move(done)).ok());
  auto shut = std::async(std::launch::async, [&] { return ts[0]->Shutdown(DeadlineIn(20)); });
  for (int r = 1; r <= kMessages; ++r) {
    Result<Message> m = ts[1]->Receive(DeadlineIn(20));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(m->round, r);
    ASSERT_EQ(m->payload.size(), 256u << 10);
  }
  Result<Message> last = ts[1]->Receive(DeadlineIn(20));
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->kind, MessageKind::kDone);
  EXPECT_TRUE(shut.get().ok());
  // Peer 0 finished properly: no broken-link error follows, and sending to it is a no-op.
  EXPECT_EQ(ts[1]->Receive(DeadlineIn(0.3)).status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(ts[1]->Shutdown(DeadlineIn(10)).ok());
  EXPECT_EQ(ts[1]->Receive(DeadlineIn(1)).status().code(), StatusCode::kCancelled);
}

TEST(TcpTransport, LinkBreakingBeforeDoneIsUnavailableNamingThePeer) {
  const auto ports = FreePorts(2);
  std::vector<std::unique_ptr<Transport>> ts;
  ts.push_back(Make(Options(0, ports, {1})));
  ts.push_back(Make(Options(1, ports, {0})));
  for (const Status& s : StartAll(ts, 20)) ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(ts[1]->Send(Gossip(0, 1, 100)).ok());
  ASSERT_TRUE(ts[1]->Shutdown(DeadlineIn(10)).ok());
  Result<Message> first = ts[0]->Receive(DeadlineIn(10));
  ASSERT_TRUE(first.ok()) << first.status().ToString();  // what came before the break
  Result<Message> broken = ts[0]->Receive(DeadlineIn(10));
  ASSERT_EQ(broken.status().code(), StatusCode::kUnavailable) << broken.status().ToString();
  EXPECT_NE(broken.status().message().find("peer 1"), std::string::npos);
  EXPECT_EQ(ts[0]->Send(Gossip(1, 2, 10)).code(), StatusCode::kUnavailable);
}

TEST(TcpTransport, RejectsInvalidOptions) {
  const auto ports = FreePorts(3);
  EXPECT_FALSE(MakeTcpTransport(Options(3, ports, {0})).ok());
  EXPECT_FALSE(MakeTcpTransport(Options(0, ports, {2, 1})).ok());
  EXPECT_FALSE(MakeTcpTransport(Options(0, ports, {0})).ok());
  EXPECT_FALSE(MakeTcpTransport(Options(0, ports, {5})).ok());
}

// ---------------------------------------------------------------------------------------------
// A raw socket playing peer 0 against a real transport playing peer 1.

class RawPeer {
 public:
  explicit RawPeer(uint16_t port) {
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
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawPeer() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return fd_ >= 0; }

  void Write(std::span<const uint8_t> bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += n;
    }
  }
  void WriteFrame(const FrameHeader& h, const ByteBuffer& payload = {}) {
    Write(EncodeFrameHead(h, payload.size()));
    Write(payload);
  }
  bool ReadExact(uint8_t* p, size_t n) {
    size_t off = 0;
    while (off < n) {
      ssize_t r = ::recv(fd_, p + off, n - off, 0);
      if (r <= 0) return false;
      off += r;
    }
    return true;
  }
  Result<FrameHeader> ReadFrame() {
    uint8_t prefix[kFramePrefixBytes];
    if (!ReadExact(prefix, sizeof(prefix))) return Unavailable("closed");
    HEARSAY_ASSIGN_OR_RETURN(FramePrefix p, DecodeFramePrefix(prefix, 1u << 20));
    ByteBuffer rest(p.header_bytes + p.payload_bytes);
    if (!ReadExact(rest.data(), rest.size())) return Unavailable("closed");
    return DecodeFrameHeader(std::span<const uint8_t>(rest).first(p.header_bytes));
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
  // Runs the dialer side of the handshake as peer 0 towards peer 1.
  bool Handshake(const std::string& secret) {
    HelloInfo hello;
    const HandshakeInfo info = Info();
    hello.cluster_id = info.cluster_id;
    hello.peer = 0;
    hello.topology_hash = info.topology_hash;
    hello.model_shape = info.model_shape;
    hello.algorithm = info.algorithm;
    hello.nonce = MakeNonce();
    FrameHeader h;
    h.kind = FrameKind::kHello;
    h.sender = 0;
    h.receiver = 1;
    h.hello = hello;
    WriteFrame(h);
    Result<FrameHeader> reply = ReadFrame();
    if (!reply.ok() || reply->kind != FrameKind::kHello) return false;
    FrameHeader auth;
    auth.kind = FrameKind::kAuth;
    auth.sender = 0;
    auth.receiver = 1;
    auth.proof = HandshakeProof(HandshakeRole::kDialer, secret, info.cluster_id, 0, 1, hello.nonce,
                                reply->hello.nonce);
    WriteFrame(auth);
    Result<FrameHeader> welcome = ReadFrame();
    return welcome.ok() && welcome->kind == FrameKind::kWelcome;
  }

 private:
  int fd_ = -1;
};

class TcpTransportRawFrames : public ::testing::Test {
 protected:
  void SetUp() override {
    ports_ = FreePorts(2);
    target_ = Make(Options(1, ports_, {0}));
    started_ = std::async(std::launch::async, [this] { return target_->Start(DeadlineIn(30)); });
  }
  // Handshakes properly and waits until the target's Start succeeded.
  std::unique_ptr<RawPeer> Authenticated() {
    auto peer = std::make_unique<RawPeer>(ports_[1]);
    EXPECT_TRUE(peer->connected());
    EXPECT_TRUE(peer->Handshake("s3cret"));
    const Status s = started_.get();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return peer;
  }
  // After a bad frame: the link is reported broken and nothing was delivered.
  void ExpectBrokenWithoutDelivery() {
    Result<Message> m = target_->Receive(DeadlineIn(20));
    ASSERT_FALSE(m.ok()) << "a malformed frame was delivered";
    EXPECT_EQ(m.status().code(), StatusCode::kUnavailable) << m.status().ToString();
    EXPECT_NE(m.status().message().find("peer 0"), std::string::npos);
  }
  void TearDown() override {
    if (started_.valid()) (void)started_.get();
    (void)target_->Shutdown(DeadlineIn(5));
  }

  std::vector<uint16_t> ports_;
  std::unique_ptr<Transport> target_;
  std::future<Status> started_;
};

FrameHeader GoodHeader(const ByteBuffer& payload) {
  FrameHeader h;
  h.kind = FrameKind::kGossip;
  h.sender = 0;
  h.receiver = 1;
  h.round = 1;
  h.payload_crc32c = Crc32c(payload);
  return h;
}

TEST_F(TcpTransportRawFrames, GarbageBeforeTheHandshakeIsRejectedAndTheRealPeerStillConnects) {
  {
    RawPeer junk(ports_[1]);
    ASSERT_TRUE(junk.connected());
    const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    junk.Write({reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size()});
    EXPECT_TRUE(junk.ClosedByPeer());
  }
  {
    RawPeer early(ports_[1]);  // a data frame without a handshake: unauthenticated
    const ByteBuffer payload = {1, 2, 3};
    early.WriteFrame(GoodHeader(payload), payload);
    EXPECT_TRUE(early.ClosedByPeer());
  }
  auto peer = Authenticated();
  const ByteBuffer payload = {4, 5, 6};
  peer->WriteFrame(GoodHeader(payload), payload);
  Result<Message> m = target_->Receive(DeadlineIn(20));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->payload, payload);  // the junk never reached the inbox
}

TEST_F(TcpTransportRawFrames, HandshakeWithWrongVersionIsRejected) {
  RawPeer peer(ports_[1]);
  ByteBuffer head = EncodeFrameHead(GoodHeader({}), 0);
  head[4] = 2;  // version
  peer.Write(head);
  EXPECT_TRUE(peer.ClosedByPeer());
  // Not a configuration mismatch of a known neighbour: Start keeps waiting for the real one.
  EXPECT_EQ(started_.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  Authenticated();
}

TEST_F(TcpTransportRawFrames, BadChecksumClosesTheLinkWithoutDelivery) {
  auto peer = Authenticated();
  ByteBuffer payload(1000, 7);
  FrameHeader h = GoodHeader(payload);
  payload[500] ^= 1;
  peer->WriteFrame(h, payload);
  EXPECT_TRUE(peer->ClosedByPeer());
  ExpectBrokenWithoutDelivery();
}

TEST_F(TcpTransportRawFrames, OversizedFrameClosesTheLinkWithoutDelivery) {
  auto peer = Authenticated();
  ByteBuffer head = EncodeFrameHead(GoodHeader({}), 0);
  const uint32_t huge = 0xF0000000u;  // > max_frame_bytes (1 GiB)
  std::memcpy(head.data() + 12, &huge, 4);
  peer->Write(head);
  EXPECT_TRUE(peer->ClosedByPeer());
  ExpectBrokenWithoutDelivery();
}

TEST_F(TcpTransportRawFrames, WrongMagicAfterTheHandshakeClosesTheLink) {
  auto peer = Authenticated();
  ByteBuffer head = EncodeFrameHead(GoodHeader({}), 0);
  head[1] = 'X';
  peer->Write(head);
  EXPECT_TRUE(peer->ClosedByPeer());
  ExpectBrokenWithoutDelivery();
}

TEST_F(TcpTransportRawFrames, TruncatedFrameIsNotDelivered) {
  auto peer = Authenticated();
  const ByteBuffer payload(5000, 9);
  ByteBuffer frame = EncodeFrameHead(GoodHeader(payload), payload.size());
  frame.insert(frame.end(), payload.begin(), payload.begin() + 2000);  // then hang up
  peer->Write(frame);
  peer.reset();
  ExpectBrokenWithoutDelivery();
}

TEST_F(TcpTransportRawFrames, FrameClaimingAnotherSenderClosesTheLink) {
  auto peer = Authenticated();
  const ByteBuffer payload = {1};
  FrameHeader h = GoodHeader(payload);
  h.sender = 5;
  peer->WriteFrame(h, payload);
  EXPECT_TRUE(peer->ClosedByPeer());
  ExpectBrokenWithoutDelivery();
}

TEST_F(TcpTransportRawFrames, WrongSecretIsRefused) {
  RawPeer peer(ports_[1]);
  EXPECT_FALSE(peer.Handshake("not the secret"));
  EXPECT_TRUE(peer.ClosedByPeer());
  Authenticated();  // a wrong proof is not fatal: the real peer still gets in
}

}  // namespace
}  // namespace hearsay
