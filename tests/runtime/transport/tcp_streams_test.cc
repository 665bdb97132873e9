// `streams: k` of the TCP transport (docs/wire_format.md "Streams"): k connections per link,
// large messages striped over them and reassembled in order; the stream count checked in the
// handshake; hostile part announcements. Reconnects and restarts with several streams run in
// tcp_reconnect_test.cc (parametrised over the stream count).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "runtime/transport/tcp/tcp_transport.h"
#include "tests/runtime/transport/tcp_test_util.h"

namespace hearsay {
namespace {

using namespace test;  // NOLINT: the helpers of tcp_test_util.h

// Message r from `from`: sizes from empty to 700 KB, so that some go whole on stream 0 and the
// rest in 2..k parts of uneven sizes (the size is not a multiple of the part count).
size_t SizeOf(int from, int64_t r) {
  switch (r % 4) {
    case 0:
      return static_cast<size_t>((r * 131 + from) % 2000);  // small, sometimes empty
    case 1:
      return 100000 + static_cast<size_t>(r % 7);  // below two parts' minimum: whole
    default:
      return 131072 + static_cast<size_t>((r * 7919 + from * 104729) % 600000);
  }
}

// Two transports with `streams` connections per link, started.
std::vector<std::unique_ptr<Transport>> Pair(int streams, std::vector<uint16_t>* ports = nullptr) {
  const auto p = FreePorts(2);
  if (ports) *ports = p;
  std::vector<std::unique_ptr<Transport>> ts;
  for (int i = 0; i < 2; ++i) {
    TcpTransportOptions o = Options(i, p, {1 - i});
    o.streams = streams;
    ts.push_back(Make(o));
  }
  for (const Status& s : StartAll(ts, 20)) EXPECT_TRUE(s.ok()) << s.ToString();
  return ts;
}

TEST(TcpStreams, StripedMessagesArriveWholeAndInOrderBothWays) {
  constexpr int64_t kMessages = 120;
  auto ts = Pair(3);
  std::vector<std::string> failures(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      for (int64_t r = 1; r <= kMessages; ++r) {
        const Status s = ts[i]->Send(Gossip(1 - i, r, SizeOf(i, r)));
        if (!s.ok()) failures[i] += "send " + std::to_string(r) + ": " + s.ToString();
      }
    });
  }
  std::vector<std::string> receive_failures(2);
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      for (int64_t r = 1; r <= kMessages; ++r) {
        Result<Message> m = ts[i]->Receive(DeadlineIn(30));
        if (!m.ok()) {
          receive_failures[i] = "message " + std::to_string(r) + ": " + m.status().ToString();
          return;
        }
        if (m->kind != MessageKind::kGossip || m->from != 1 - i || m->round != r ||
            m->seq != static_cast<uint64_t>(r)) {
          receive_failures[i] = "message " + std::to_string(r) + " arrived as round " +
                                std::to_string(m->round) + ", seq " + std::to_string(m->seq);
          return;
        }
        if (m->payload != Gossip(i, r, SizeOf(1 - i, r)).payload) {
          receive_failures[i] = "payload of message " + std::to_string(r) + " (" +
                                std::to_string(SizeOf(1 - i, r)) + " bytes) differs";
          return;
        }
        ts[i]->Recycle(std::move(m->payload));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(failures[i], "") << "peer " << i;
    EXPECT_EQ(receive_failures[i], "") << "peer " << i;
  }
  // DONE goes on every stream, so each connection ends normally and Shutdown is clean.
  EXPECT_EQ(EndBothWays(ts, kMessages + 1), "");
  for (auto& t : ts) EXPECT_TRUE(t->Shutdown(DeadlineIn(10)).ok());
  // Counted per message, not per part; the bytes include every part's frame.
  const TransportStats s = ts[0]->stats();
  EXPECT_EQ(s.messages_sent, static_cast<uint64_t>(kMessages + 1));
  EXPECT_EQ(s.messages_received, static_cast<uint64_t>(kMessages + 1));
  uint64_t payload = 0;
  for (int64_t r = 1; r <= kMessages; ++r) payload += SizeOf(0, r);
  EXPECT_GT(s.bytes_sent, payload);
  EXPECT_LT(s.bytes_sent, payload + 400 * (kMessages + 1));
}

