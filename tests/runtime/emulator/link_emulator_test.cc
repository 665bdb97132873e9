// The emulating transport wrapper (runtime/emulator/link_emulator.h) in real time, over the
// in-process and TCP transports. Bounds are tolerant (loaded 2-core machines); the precise
// error is measured by bench/emulator.
#include "runtime/emulator/link_emulator.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <mutex>
#include <vector>

#include "runtime/transport/frame.h"
#include "runtime/transport/inproc/inproc_transport.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay {
namespace {

// A complete graph on n nodes with uniform weights: enough for the emulator, which reads only
// link parameters (keeps this test independent of the topology file parser).
class TestTopology final : public Topology {
 public:
  explicit TestTopology(int n) : rows_(n), others_(n) {
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        rows_[i].push_back({j, 1.0 / n});
        if (j != i) others_[i].push_back(j);
      }
    }
  }
  int size() const override { return static_cast<int>(rows_.size()); }
  const std::vector<Neighbor>& Row(int i, int64_t) const override { return rows_[i]; }
  const std::vector<int>& OutNeighbors(int i, int64_t) const override { return others_[i]; }
  const std::vector<int>& InNeighbors(int i, int64_t) const override { return others_[i]; }
  std::string Fingerprint() const override { return "test-complete"; }

 private:
  std::vector<std::vector<Neighbor>> rows_;
  std::vector<std::vector<int>> others_;
};

std::shared_ptr<const TopologySpec> Spec(int n, LinkParams link) {
  auto spec = std::make_shared<TopologySpec>();
  spec->source = "test";
  for (int i = 0; i < n; ++i) spec->nodes.push_back(NodeSpec{"n" + std::to_string(i)});
  spec->graph = std::make_shared<TestTopology>(n);
  spec->link_defaults = link;
  return spec;
}

Message Gossip(int to, int64_t round, size_t bytes) {
  Message m;
  m.to = to;
  m.round = round;
  m.payload.assign(bytes, static_cast<uint8_t>(round));
  return m;
}

// Sends one message 0 -> 1 and returns (measured, expected L + 8S/B) seconds.
std::pair<double, double> TimeOneMessage(Transport& a, Transport& b, const LinkParams& link,
                                         size_t bytes) {
  Message m = Gossip(1, 1, bytes);
  const double wire = static_cast<double>(FrameWireBytes(m));
  const TimePoint t0 = Now();
  EXPECT_TRUE(a.Send(std::move(m)).ok());
  Result<Message> got = b.Receive(DeadlineIn(30));
  const double measured = SecondsSince(t0);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  return {measured, link.latency_s + 8 * wire / link.bandwidth_bps};
}

// Two in-process peers joined by one emulated link, started.
struct InProcPair {
  explicit InProcPair(const LinkParams& link) {
    auto spec = Spec(2, link);
    a = MakeEmulatedTransport(hub.Endpoint(0), spec, 0, 1);
    b = MakeEmulatedTransport(hub.Endpoint(1), spec, 1, 1);
    EXPECT_TRUE(a->Start(DeadlineIn(5)).ok());
    EXPECT_TRUE(b->Start(DeadlineIn(5)).ok());
  }
  InProcHub hub{2};
  std::unique_ptr<Transport> a, b;
};

TEST(LinkEmulator, InProcMessageArrivesAfterLatencyPlusSizeOverBandwidth) {
  LinkParams link;
  link.bandwidth_bps = 4e6;
  link.latency_s = 0.05;
  InProcPair p(link);
  const auto [measured, expected] = TimeOneMessage(*p.a, *p.b, link, 50000);  // ~0.15 s
  EXPECT_GE(measured, expected * 0.97);
  EXPECT_LE(measured, expected + 0.25);
}

// A message counts as sent when the peer hands it over, not when the emulated link delivers it
// (per-round byte counts used to miss what was still on a slow link, so a run's MB per peer
// depended on timing), and it is not counted twice once delivered.
TEST(LinkEmulator, MessagesOnTheEmulatedWireCountAsSent) {
  LinkParams link;
  link.bandwidth_bps = 1e6;
  link.latency_s = 0.2;
  InProcPair p(link);
  Transport& a = *p.a;
  Message m = Gossip(1, 1, 5000);
  m.from = 0;  // as Send sets it (the sender id is part of the frame's size)
  const uint64_t wire = FrameWireBytes(m);
  ASSERT_TRUE(a.Send(std::move(m)).ok());
  TransportStats s = a.stats();  // the message is on a 0.2 s link
  EXPECT_EQ(s.bytes_sent, wire);
  EXPECT_EQ(s.messages_sent, 1u);
  ASSERT_TRUE(p.b->Receive(DeadlineIn(10)).ok());
  s = a.stats();
  EXPECT_EQ(s.bytes_sent, wire);
  EXPECT_EQ(s.messages_sent, 1u);
}

