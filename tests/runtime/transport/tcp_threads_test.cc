// Who runs the TCP transport's network (tcp_transport.h, "Threading"): the thread waiting in
// Receive while it waits, the transport's own I/O thread while nobody does. These tests check the
// hand-over both ways: a receiver that stops receiving (busy, announced or not) still has its
// links read, acknowledged and probed; several threads receiving at once each wake for what
// arrives; Shutdown ends a Receive in progress.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <thread>

#include "runtime/transport/tcp/tcp_transport.h"
#include "tests/runtime/transport/tcp_test_util.h"

namespace hearsay {
namespace {

using namespace test;  // NOLINT: the helpers of tcp_test_util.h

// Two started transports, 0 <-> 1, with options set by `tune`.
template <typename Tune>
std::vector<std::unique_ptr<Transport>> Pair(Tune tune) {
  const auto ports = FreePorts(2);
  auto oa = Options(0, ports, {1});
  auto ob = Options(1, ports, {0});
  tune(oa, ob);
  std::vector<std::unique_ptr<Transport>> ts;
  ts.push_back(Make(oa));
  ts.push_back(Make(ob));
  for (const Status& s : StartAll(ts, 20)) EXPECT_TRUE(s.ok()) << s.ToString();
  return ts;
}

// The sender may have at most 1 MiB unacknowledged; it sends 8 MiB while the receiver, after a
// Receive that waited (and so took the network from the I/O thread), sleeps for 3 s. Unless
// the receiver's I/O thread takes the network back, nothing is read or acknowledged and the
// sender blocks for the whole sleep. Then every message arrives, in order.
void ExpectSendsDrainWhileTheReceiverSleeps(bool announce) {
  auto ts = Pair([](TcpTransportOptions& a, TcpTransportOptions& b) {
    a.max_queued_bytes = 1 << 20;
    a.send_timeout_s = 5;
  });
  Transport& a = *ts[0];
  Transport& b = *ts[1];
  ASSERT_TRUE(a.Send(Gossip(1, 1, 100)).ok());
  Result<Message> first = b.Receive(DeadlineIn(10));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // A Receive that waits (nothing else comes) runs the network itself.
  ASSERT_EQ(b.Receive(DeadlineIn(0.05)).status().code(), StatusCode::kDeadlineExceeded);
  constexpr int kMessages = 32;
  std::atomic<bool> sent_all{false};
  std::thread receiver([&] {
    if (announce) b.WillBeBusy(std::numeric_limits<double>::infinity());
    const TimePoint until = DeadlineIn(3);
    while (Now() < until && !sent_all.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const TimePoint t0 = Now();
  Status sent;
  for (int i = 0; i < kMessages && sent.ok(); ++i) sent = a.Send(Gossip(1, i + 2, 256 << 10));
  const double took = SecondsSince(t0);
  sent_all = true;
  receiver.join();
  ASSERT_TRUE(sent.ok()) << sent.ToString();
  EXPECT_LT(took, 2.0) << "the sender waited for a receiver that was not receiving";
  for (int i = 0; i < kMessages; ++i) {
    Result<Message> m = b.Receive(DeadlineIn(10));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->round, i + 2);
    EXPECT_EQ(m->payload, Gossip(1, i + 2, 256 << 10).payload);
  }
}

TEST(TcpThreads, AnAnnouncedBusyReceiverStillReadsAndAcknowledges) {
  ExpectSendsDrainWhileTheReceiverSleeps(/*announce=*/true);
}

TEST(TcpThreads, AReceiverThatStopsReceivingUnannouncedStillReadsAndAcknowledges) {
  ExpectSendsDrainWhileTheReceiverSleeps(/*announce=*/false);
}

// Round-trip probes are answered by whoever runs the network: with neither side receiving after
// their first message, both keep measuring the link.
TEST(TcpThreads, ProbesAreAnsweredWhileNobodyReceives) {
  auto ts = Pair([](TcpTransportOptions& a, TcpTransportOptions& b) {
    a.ping_interval_s = b.ping_interval_s = 0.02;
  });
  for (int i : {0, 1}) {
    ASSERT_TRUE(ts[i]->Send(Gossip(1 - i, 1, 10)).ok());
  }
  for (int i : {0, 1}) {
    ASSERT_TRUE(ts[i]->Receive(DeadlineIn(10)).ok());
    ASSERT_FALSE(ts[i]->Receive(DeadlineIn(0.05)).ok());  // waits: runs the network itself
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::map<int, double> before = ts[0]->stats().rtt_s;
  ASSERT_EQ(before.count(1), 1u);
  // Smoothed RTT samples keep coming (the value changes) with no Receive anywhere.
  bool changed = false;
  for (int i = 0; i < 100 && !changed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    changed = ts[0]->stats().rtt_s.at(1) != before.at(1);
  }
  EXPECT_TRUE(changed) << "no round-trip sample in 2 s without a Receive";
}

// Two threads receive from one transport at once (as a peer's serving thread and the
// emulator's pump might): each message goes to exactly one of them, promptly, whichever of them
// runs the network when it arrives. The sender sends the next message only once the last was
// received, so a receiver left asleep inside the network would stall the exchange until its
// 3 s deadline.
TEST(TcpThreads, SeveralReceiversEachWakeForWhatArrives) {
  auto ts = Pair([](TcpTransportOptions&, TcpTransportOptions&) {});
  constexpr int kMessages = 200;
  std::atomic<int> received{0};
  std::atomic<int> timeouts{0};
  std::vector<int> rounds[2];
  std::vector<std::thread> receivers;
  for (int r = 0; r < 2; ++r) {
    receivers.emplace_back([&, r] {
      while (received.load() < kMessages) {
        Result<Message> m = ts[1]->Receive(DeadlineIn(3));
        if (!m.ok()) {
          if (received.load() < kMessages) ++timeouts;
          continue;
        }
        if (m->kind != MessageKind::kGossip) continue;  // the sender's FAILED at its Shutdown
        rounds[r].push_back(static_cast<int>(m->round));
        ++received;
      }
    });
  }
  const TimePoint t0 = Now();
  for (int i = 0; i < kMessages; ++i) {
    const Status s = ts[0]->Send(Gossip(1, i + 1, 64));
    EXPECT_TRUE(s.ok()) << s.ToString();
    const TimePoint until = DeadlineIn(10);
    while (received.load() <= i && Now() < until) std::this_thread::yield();
    if (received.load() <= i) {
      ADD_FAILURE() << "message " << i + 1 << " was not received";
      break;
    }
  }
  const double took = SecondsSince(t0);
  // Wake the receivers that still wait (their Receive then ends with Cancelled).
  ASSERT_TRUE(ts[0]->Shutdown(DeadlineIn(5)).ok());
  (void)ts[1]->Shutdown(DeadlineIn(5));
  for (auto& t : receivers) t.join();
  EXPECT_EQ(timeouts.load(), 0);
  EXPECT_LT(took, 2.5) << "a receiver slept through an arrival";
  std::vector<int> all = rounds[0];
  all.insert(all.end(), rounds[1].begin(), rounds[1].end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(all[i], i + 1);
}

// A neighbour that sends a frame one byte at a time keeps the receiving thread busy with a
// handler per byte; Receive still returns at its deadline (the peer's stop flag and timers depend
// on it), and the message, once whole, arrives intact.
TEST(TcpThreads, AFrameTricklingInDoesNotKeepReceivePastItsDeadline) {
  const auto ports = FreePorts(2);
  auto a = Make(Options(0, ports, {1}));
  std::unique_ptr<RawPeer> raw = StartAgainstRawPeer(*a, ports[1]);
  ASSERT_TRUE(raw);
  const ByteBuffer payload(64, 7);
  // About 130 bytes, 3 ms apart: some 0.4 s for the frame.
  std::thread writer(
      [&] { raw->WriteMacd(raw->NextMessage(1), payload, false, std::chrono::milliseconds(3)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // bytes are flowing
  const TimePoint t0 = Now();
  Result<Message> early = a->Receive(DeadlineIn(0.05));
  const double took = SecondsSince(t0);
  EXPECT_EQ(early.status().code(), StatusCode::kDeadlineExceeded) << early.status().ToString();
  EXPECT_LT(took, 0.2) << "Receive overran its 50 ms deadline";
  writer.join();
  Result<Message> m = a->Receive(DeadlineIn(5));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->round, 1);
  EXPECT_EQ(m->payload, payload);
}

// A large frame read at full speed keeps the receiving thread busy with a handler per chunk,
// each ready at once; Receive still returns at its deadline (the peer's stop flag and timers
// depend on it), and the message arrives whole at a later Receive.
TEST(TcpThreads, ALargeFrameBeingReadDoesNotKeepReceivePastItsDeadline) {
  const auto ports = FreePorts(2);
  auto a = Make(Options(0, ports, {1}));
  std::unique_ptr<RawPeer> raw = StartAgainstRawPeer(*a, ports[1]);
  ASSERT_TRUE(raw);
  ByteBuffer payload(96u << 20);
  for (size_t i = 0; i < payload.size(); i += 4096) payload[i] = static_cast<uint8_t>(i >> 12);
  const ByteBuffer frame = raw->MacdFrame(raw->NextMessage(1), payload);
  std::thread writer([&] { raw->Write(frame); });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // bytes are flowing
  const TimePoint t0 = Now();
  Result<Message> early = a->Receive(DeadlineIn(0.005));
  const double took = SecondsSince(t0);
  writer.join();
  EXPECT_EQ(early.status().code(), StatusCode::kDeadlineExceeded)
      << (early.ok() ? "the whole 96 MiB message arrived within 5 ms?" : early.status().ToString());
  EXPECT_LT(took, 0.5);
  Result<Message> m = a->Receive(DeadlineIn(10));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->round, 1);
  EXPECT_TRUE(m->payload == payload);
}

// Shutdown from another thread ends a Receive that is running the network, at once.
TEST(TcpThreads, ShutdownEndsAReceiveInProgress) {
  auto ts = Pair([](TcpTransportOptions&, TcpTransportOptions&) {});
  Status got;
  std::thread receiver([&] { got = ts[1]->Receive(DeadlineIn(30)).status(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const TimePoint t0 = Now();
  (void)ts[1]->Shutdown(DeadlineIn(1));
  receiver.join();
  EXPECT_LT(SecondsSince(t0), 5.0);
  EXPECT_EQ(got.code(), StatusCode::kCancelled) << got.ToString();
}

}  // namespace
}  // namespace hearsay