// Two threads sending to the same neighbour at once: each message's parts stay together (the
// parts of one Send are never interleaved with another's on some stream).
TEST(TcpStreams, ConcurrentSendersToOneNeighbourKeepEveryMessageWhole) {
  constexpr int64_t kPerThread = 40;
  auto ts = Pair(4);
  std::vector<std::thread> senders;
  std::atomic<int> send_failures{0};
  for (uint32_t tag = 1; tag <= 2; ++tag) {
    senders.emplace_back([&, tag] {
      for (int64_t r = 1; r <= kPerThread; ++r) {
        Message m = Gossip(1, r * 10 + tag, 300000 + static_cast<size_t>(r * 1000 * tag));
        m.tag = tag;
        if (!ts[0]->Send(std::move(m)).ok()) ++send_failures;
      }
    });
  }
  std::map<uint32_t, int64_t> last;
  std::string failure;
  for (int64_t k = 0; k < 2 * kPerThread && failure.empty(); ++k) {
    Result<Message> m = ts[1]->Receive(DeadlineIn(30));
    if (!m.ok()) {
      failure = m.status().ToString();
      break;
    }
    const uint32_t tag = m->tag;
    const int64_t r = (m->round - tag) / 10;
    if (tag < 1 || tag > 2 || r != last[tag] + 1) {
      failure =
          "tag " + std::to_string(tag) + " round " + std::to_string(m->round) + " out of order";
    } else if (m->payload !=
               Gossip(1, m->round, 300000 + static_cast<size_t>(r * 1000 * tag)).payload) {
      failure = "message of tag " + std::to_string(tag) + " round " + std::to_string(m->round) +
                " arrived mixed with another";
    }
    last[tag] = r;
  }
  for (auto& t : senders) t.join();
  EXPECT_EQ(failure, "");
  EXPECT_EQ(send_failures.load(), 0);
  for (auto& t : ts) EXPECT_TRUE(t->Shutdown(DeadlineIn(10)).ok());
}

TEST(TcpStreams, DifferentStreamCountsAreRefusedNamingBothValues) {
  const auto ports = FreePorts(2);
  std::vector<std::unique_ptr<Transport>> ts;
  for (int i = 0; i < 2; ++i) {
    TcpTransportOptions o = Options(i, ports, {1 - i});
    o.streams = i == 0 ? 2 : 3;
    ts.push_back(Make(o));
  }
  const std::vector<Status> started = StartAll(ts, 10);
  for (int i = 0; i < 2; ++i) {
    ASSERT_FALSE(started[i].ok()) << "peer " << i;
    EXPECT_NE(started[i].message().find("streams"), std::string::npos) << started[i].ToString();
  }
  EXPECT_NE(started[1].message().find("streams 2 differs from ours 3"), std::string::npos)
      << started[1].ToString();
  for (auto& t : ts) (void)t->Shutdown(DeadlineIn(5));
}

TEST(TcpStreams, StreamCountOutsideOneToSixteenIsRefused) {
  for (int streams : {0, -1, kMaxTcpStreams + 1}) {
    TcpTransportOptions o = Options(0, {1, 2}, {1});
    o.streams = streams;
    Result<std::unique_ptr<Transport>> t = MakeTcpTransport(o);
    ASSERT_FALSE(t.ok()) << streams;
    EXPECT_NE(t.status().message().find("streams must be 1..16"), std::string::npos)
        << t.status().ToString();
  }
}

// In a child process (limits are per process): sets the open-file limit, makes the transport and
// exits 0 when that worked and the soft limit now covers `want`, 3 (message on stderr) when it
// was refused.
[[noreturn]] void MakeUnderLimit(const TcpTransportOptions& o, rlim_t soft, rlim_t hard,
                                 rlim_t want) {
  rlimit l{soft, hard};
  if (::setrlimit(RLIMIT_NOFILE, &l) != 0) std::_Exit(9);
  Result<std::unique_ptr<Transport>> t = MakeTcpTransport(o);
  if (!t.ok()) {
    std::fprintf(stderr, "%s\n", t.status().message().c_str());
    std::_Exit(3);
  }
  ::getrlimit(RLIMIT_NOFILE, &l);
  std::_Exit(l.rlim_cur >= want ? 0 : 4);
}