// Event-driven drivers: without an ingress limit the emulated link hands the message to the
// inner transport when it is due, which notifies then; with one, the emulator holds arrivals
// and notifies their release time at once (a driver arms a timer for it), and Receive gives
// the message from that time on, not before.
TEST(LinkEmulator, NotifiesArrivalsWithTheTimeTheyAreReady) {
  LinkParams link;
  link.bandwidth_bps = 4e6;
  link.latency_s = 0.02;
  for (const double ingress : {0.0, 1e6}) {
    auto spec = std::const_pointer_cast<TopologySpec>(Spec(2, link));
    spec->nodes[1].ingress_bps = ingress;
    InProcHub hub(2);
    auto a = MakeEmulatedTransport(hub.Endpoint(0), spec, 0, 1);
    auto b = MakeEmulatedTransport(hub.Endpoint(1), spec, 1, 1);
    std::mutex mu;
    std::vector<std::pair<TimePoint, TimePoint>> notified;  // (when, ready)
    ASSERT_TRUE(b->SetArrivalNotifier([&](TimePoint ready) {
      std::lock_guard<std::mutex> lock(mu);
      notified.emplace_back(Now(), ready);
    }));
    ASSERT_TRUE(a->Start(DeadlineIn(5)).ok());
    ASSERT_TRUE(b->Start(DeadlineIn(5)).ok());
    const TimePoint t0 = Now();
    ASSERT_TRUE(a->Send(Gossip(1, 1, 12500)).ok());  // 0.025 s at 4 Mbit/s; 0.1 s at 1 Mbit/s
    std::vector<std::pair<TimePoint, TimePoint>> seen;
    while (seen.empty() && Now() < t0 + std::chrono::seconds(5)) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::lock_guard<std::mutex> lock(mu);
      seen = notified;
    }
    ASSERT_EQ(seen.size(), 1u) << "ingress " << ingress;
    const auto [when, ready] = seen.front();
    const TimePoint due = std::max(when, ready);
    EXPECT_GE(Duration(due - t0).count(), ingress > 0 ? 0.1 : 0.045) << "ingress " << ingress;
    if (ingress > 0 && Now() < ready) {
      EXPECT_EQ(b->Receive(Now()).status().code(), StatusCode::kDeadlineExceeded)
          << "held until its release time";
    }
    std::this_thread::sleep_until(due);
    EXPECT_TRUE(b->Receive(Now()).ok()) << "ingress " << ingress;
  }
}

