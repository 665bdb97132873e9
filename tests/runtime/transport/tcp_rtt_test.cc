// Round-trip probes of the TCP transport: each open link pings its neighbour and keeps a smoothed
// RTT (TransportStats::rtt_s); the probes never reach Receive, are not in the byte and message
// counts, and do not disturb the messages' own sequence numbers.
#include <gtest/gtest.h>

#include <thread>

#include "runtime/transport/tcp/tcp_transport.h"
#include "tests/runtime/transport/tcp_test_util.h"

namespace hearsay {
namespace {

using namespace test;  // NOLINT: the helpers of tcp_test_util.h

TEST(TcpRtt, ProbesMeasureTheLoopbackRoundTripAndStayOutOfTheMessages) {
  const auto ports = FreePorts(2);
  auto oa = Options(0, ports, {1});
  auto ob = Options(1, ports, {0});
  oa.ping_interval_s = ob.ping_interval_s = 0.02;
  std::vector<std::unique_ptr<Transport>> ts;
  ts.push_back(Make(oa));
  ts.push_back(Make(ob));
  for (const Status& s : StartAll(ts, 20)) ASSERT_TRUE(s.ok()) << s.ToString();
  Transport& a = *ts[0];
  Transport& b = *ts[1];
  // About 25 probes each way; none of them is a message.
  const TimePoint until = DeadlineIn(0.5);
  while (Now() < until) {
    Result<Message> m = a.Receive(DeadlineIn(0.05));
    ASSERT_FALSE(m.ok()) << "a probe reached Receive: kind " << static_cast<int>(m->kind);
    EXPECT_EQ(m.status().code(), StatusCode::kDeadlineExceeded);
  }
  for (auto [t, other] : {std::pair{&a, 1}, std::pair{&b, 0}}) {
    const TransportStats st = t->stats();
    ASSERT_EQ(st.rtt_s.count(other), 1u);
    const double rtt = st.rtt_s.at(other);
    EXPECT_GT(rtt, 0);
    EXPECT_LT(rtt, 0.25);  // loopback: microseconds idle, well below this on a loaded machine
    EXPECT_EQ(st.bytes_sent, 0u);
    EXPECT_EQ(st.messages_sent, 0u);
    EXPECT_EQ(st.bytes_received, 0u);
  }
  // Messages sent among the probes arrive numbered 1, 2, 3 as without them.
  for (int r = 1; r <= 3; ++r) {
    ASSERT_TRUE(a.Send(Gossip(1, r, 100 + r)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  for (int r = 1; r <= 3; ++r) {
    Result<Message> m = b.Receive(DeadlineIn(10));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->kind, MessageKind::kGossip);
    EXPECT_EQ(m->round, r);
    EXPECT_EQ(m->seq, static_cast<uint64_t>(r));
    EXPECT_EQ(m->payload, Gossip(1, r, 100 + r).payload);
  }
  EXPECT_EQ(a.stats().messages_sent, 3u);
  Message done;
  done.kind = MessageKind::kDone;
  done.to = 1;
  ASSERT_TRUE(a.Send(std::move(done)).ok());
  Message done_b;
  done_b.kind = MessageKind::kDone;
  done_b.to = 0;
  ASSERT_TRUE(b.Send(std::move(done_b)).ok());
  Result<Message> last = b.Receive(DeadlineIn(10));
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->kind, MessageKind::kDone);
  last = a.Receive(DeadlineIn(10));
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->kind, MessageKind::kDone);
  EXPECT_TRUE(a.Shutdown(DeadlineIn(5)).ok());
  EXPECT_TRUE(b.Shutdown(DeadlineIn(5)).ok());
}

TEST(TcpRtt, NoProbesWhenTurnedOffAndABadIntervalIsRefused) {
  const auto ports = FreePorts(2);
  auto oa = Options(0, ports, {1});
  auto ob = Options(1, ports, {0});
  oa.ping_interval_s = ob.ping_interval_s = 0;
  std::vector<std::unique_ptr<Transport>> ts;
  ts.push_back(Make(oa));
  ts.push_back(Make(ob));
  for (const Status& s : StartAll(ts, 20)) ASSERT_TRUE(s.ok()) << s.ToString();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(ts[0]->stats().rtt_s.empty());
  EXPECT_TRUE(ts[1]->stats().rtt_s.empty());
  auto bad = Options(0, ports, {1});
  bad.ping_interval_s = -1;
  auto t = MakeTcpTransport(bad);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("ping_interval_s"), std::string::npos);
}

}  // namespace
}  // namespace hearsay
