// FrameReader (runtime/transport/frame_reader.h): frames split at every possible place, small
// frames batched, large payloads read in place into pooled buffers, MAC results, limits checked
// before allocation, and a 1 GiB announcement that costs no memory until bytes arrive.
#include "runtime/transport/frame_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <random>

namespace hearsay {
namespace {

SessionKey Key(uint8_t v) {
  SessionKey k;
  k.fill(v);
  return k;
}

ByteBuffer Payload(size_t n, uint8_t seed) {
  ByteBuffer p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(i * 131 + seed);
  return p;
}

// A whole message frame as a peer would send it (MAC'd when key is given).
ByteBuffer Frame(uint64_t seq, const ByteBuffer& payload, const SessionKey* key) {
  Message m;
  m.from = 0;
  m.to = 1;
  m.round = static_cast<int64_t>(seq);
  ByteBuffer out = EncodeFrameHead(DataFrameHeader(m, seq, 0),
                                   static_cast<uint32_t>(payload.size()), key != nullptr);
  const ByteBuffer head = out;
  out.insert(out.end(), payload.begin(), payload.end());
  if (key) {
    const MacTag tag = ComputeFrameMac(*key, seq, head, payload);
    out.insert(out.end(), tag.begin(), tag.end());
  }
  return out;
}

// Feeds `stream` in pieces of at most `piece` bytes, collecting every frame.
Status Feed(FrameReader* r, const ByteBuffer& stream, size_t piece, std::vector<InFrame>* out) {
  size_t off = 0;
  while (off < stream.size()) {
    const std::span<uint8_t> space = r->ReadSpace();
    EXPECT_FALSE(space.empty());
    const size_t n = std::min({space.size(), piece, stream.size() - off});
    std::memcpy(space.data(), stream.data() + off, n);
    r->Commit(n);
    off += n;
    while (true) {
      InFrame f;
      Result<bool> next = r->Next(&f);
      if (!next.ok()) return next.status();
      if (!*next) break;
      out->push_back(std::move(f));
    }
  }
  return Status::Ok();
}

TEST(FrameReader, ParsesSmallAndLargeFramesSplitAnywhere) {
  const SessionKey key = Key(7);
  const std::vector<size_t> sizes = {0, 1, 100, 70000, 5, (1 << 20) + 3, 64 << 10, 17};
  ByteBuffer stream;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const ByteBuffer f = Frame(i + 1, Payload(sizes[i], static_cast<uint8_t>(i)), &key);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (size_t piece : {size_t{1}, size_t{13}, size_t{4096}, size_t{100000}, size_t{1} << 30}) {
    if (piece == 1 && stream.size() > (4 << 20)) continue;
    BufferPool pool(8, 64 << 20);
    FrameReader r(&pool);
    r.set_max_payload_bytes(16 << 20);
    r.set_receive_key(key);
    std::vector<InFrame> frames;
    ASSERT_TRUE(Feed(&r, stream, piece, &frames).ok()) << "piece " << piece;
    ASSERT_EQ(frames.size(), sizes.size()) << "piece " << piece;
    for (size_t i = 0; i < sizes.size(); ++i) {
      EXPECT_EQ(frames[i].header.seq, i + 1);
      EXPECT_EQ(frames[i].mac, MacCheck::kValid) << "frame " << i << " piece " << piece;
      EXPECT_EQ(frames[i].payload, Payload(sizes[i], static_cast<uint8_t>(i))) << "frame " << i;
    }
    EXPECT_FALSE(r.mid_frame());
  }
}

TEST(FrameReader, ReportsBadOrMissingMacWithoutFailingTheStream) {
  const SessionKey key = Key(7), wrong = Key(8);
  for (size_t size : {size_t{100}, size_t{300000}}) {
    ByteBuffer tampered = Frame(1, Payload(size, 1), &key);
    tampered[tampered.size() - kMacBytes - 1] ^= 0x40;  // last payload byte
    ByteBuffer stream = tampered;
    const ByteBuffer other_key = Frame(2, Payload(size, 2), &wrong);
    const ByteBuffer no_mac = Frame(3, Payload(size, 3), nullptr);
    stream.insert(stream.end(), other_key.begin(), other_key.end());
    stream.insert(stream.end(), no_mac.begin(), no_mac.end());
    FrameReader r;
    r.set_max_payload_bytes(1 << 20);
    r.set_receive_key(key);
    std::vector<InFrame> frames;
    ASSERT_TRUE(Feed(&r, stream, 5000, &frames).ok());
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].mac, MacCheck::kInvalid) << size;
    EXPECT_EQ(frames[1].mac, MacCheck::kInvalid) << size;
    EXPECT_EQ(frames[2].mac, MacCheck::kAbsent) << size;
  }
  // A MAC'd frame before any key is known cannot be valid.
  FrameReader r;
  r.set_max_payload_bytes(1 << 20);
  std::vector<InFrame> frames;
  ASSERT_TRUE(Feed(&r, Frame(1, Payload(10, 1), &key), 64, &frames).ok());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].mac, MacCheck::kInvalid);
}

