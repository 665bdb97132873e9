// The pure link model (runtime/emulator/link_model.h), in virtual time: exact figures.
#include "runtime/emulator/link_model.h"

#include <gtest/gtest.h>

namespace hearsay {
namespace {

LinkModelConfig Config(LinkParams params, double egress_bps = 0) {
  LinkModelConfig c;
  c.self = 0;
  c.seed = 42;
  c.egress_bps = egress_bps;
  c.link = [params](int, double, int64_t) { return params; };
  return c;
}

// Runs the model to completion; arrival time of each id.
std::map<uint64_t, double> Drain(LinkModel& model) {
  std::map<uint64_t, double> out;
  for (int guard = 0; guard < 100000 && !model.idle(); ++guard) {
    for (const Delivery& d : model.AdvanceTo(model.NextEventTime())) out[d.id] = d.arrival_s;
  }
  EXPECT_TRUE(model.idle());
  return out;
}

TEST(LinkModel, IdleLinkArrivesAfterLatencyPlusSerialization) {
  LinkParams p;
  p.bandwidth_bps = 8e6;  // 1 MB/s
  p.latency_s = 0.02;
  LinkModel model(Config(p));
  const uint64_t id = model.Submit(1.0, 1, 500000);
  EXPECT_EQ(model.AdvanceTo(1.51).size(), 0u);  // still transmitting / propagating
  auto arrivals = Drain(model);
  EXPECT_NEAR(arrivals.at(id), 1.0 + 0.02 + 0.5, 1e-9);
}

TEST(LinkModel, UnlimitedLinkOnlyAddsLatency) {
  LinkParams p;
  p.latency_s = 0.1;
  LinkModel model(Config(p));
  model.Submit(0, 1, 1 << 20);
  EXPECT_NEAR(Drain(model).at(0), 0.1, 1e-12);
}

TEST(LinkModel, MessagesQueueBehindEachOtherOnOneLink) {
  LinkParams p;
  p.bandwidth_bps = 8000;  // 1000 B/s
  p.latency_s = 1;
  LinkModel model(Config(p));
  model.Submit(0, 1, 1000);
  model.Submit(0, 1, 500);
  auto a = Drain(model);
  EXPECT_NEAR(a.at(0), 2.0, 1e-9);
  EXPECT_NEAR(a.at(1), 2.5, 1e-9);
}

TEST(LinkModel, EgressIsSharedFairlyBetweenLinks) {
  LinkParams p;
  p.bandwidth_bps = 1e9;
  LinkModel model(Config(p, /*egress_bps=*/8000));
  model.Submit(0, 1, 1000);
  model.Submit(0, 2, 1000);
  auto a = Drain(model);
  // Each gets 4000 bit/s: both finish at 2 s (not 1 s and 2 s as a FIFO would).
  EXPECT_NEAR(a.at(0), 2.0, 1e-9);
  EXPECT_NEAR(a.at(1), 2.0, 1e-9);
}

TEST(LinkModel, SlowLinkLeavesItsUnusedEgressShareToOthers) {
  LinkModelConfig c;
  c.egress_bps = 8000;
  c.link = [](int to, double, int64_t) {
    LinkParams p;
    p.bandwidth_bps = to == 1 ? 2000 : 0;
    return p;
  };
  LinkModel model(c);
  model.Submit(0, 1, 250);  // 2000 bit at 2000 bit/s: 1 s
  model.Submit(0, 2, 750);  // 6000 bit at the remaining 6000 bit/s: 1 s
  auto a = Drain(model);
  EXPECT_NEAR(a.at(0), 1.0, 1e-9);
  EXPECT_NEAR(a.at(1), 1.0, 1e-9);
}

TEST(LinkModel, JitterIsBoundedSeededAndKeepsOrder) {
  LinkParams p;
  p.latency_s = 0.01;
  p.jitter_s = 0.05;
  auto run = [&](uint64_t seed) {
    LinkModelConfig c = Config(p);
    c.seed = seed;
    LinkModel model(c);
    for (int i = 0; i < 200; ++i) model.Submit(i * 0.001, 1, 100);
    return Drain(model);
  };
  auto a = run(7), b = run(7), c = run(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  double prev = 0, max_extra = 0;
  for (int i = 0; i < 200; ++i) {
    EXPECT_GE(a.at(i), prev) << "order lost at " << i;
    EXPECT_GE(a.at(i), i * 0.001 + 0.01 - 1e-12);
    max_extra = std::max(max_extra, a.at(i) - i * 0.001 - 0.01);
    prev = a.at(i);
  }
  EXPECT_GT(max_extra, 0.01);  // jitter happened
  EXPECT_LE(max_extra, 0.05 + 1e-9);
}

TEST(LinkModel, LossAddsRetransmissionDelay) {
  LinkParams p;
  p.latency_s = 0.01;
  p.bandwidth_bps = 1e9;
  auto total = [&](double loss) {
    LinkParams q = p;
    q.loss = loss;
    LinkModel model(Config(q));
    for (int i = 0; i < 50; ++i) model.Submit(i, 1, 100000);  // 70 segments each
    double sum = 0;
    for (auto& [id, t] : Drain(model)) sum += t - static_cast<double>(id);
    return sum / 50;
  };
  const double clean = total(0), lossy = total(0.05);
  EXPECT_NEAR(clean, 0.01 + 0.0008, 1e-6);
  // About 3.5 lost segments per message, 20 ms each.
  EXPECT_GT(lossy, clean + 0.03);
  EXPECT_LT(lossy, clean + 0.15);
}

TEST(LinkModel, DownLinkHoldsMessagesUntilItIsUp) {
  LinkModelConfig c;
  c.change_times = {5.0};
  c.link = [](int, double t, int64_t) {
    LinkParams p;
    p.bandwidth_bps = 8000;
    p.up = t >= 5.0;
    return p;
  };
  LinkModel model(c);
  model.Submit(1.0, 1, 1000);
  EXPECT_NEAR(Drain(model).at(0), 6.0, 1e-9);
}

// A link down from round 3 to round 5 (a partition of the fault schedule): what it held goes out
// once the sender's latest round -- its newest message to anyone -- reaches 5, not when a
// message of round 5 reaches the head of this link's queue.
TEST(LinkModel, RoundBasedDownLinkFollowsTheSendersLatestRound) {
  LinkModelConfig c;
  c.link = [](int to, double, int64_t round) {
    LinkParams p;  // unlimited bandwidth, no latency
    p.up = to != 1 || round < 3 || round >= 5;
    return p;
  };
  LinkModel model(c);
  const uint64_t held = model.Submit(1.0, 1, 1000, 3);
  model.Submit(1.0, 2, 1000, 3);  // another link: not cut
  std::vector<Delivery> out = model.AdvanceTo(2.0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, 2);
  model.Submit(2.0, 2, 1000, 4);
  EXPECT_EQ(model.AdvanceTo(3.0).size(), 1u);  // round 4: still cut
  model.Submit(3.0, 2, 1000, 5);               // round 5 on the other link: the cut heals
  out = model.AdvanceTo(3.0);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].id, held);
  EXPECT_EQ(out[0].to, 1);
  EXPECT_DOUBLE_EQ(out[0].arrival_s, 3.0);
}

TEST(LinkModel, BandwidthChangeMidMessageIsApplied) {
  LinkModelConfig c;
  c.change_times = {1.0};
  c.link = [](int, double t, int64_t) {
    LinkParams p;
    p.bandwidth_bps = t < 1.0 ? 8000 : 16000;
    return p;
  };
  LinkModel model(c);
  model.Submit(0, 1, 2000);  // 8000 bits in the first second, 8000 more at 16000 bit/s
  EXPECT_NEAR(Drain(model).at(0), 1.5, 1e-9);
}

TEST(IngressModel, SlowDownlinkStretchesDeliveryButFastOneDoesNot) {
  IngressModel fast(1e9);
  EXPECT_DOUBLE_EQ(fast.Deliver(2.0, 1000, 8000), 2.0);
  IngressModel slow(4000);  // half the path rate
  // Bits streamed in from t = 1 (2.0 - 8000/8000); at 4000 bit/s they need until 3.0.
  EXPECT_NEAR(slow.Deliver(2.0, 1000, 8000), 3.0, 1e-9);
  // A second message arriving meanwhile waits behind the first.
  EXPECT_NEAR(slow.Deliver(2.1, 1000, 8000), 5.0, 1e-9);
}

}  // namespace
}  // namespace hearsay
