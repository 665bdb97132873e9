// Reconnect and exactly-once delivery of the TCP transport (docs/wire_format.md "Reconnect"):
// links run through a fault-injecting proxy (tests/runtime/tcp_proxy.h) that cuts every
// connection mid-stream, losing whatever was in flight; the transports redial, resend what was
// not acknowledged and drop duplicates, so each side receives every message exactly once, in
// order, numbered 1, 2, ... across the connections.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "runtime/transport/tcp/tcp_transport.h"
#include "tests/runtime/tcp_proxy.h"
#include "tests/runtime/transport/tcp_test_util.h"

namespace hearsay {
namespace {

using test::FreePorts;
using test::Gossip;
using test::Make;
using test::Options;
using testing_util::TcpProxy;

// The stream count of the test (1, or 3 connections per link: TEST_P).
int g_streams = 1;

// Message r of the stream from `from`: its size varies so that cuts land mid-frame; with several
// streams every fifth message is striped (2 or 3 parts), so that cuts also land between the
// parts of a message.
size_t SizeOf(int from, int64_t r) {
  if (g_streams > 1 && r % 5 == 0) return 140000 + static_cast<size_t>((r * 7919 + from) % 300000);
  return 100 + static_cast<size_t>((r * 7919 + from) % 40000);
}

// Peer 0 dials peer 1 through a proxy: 0's address book says peer 1 is at the proxy's port, and
// peer 1 listens on its real port (bind).
struct ProxiedPair {
  std::vector<uint16_t> ports = FreePorts(3);  // peer 0, peer 1 (real), proxy
  std::unique_ptr<TcpProxy> proxy = std::make_unique<TcpProxy>(ports[2], ports[1]);
  TcpTransportOptions Opt(int self) const {
    TcpTransportOptions o = Options(self, {ports[0], ports[2]}, {1 - self});
    o.bind.port = self == 1 ? ports[1] : 0;
    o.connect_backoff_max_s = 0.2;
    o.reconnect_grace_s = 0.3;
    o.streams = g_streams;
    return o;
  }
};

// Two transports linked through the proxy, started.
class TcpReconnect : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    g_streams = GetParam();
    ASSERT_TRUE(p.proxy->ok());
    ts.push_back(Make(p.Opt(0)));
    ts.push_back(Make(p.Opt(1)));
    for (const Status& s : test::StartAll(ts, 20)) ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ProxiedPair p;
  std::vector<std::unique_ptr<Transport>> ts;
};

// Receives `count` messages from `from`, checking order, numbering and contents; kLinkDown
// notices (tag 1: the link may return) are counted, not treated as messages.
std::string ReceiveStream(Transport& t, int from, int64_t count, int* link_downs) {
  for (int64_t r = 1; r <= count;) {
    Result<Message> m = t.Receive(DeadlineIn(30));
    if (!m.ok()) return "message " + std::to_string(r) + ": " + m.status().ToString();
    if (m->kind == MessageKind::kLinkDown) {
      if (m->tag != 1) return "the link was reported down for good";
      ++*link_downs;
      continue;
    }
    if (m->from != from) return "message from peer " + std::to_string(m->from);
    if (m->round != r) {
      return "round " + std::to_string(m->round) + " where " + std::to_string(r) +
             " was due (lost or duplicated)";
    }
    if (m->seq != static_cast<uint64_t>(r)) {
      return "sequence number " + std::to_string(m->seq) + " for message " + std::to_string(r);
    }
    const Message want = Gossip(1 - from, r, SizeOf(from, r));
    if (m->payload != want.payload) return "payload of message " + std::to_string(r) + " differs";
    ++r;
  }
  return "";
}

TEST_P(TcpReconnect, EveryMessageArrivesExactlyOnceAcrossCuts) {
  p.proxy->SetPaceMs(1);  // about 64 MB/s: the senders outrun it, so frames are in flight

  constexpr int64_t kMessages = 600;
  std::atomic<int64_t> progress{0};
  std::vector<std::string> failures(2);
  std::vector<int> link_downs(2, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      for (int64_t r = 1; r <= kMessages; ++r) {
        const Status s = ts[i]->Send(Gossip(1 - i, r, SizeOf(i, r)));
        if (!s.ok()) {
          failures[i] = "send " + std::to_string(r) + ": " + s.ToString();
          return;
        }
        if (i == 0) progress = r;
        if (r % 8 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    threads.emplace_back(
        [&, i] { failures[i] += ReceiveStream(*ts[i], 1 - i, kMessages, &link_downs[i]); });
  }
  // Four cuts spread over the stream, each while messages are in flight both ways, and each on
  // the connection redialed after the one before.
  int cut = 0;
  for (int64_t at : {100, 220, 340, 460}) {
    while (progress.load() < at || p.proxy->connections() <= cut) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    cut += p.proxy->Cut();
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures[0], "");
  EXPECT_EQ(failures[1], "");
  EXPECT_GE(cut, 4);
  EXPECT_GE(p.proxy->connections(), 5);  // it redialed after each cut
  // Messages were in flight at the cuts: some were written again on the next connection.
  EXPECT_GT(ts[0]->stats().messages_resent + ts[1]->stats().messages_resent, 0u)
      << "no message was resent: the cuts hit idle links";
  // The links stayed usable: DONE both ways ends them cleanly.
  EXPECT_EQ(test::EndBothWays(ts, kMessages + 1), "");
  for (auto& t : ts) EXPECT_TRUE(t->Shutdown(DeadlineIn(10)).ok());
}

// While the link cannot be re-established, messages wait (bounded); Receive hears after the
// grace period that the link is down but may return; once the far end is reachable again the
// waiting messages arrive, exactly once and in order.
TEST_P(TcpReconnect, MessagesSentWhileTheLinkIsDownArriveWhenItReturns) {
  for (int64_t r = 1; r <= 10; ++r) ASSERT_TRUE(ts[0]->Send(Gossip(1, r, SizeOf(0, r))).ok());
  int downs = 0;
  ASSERT_EQ(ReceiveStream(*ts[1], 0, 10, &downs), "");

  p.proxy->SetTarget(0);  // the far end is unreachable: connections through the proxy die
  p.proxy->Cut();
  for (int64_t r = 11; r <= 30; ++r) ASSERT_TRUE(ts[0]->Send(Gossip(1, r, SizeOf(0, r))).ok());
  for (int i = 0; i < 2; ++i) {
    Result<Message> m = ts[i]->Receive(DeadlineIn(10));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->kind, MessageKind::kLinkDown);
    EXPECT_EQ(m->tag, 1u) << "reported down for good";
    const std::string why(m->payload.begin(), m->payload.end());
    EXPECT_NE(why.find("still trying"), std::string::npos) << why;
  }
  p.proxy->SetTarget(p.ports[1]);
  downs = 0;
  // Messages 1..10 came before; the stream resumes at 11.
  for (int64_t r = 11; r <= 30; ++r) {
    Result<Message> m = ts[1]->Receive(DeadlineIn(20));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(m->kind, MessageKind::kGossip);
    EXPECT_EQ(m->round, r);
    EXPECT_EQ(m->seq, static_cast<uint64_t>(r));
    EXPECT_EQ(m->payload, Gossip(1, r, SizeOf(0, r)).payload);
  }
  EXPECT_TRUE(ts[1]->Send(Gossip(0, 1, 10)).ok());
  Result<Message> back = ts[0]->Receive(DeadlineIn(20));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->seq, 1u);
  for (auto& t : ts) EXPECT_TRUE(t->Shutdown(DeadlineIn(10)).ok());
}

// A restarted peer -- a new process with the same id -- is a new incarnation: the neighbour
// reports the old one down for good, drops what was queued for it, and numbers the new link
// from 1.
TEST_P(TcpReconnect, ARestartedPeerIsANewIncarnation) {
  for (int64_t r = 1; r <= 5; ++r) ASSERT_TRUE(ts[1]->Send(Gossip(0, r, SizeOf(1, r))).ok());
  int downs = 0;
  ASSERT_EQ(ReceiveStream(*ts[0], 1, 5, &downs), "");

  // "Kill" peer 1: its connection dies without a goodbye and new ones go to a new process.
  const uint16_t new_port = FreePorts(1)[0];
  p.proxy->SetTarget(new_port);
  p.proxy->Cut();
  ASSERT_TRUE(ts[0]->Send(Gossip(1, 6, 50)).ok());  // queued for the old process: dropped
  TcpTransportOptions o1 = p.Opt(1);
  o1.bind.port = new_port;
  auto restarted = Make(o1);
  ASSERT_TRUE(restarted->Start(DeadlineIn(20)).ok());
  bool down_for_good = false;
  while (true) {
    Result<Message> m = ts[0]->Receive(DeadlineIn(20));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(m->kind, MessageKind::kLinkDown);
    if (m->tag == 0) {
      const std::string why(m->payload.begin(), m->payload.end());
      EXPECT_NE(why.find("peer 1 restarted"), std::string::npos) << why;
      down_for_good = true;
      break;
    }
  }
  EXPECT_TRUE(down_for_good);
  ASSERT_TRUE(restarted->Send(Gossip(0, 1, SizeOf(1, 1))).ok());
  Result<Message> m = ts[0]->Receive(DeadlineIn(20));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->kind, MessageKind::kGossip);
  EXPECT_EQ(m->seq, 1u);
  EXPECT_EQ(m->round, 1);
  ASSERT_TRUE(ts[0]->Send(Gossip(1, 7, 60)).ok());
  Result<Message> r = restarted->Receive(DeadlineIn(20));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->round, 7) << "the message queued for the old process reached the new one";
  EXPECT_EQ(r->seq, 1u);
  EXPECT_TRUE(restarted->Shutdown(DeadlineIn(5)).ok());
  for (auto& t : ts) (void)t->Shutdown(DeadlineIn(5));
}

INSTANTIATE_TEST_SUITE_P(Streams, TcpReconnect, ::testing::Values(1, 3),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "_streams";
                         });

}  // namespace
}  // namespace hearsay
