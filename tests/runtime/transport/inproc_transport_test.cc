// In-process transport (runtime/transport/inproc/inproc_transport.h).
#include "runtime/transport/inproc/inproc_transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace hearsay {
namespace {

Message Gossip(int to, int64_t round, uint8_t fill) {
  Message m;
  m.to = to;
  m.round = round;
  m.payload.assign(16, fill);
  return m;
}

TEST(InProcTransport, DeliversInSendOrderAcrossThreads) {
  InProcHub hub(2);
  auto a = hub.Endpoint(0);
  auto b = hub.Endpoint(1);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Start(DeadlineIn(1)).ok());
  ASSERT_TRUE(b->Start(DeadlineIn(1)).ok());
  std::thread sender([&] {
    for (int r = 1; r <= 200; ++r) ASSERT_TRUE(a->Send(Gossip(1, r, r & 0xff)).ok());
  });
  for (int r = 1; r <= 200; ++r) {
    Result<Message> m = b->Receive(DeadlineIn(10));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->round, r);
    EXPECT_EQ(m->from, 0);
    EXPECT_EQ(m->payload[0], r & 0xff);
  }
  sender.join();
  EXPECT_EQ(a->stats().messages_sent, 200u);
  EXPECT_EQ(b->stats().messages_received, 200u);
  EXPECT_EQ(a->stats().bytes_sent, b->stats().bytes_received);
  EXPECT_GT(a->stats().bytes_sent, 200u * 16);  // framing is counted
}

// Event-driven drivers learn of arrivals through the notifier: once per message or link-down
// notice, before Receive can return it; never after Shutdown.
TEST(InProcTransport, NotifiesEachArrivalUntilShutdown) {
  InProcHub hub(3);
  auto a = hub.Endpoint(0);
  auto b = hub.Endpoint(1);
  auto c = hub.Endpoint(2);
  std::atomic<int> calls{0};
  std::atomic<bool> ready_was_past{true};
  ASSERT_TRUE(b->SetArrivalNotifier([&](TimePoint ready) {
    ++calls;
    if (ready > Now()) ready_was_past = false;
  }));
  ASSERT_TRUE(a->Send(Gossip(1, 1, 1)).ok());
  ASSERT_TRUE(a->Send(Gossip(1, 2, 2)).ok());
  EXPECT_EQ(calls.load(), 2);
  EXPECT_TRUE(ready_was_past.load()) << "in-process arrivals are ready at once";
  ASSERT_TRUE(b->Receive(Now()).ok());
  ASSERT_TRUE(b->Receive(Now()).ok());
  ASSERT_TRUE(c->Send(Gossip(1, 1, 3)).ok());
  c.reset();  // left without DONE: a link-down notice is an arrival too
  EXPECT_EQ(calls.load(), 4);
  ASSERT_TRUE(b->Shutdown(Now()).ok());
  ASSERT_TRUE(a->Send(Gossip(1, 3, 4)).ok());
  EXPECT_EQ(calls.load(), 4) << "no notification after shutdown";
}

TEST(InProcTransport, RejectsUnknownPeerAndSecondEndpoint) {
  InProcHub hub(2);
  auto a = hub.Endpoint(0);
  EXPECT_EQ(hub.Endpoint(0), nullptr);
  EXPECT_EQ(hub.Endpoint(5), nullptr);
  EXPECT_EQ(a->Send(Gossip(7, 1, 0)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a->Send(Gossip(0, 1, 0)).code(), StatusCode::kInvalidArgument);
}

TEST(InProcTransport, ReceiveTimesOutWhenNothingArrives) {
  InProcHub hub(2);
  auto a = hub.Endpoint(0);
  Result<Message> m = a->Receive(DeadlineIn(0.05));
  EXPECT_EQ(m.status().code(), StatusCode::kDeadlineExceeded);
}

TEST(InProcTransport, PeerLeavingWithoutDoneSurfacesAsLinkDown) {
  InProcHub hub(3);
  auto a = hub.Endpoint(0);
  auto b = hub.Endpoint(1);
  auto c = hub.Endpoint(2);
  ASSERT_TRUE(b->Send(Gossip(0, 1, 1)).ok());
  Message done;
  done.kind = MessageKind::kDone;
  done.to = 0;
  ASSERT_TRUE(c->Send(Gossip(0, 1, 2)).ok());
  ASSERT_TRUE(c->Send(done).ok());
  ASSERT_TRUE(b->Shutdown(DeadlineIn(1)).ok());
  ASSERT_TRUE(c->Shutdown(DeadlineIn(1)).ok());
  ASSERT_TRUE(a->Receive(DeadlineIn(1)).ok());  // b's gossip
  ASSERT_TRUE(a->Receive(DeadlineIn(1)).ok());  // c's gossip
  ASSERT_TRUE(a->Receive(DeadlineIn(1)).ok());  // c's DONE
  Result<Message> broken = a->Receive(DeadlineIn(1));
  ASSERT_TRUE(broken.ok()) << broken.status().ToString();
  EXPECT_EQ(broken->kind, MessageKind::kLinkDown);
  EXPECT_EQ(broken->from, 1);
  const std::string why(broken->payload.begin(), broken->payload.end());
  EXPECT_NE(why.find("peer 1"), std::string::npos) << why;
  EXPECT_EQ(a->Receive(DeadlineIn(0.05)).status().code(), StatusCode::kDeadlineExceeded);
}

TEST(InProcTransport, ReceiveAfterShutdownIsCancelled) {
  InProcHub hub(2);
  auto a = hub.Endpoint(0);
  ASSERT_TRUE(a->Shutdown(DeadlineIn(1)).ok());
  ASSERT_TRUE(a->Shutdown(DeadlineIn(1)).ok());  // idempotent
  EXPECT_EQ(a->Receive(DeadlineIn(1)).status().code(), StatusCode::kCancelled);
  EXPECT_EQ(a->Send(Gossip(1, 1, 0)).code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace hearsay