TEST(FrameReader, RejectsOversizedPayloadAndGarbage) {
  FrameReader r;
  r.set_max_payload_bytes(1000);
  std::vector<InFrame> frames;
  const Status s = Feed(&r, Frame(1, Payload(1001, 1), nullptr), 4096, &frames);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("1001 bytes exceeds the limit of 1000"), std::string::npos)
      << s.message();

  FrameReader junk;
  const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  const ByteBuffer bytes(http.begin(), http.end());
  const Status g = Feed(&junk, bytes, 4096, &frames);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("magic"), std::string::npos);
}

TEST(FrameReader, TruncationIsVisible) {
  const ByteBuffer f = Frame(1, Payload(300000, 1), nullptr);
  FrameReader r;
  r.set_max_payload_bytes(1 << 20);
  std::vector<InFrame> frames;
  ASSERT_TRUE(Feed(&r, ByteBuffer(f.begin(), f.begin() + 1000), 100, &frames).ok());
  EXPECT_TRUE(frames.empty());
  EXPECT_TRUE(r.mid_frame());
}

TEST(FrameReader, LargePayloadsReuseAPooledBufferInPlace) {
  const SessionKey key = Key(3);
  BufferPool pool(4, 64 << 20);
  FrameReader r(&pool);
  r.set_max_payload_bytes(8 << 20);
  r.set_receive_key(key);
  std::vector<InFrame> frames;
  ASSERT_TRUE(Feed(&r, Frame(1, Payload(2 << 20, 1), &key), 1 << 20, &frames).ok());
  ASSERT_EQ(frames.size(), 1u);
  const uint8_t* first = frames[0].payload.data();
  pool.Release(std::move(frames[0].payload));  // what Transport::Recycle does
  frames.clear();
  ASSERT_TRUE(Feed(&r, Frame(2, Payload(2 << 20, 2), &key), 1 << 20, &frames).ok());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload.data(), first);  // read into the recycled buffer
  EXPECT_EQ(frames[0].payload, Payload(2 << 20, 2));
  EXPECT_EQ(frames[0].mac, MacCheck::kValid);
}

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// Issue 8: a 16-byte prefix announcing 1 GiB made the receiver allocate and zero-fill 1 GiB
// before any payload byte arrived. Now memory follows the bytes that actually arrive.
TEST(FrameReader, AnnouncedGigabyteCostsNothingUntilBytesArrive) {
  Message m;
  m.from = 0;
  m.to = 1;
  const uint32_t announced = 1u << 30;
  const ByteBuffer head = EncodeFrameHead(DataFrameHeader(m, 1, 0), announced, false);
  FrameReader r;
  r.set_max_payload_bytes(0xFFFFFFFFu);
  const size_t before = ResidentBytes();
  std::vector<InFrame> frames;
  ByteBuffer start = head;
  start.resize(head.size() + 100, 0xAB);  // and only 100 payload bytes
  ASSERT_TRUE(Feed(&r, start, 1 << 20, &frames).ok());
  EXPECT_TRUE(frames.empty());
  EXPECT_LE(r.ReadSpace().size(), FrameReader::kChunkBytes);
  EXPECT_LT(ResidentBytes(), before + (64u << 20)) << "resident memory grew with the announcement";
}

}  // namespace
}  // namespace hearsay