// A socket per neighbour and stream: a descriptor limit too low for them is raised within the hard
// limit, or refused up front naming the numbers (it used to fail after connect_timeout, with
// "Too many open files" only in the log).
TEST(TcpStreamsDeathTest, TooFewFileDescriptorsAreRaisedOrRefusedUpFront) {
  TcpTransportOptions o = Options(0, {1, 2, 3, 4}, {1, 2, 3});
  o.streams = 16;  // 3 x 16 sockets + 64 handshakes + 64 = 176 descriptors
  EXPECT_EXIT(MakeUnderLimit(o, 100, 100, 176), ::testing::ExitedWithCode(3),
              "needs about 176 file descriptors \\(3 neighbours x 16 streams.*limit is 100 "
              "\\(hard limit 100\\); raise it \\(ulimit -n\\) or use fewer `streams:`");
  EXPECT_EXIT(MakeUnderLimit(o, 100, 1000, 176), ::testing::ExitedWithCode(0), "");
}

// Hostile part announcements from an authenticated neighbour (a raw socket playing peer 0 on
// both streams of a 2-stream link): each ends the link for good, without a delivery and without
// unbounded memory.
class TcpStreamsHostile : public ::testing::Test {
 protected:
  void SetUp() override {
    ports_ = FreePorts(2);
    TcpTransportOptions o = Options(1, ports_, {0});
    o.streams = 2;
    o.ping_interval_s = 0;  // the raw peer never reads
    o.max_queued_bytes = 100000;
    o.max_message_bytes = 100000;
    target_ = Make(o);
    auto started =
        std::async(std::launch::async, [this] { return target_->Start(DeadlineIn(30)); });
    ClusterConfig config = Config();
    config.streams = 2;
    for (int s = 0; s < 2; ++s) {
      raw_.push_back(std::make_unique<RawPeer>(ports_[1]));
      ASSERT_TRUE(raw_.back()->Handshake(kSecret, config, s)) << raw_.back()->last_error();
    }
    const Status st = started.get();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void ExpectEndedFor(const std::string& why) {
    Result<Message> m = target_->Receive(DeadlineIn(20));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(m->kind, MessageKind::kLinkDown) << "a bad part was delivered";
    EXPECT_EQ(m->tag, 0u) << "the link should end for good";
    const std::string text(m->payload.begin(), m->payload.end());
    EXPECT_NE(text.find(why), std::string::npos) << text;
    // Both streams' connections close.
    EXPECT_TRUE(raw_[0]->ClosedByPeer());
    EXPECT_TRUE(raw_[1]->ClosedByPeer());
  }
  void TearDown() override {
    if (target_) (void)target_->Shutdown(DeadlineIn(5));
  }
  std::vector<uint16_t> ports_;
  std::unique_ptr<Transport> target_;
  std::vector<std::unique_ptr<RawPeer>> raw_;
};

TEST_F(TcpStreamsHostile, MorePartsThanStreamsEndsTheLink) {
  FrameHeader h = raw_[0]->NextMessage(1);
  h.parts = 5;
  raw_[0]->WriteMacd(h, ByteBuffer(10, 1));
  ExpectEndedFor("says its message has 5 parts");
}

TEST_F(TcpStreamsHostile, APartCountOnALaterStreamEndsTheLink) {
  FrameHeader h = raw_[1]->NextMessage(1);
  h.parts = 2;
  raw_[1]->WriteMacd(h, ByteBuffer(10, 1));
  ExpectEndedFor("frame on stream 1 of 2 says its message has 2 parts");
}

TEST_F(TcpStreamsHostile, PartsOfAnotherRoundEndTheLink) {
  FrameHeader first = raw_[0]->NextMessage(7);
  first.parts = 2;
  raw_[0]->WriteMacd(first, ByteBuffer(10, 1));
  raw_[1]->WriteMacd(raw_[1]->NextMessage(8), ByteBuffer(10, 2));
  ExpectEndedFor("does not match its first part");
}

// Later parts with no first part: what waits is bounded by max_queued_bytes + max_message_bytes.
TEST_F(TcpStreamsHostile, PartsThatNeverCompleteAreBounded) {
  for (int i = 1; i <= 3; ++i) raw_[1]->WriteMacd(raw_[1]->NextMessage(i), ByteBuffer(90000, 3));
  ExpectEndedFor("wait for their other parts");
}

}  // namespace
}  // namespace hearsay