TEST(LinkEmulator, TcpMessageArrivesAfterLatencyPlusSizeOverBandwidth) {
  LinkParams link;
  link.bandwidth_bps = 8e6;
  link.latency_s = 0.03;
  auto spec = Spec(2, link);
  // Two free loopback ports.
  std::vector<uint16_t> ports;
  std::vector<int> fds;
  for (int i = 0; i < 2; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ports.push_back(ntohs(addr.sin_port));
    fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  std::vector<std::unique_ptr<Transport>> ts;
  for (int i = 0; i < 2; ++i) {
    TcpTransportOptions o;
    o.self = i;
    o.addresses = {{"127.0.0.1", ports[0]}, {"127.0.0.1", ports[1]}};
    o.neighbors = {1 - i};
    o.handshake.cluster_id = "emu";
    auto t = MakeTcpTransport(o);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    ts.push_back(MakeEmulatedTransport(std::move(t).value(), spec, i, 1));
  }
  auto started = std::async(std::launch::async, [&] { return ts[1]->Start(DeadlineIn(20)); });
  ASSERT_TRUE(ts[0]->Start(DeadlineIn(20)).ok());
  ASSERT_TRUE(started.get().ok());
  const auto [measured, expected] = TimeOneMessage(*ts[0], *ts[1], link, 100000);  // ~0.13 s
  EXPECT_GE(measured, expected * 0.97);
  EXPECT_LE(measured, expected + 0.25);
  for (auto& t : ts) EXPECT_TRUE(t->Shutdown(DeadlineIn(5)).ok());
}

TEST(LinkEmulator, KeepsOrderUnderJitterAndDeliversEverythingBeforeShutdownReturns) {
  LinkParams link;
  link.latency_s = 0.005;
  link.jitter_s = 0.02;
  link.bandwidth_bps = 50e6;
  auto spec = Spec(2, link);
  InProcHub hub(2);
  auto a = MakeEmulatedTransport(hub.Endpoint(0), spec, 0, 3);
  auto b = MakeEmulatedTransport(hub.Endpoint(1), spec, 1, 3);
  for (int r = 1; r <= 100; ++r) ASSERT_TRUE(a->Send(Gossip(1, r, 200)).ok());
  Message done;
  done.kind = MessageKind::kDone;
  done.to = 1;
  ASSERT_TRUE(a->Send(std::move(done)).ok());
  ASSERT_TRUE(a->Shutdown(DeadlineIn(20)).ok());
  for (int r = 1; r <= 100; ++r) {
    Result<Message> m = b->Receive(DeadlineIn(10));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(m->round, r);
  }
  EXPECT_EQ(b->Receive(DeadlineIn(10))->kind, MessageKind::kDone);
}

TEST(LinkEmulator, IngressCapacityDelaysTheReceiver) {
  LinkParams link;
  link.latency_s = 0.01;
  auto spec = std::const_pointer_cast<TopologySpec>(Spec(3, link));
  spec->nodes[2].ingress_bps = 2e6;  // 40 kB in ~0.16 s
  InProcHub hub(3);
  auto a = MakeEmulatedTransport(hub.Endpoint(0), spec, 0, 1);
  auto b = MakeEmulatedTransport(hub.Endpoint(1), spec, 1, 1);
  auto c = MakeEmulatedTransport(hub.Endpoint(2), spec, 2, 1);
  for (auto* t : {a.get(), b.get(), c.get()}) ASSERT_TRUE(t->Start(DeadlineIn(5)).ok());
  const TimePoint t0 = Now();
  ASSERT_TRUE(a->Send(Gossip(2, 1, 20000)).ok());
  ASSERT_TRUE(b->Send(Gossip(2, 1, 20000)).ok());
  for (int k = 0; k < 2; ++k) ASSERT_TRUE(c->Receive(DeadlineIn(10)).ok());
  const double measured = SecondsSince(t0);
  EXPECT_GE(measured, 0.01 + 8 * 40000 / 2e6 * 0.95);
  EXPECT_LE(measured, 0.01 + 8 * 40100 / 2e6 + 0.25);
}

// An inner transport whose Send throws, as an allocation failure would: the emulator's scheduler
// thread must not let it escape (std::terminate) but report it through Receive and Send.
class ThrowingTransport final : public Transport {
 public:
  Status Start(TimePoint) override { return Status::Ok(); }
  Status Send(Message) override { throw std::bad_alloc(); }
  Result<Message> Receive(TimePoint deadline) override {
    std::this_thread::sleep_until(std::min(deadline, DeadlineIn(0.05)));
    return DeadlineExceeded("nothing");
  }
  Status Shutdown(TimePoint) override { return Status::Ok(); }
  TransportStats stats() const override { return {}; }
};

TEST(LinkEmulator, ExceptionInTheSchedulerThreadIsReportedNotFatal) {
  LinkParams link;
  link.latency_s = 0.001;
  auto t = MakeEmulatedTransport(std::make_unique<ThrowingTransport>(), Spec(2, link), 0, 1);
  ASSERT_TRUE(t->Start(DeadlineIn(1)).ok());
  ASSERT_TRUE(t->Send(Gossip(1, 1, 10)).ok());
  Status seen;
  const TimePoint deadline = DeadlineIn(10);
  while (seen.ok() && Now() < deadline) {
    Result<Message> r = t->Receive(DeadlineIn(0.1));
    if (!r.ok() && r.status().code() != StatusCode::kDeadlineExceeded) seen = r.status();
  }
  ASSERT_EQ(seen.code(), StatusCode::kInternal) << seen.ToString();
  EXPECT_NE(seen.message().find("scheduler thread failed"), std::string::npos) << seen.message();
  EXPECT_EQ(t->Send(Gossip(1, 2, 10)).code(), StatusCode::kInternal);
  (void)t->Shutdown(DeadlineIn(1));
}

}  // namespace
}  // namespace hearsay
