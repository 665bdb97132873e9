// Properties every codec has: spec round trip, payload size matches BitsPerElement, decoding the
// encoding works, encoding is deterministic per key, and Encode appends.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "tests/compressors/codec_specs.h"
#include "tests/compressors/test_util.h"

namespace hearsay {
namespace {

using testing::Key;
using testing::MustMake;
using testing::SeededVector;

class EveryCodec : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryCodec, SpecRoundTripsThroughMakeCompressor) {
  auto c = MustMake(GetParam());
  ASSERT_NE(c, nullptr);
  auto again = MustMake(c->Spec());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->Spec(), c->Spec());
}

TEST_P(EveryCodec, PayloadSizeMatchesBitsPerElementAndDecodes) {
  for (size_t d : {size_t{1}, size_t{7}, size_t{8}, size_t{300}, size_t{1000}}) {
    auto c = MustMake(GetParam());
    ASSERT_NE(c, nullptr);
    const auto x = SeededVector(d, 11 + d);
    ByteBuffer buf;
    ASSERT_TRUE(c->Encode(x, Key(3), &buf).ok());
    EXPECT_NEAR(c->BitsPerElement(d), 8.0 * buf.size() / d, 1e-9) << "d=" << d;
    std::vector<float> y(d, 123.0f);
    Status s = c->Decode(buf, Key(3), y);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (size_t i = 0; i < d; ++i) ASSERT_TRUE(std::isfinite(y[i])) << i;
  }
}

TEST_P(EveryCodec, EncodesEmptyVector) {
  auto c = MustMake(GetParam());
  ASSERT_NE(c, nullptr);
  ByteBuffer buf;
  ASSERT_TRUE(c->Encode({}, Key(3), &buf).ok());
  std::vector<float> y;
  EXPECT_TRUE(c->Decode(buf, Key(3), y).ok());
}

TEST_P(EveryCodec, EncodeAppendsWithoutTouchingExistingBytes) {
  auto c = MustMake(GetParam());
  ASSERT_NE(c, nullptr);
  const auto x = SeededVector(100, 5);
  ByteBuffer buf = {0xAB, 0xCD};
  ASSERT_TRUE(c->Encode(x, Key(4), &buf).ok());
  ASSERT_GT(buf.size(), 2u);
  EXPECT_EQ(buf[0], 0xAB);
  EXPECT_EQ(buf[1], 0xCD);
  std::vector<float> y(100);
  EXPECT_TRUE(c->Decode(std::span<const uint8_t>(buf).subspan(2), Key(4), y).ok());
}

TEST_P(EveryCodec, SameKeyGivesSameBytes) {
  const auto x = SeededVector(777, 6);
  auto a = MustMake(GetParam());
  auto b = MustMake(GetParam());
  ASSERT_NE(a, nullptr);
  ByteBuffer ba, bb;
  ASSERT_TRUE(a->Encode(x, Key(9, 4, 2), &ba).ok());
  ASSERT_TRUE(b->Encode(x, Key(9, 4, 2), &bb).ok());
  EXPECT_EQ(ba, bb);
}

TEST_P(EveryCodec, RejectsNonFiniteInputOrKeepsItNonFinite) {
  // Codecs either refuse NaN input with InvalidArgument or carry it; they never crash.
  auto c = MustMake(GetParam());
  ASSERT_NE(c, nullptr);
  auto x = SeededVector(64, 7);
  x[10] = std::nanf("");
  ByteBuffer buf;
  Status s = c->Encode(x, Key(1), &buf);
  if (!s.ok()) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_TRUE(buf.empty()) << "a failed Encode must not leave partial bytes";
  }
}

// Issue 8: qsgd:b:norm=l2 encoded finite input whose 2-norm overflows float32 as an infinite
// scale, which its own decoder rejects. Now the encoder refuses it; whatever it accepts decodes.
TEST(QsgdL2, NormOverflowIsRefusedAndEveryAcceptedPayloadDecodes) {
  for (const char* spec : {"qsgd:8:norm=l2", "qsgd:4:norm=l2", "qsgd:2:64:norm=l2"}) {
    auto c = MustMake(spec);
    ASSERT_NE(c, nullptr) << spec;
    std::vector<float> x(256, 1.0f);
    x[100] = 3.0e38f;  // finite, as is the sum of squares in double...
    x[101] = -3.0e38f;
    ByteBuffer buf = {7};
    const Status s = c->Encode(x, Key(1), &buf);  // ...but sqrt of it exceeds FLT_MAX
    ASSERT_EQ(s.code(), StatusCode::kInvalidArgument) << spec;
    EXPECT_NE(s.message().find("overflows float32"), std::string::npos) << s.message();
    EXPECT_EQ(buf, ByteBuffer{7});
    x[101] = 1.0f;  // a single huge value has a representable norm
    buf.clear();
    ASSERT_TRUE(c->Encode(x, Key(1), &buf).ok()) << spec;
    std::vector<float> y(x.size());
    EXPECT_TRUE(c->Decode(buf, Key(1), y).ok()) << spec;
  }
}

// What DecodeChunks handed over: the chunks' starts and sizes, and the values put together.
struct Chunks {
  std::vector<std::pair<size_t, size_t>> pieces;
  std::vector<float> values;
};

Status CollectChunks(const Compressor& c, std::span<const uint8_t> bytes, size_t d,
                     std::vector<float>* scratch, Chunks* out) {
  out->values.assign(d, std::nanf(""));
  auto take = [out](size_t lo, std::span<const float> v) {
    out->pieces.emplace_back(lo, v.size());
    ASSERT_LE(lo + v.size(), out->values.size());
    std::copy(v.begin(), v.end(), out->values.begin() + static_cast<ptrdiff_t>(lo));
  };
  DecodedChunksFn<decltype(take)> sink(take);
  return c.DecodeChunks(bytes, Key(3), d, scratch, sink);
}

// DecodeChunks hands over Decode's floats, bit for bit, in ascending chunks that tile [0, d);
// block codecs in more than one chunk, from a scratch vector that stays chunk-sized.
TEST_P(EveryCodec, DecodeChunksGivesDecodesFloatsInOrder) {
  const std::string& spec = GetParam();
  // The codecs that decode a chunk at a time (identity hands its aligned values over whole).
  const bool blocks = spec.starts_with("qsgd") || spec == "terngrad" || spec == "ef(qsgd:2)" ||
                      spec == "fp16" || spec == "bf16";
  for (size_t d : {size_t{0}, size_t{1}, size_t{7}, size_t{8193}, size_t{70001}}) {
    auto c = MustMake(spec);  // ef(C) keeps a residual of the first Encode's size
    const auto x = SeededVector(d, 17);
    ByteBuffer buf;
    ASSERT_TRUE(c->Encode(x, Key(3), &buf).ok()) << spec;
    std::vector<float> want(d);
    ASSERT_TRUE(c->Decode(buf, Key(3), want).ok()) << spec;
    std::vector<float> scratch;
    Chunks got;
    ASSERT_TRUE(CollectChunks(*c, buf, d, &scratch, &got).ok()) << spec << " d=" << d;
    size_t next = 0;
    for (const auto& [lo, n] : got.pieces) {
      EXPECT_EQ(lo, next) << spec << " d=" << d;
      next = lo + n;
    }
    EXPECT_EQ(next, d) << spec;
    if (d > 0) {  // (memcmp of no bytes may still not be given a null pointer)
      EXPECT_EQ(std::memcmp(got.values.data(), want.data(), d * sizeof(float)), 0)
          << spec << " d=" << d;
    }
    if (blocks && d == 70001) {
      EXPECT_GT(got.pieces.size(), 1u) << spec;
      EXPECT_LT(scratch.size(), d) << spec;
    }
    // The payload at an odd address (identity then copies its values a chunk at a time).
    std::vector<uint8_t> odd(buf.size() + 1);
    std::copy(buf.begin(), buf.end(), odd.begin() + 1);
    Chunks shifted;
    ASSERT_TRUE(
        CollectChunks(*c, std::span<const uint8_t>(odd).subspan(1), d, &scratch, &shifted).ok())
        << spec << " d=" << d;
    EXPECT_EQ(shifted.values.size(), d);
    if (d > 0) {
      EXPECT_EQ(std::memcmp(shifted.values.data(), want.data(), d * sizeof(float)), 0)
          << spec << " d=" << d << " (unaligned)";
    }
  }
}

// A payload that fails any check hands nothing over, whichever chunk the damage is in: a
// truncated one, and (block codecs) one whose last block has a NaN scale.
TEST_P(EveryCodec, DecodeChunksHandsNothingOverFromABadPayload) {
  auto c = MustMake(GetParam());
  const std::string& spec = GetParam();
  const size_t d = 70001;
  const auto x = SeededVector(d, 18);
  ByteBuffer buf;
  ASSERT_TRUE(c->Encode(x, Key(3), &buf).ok()) << spec;
  std::vector<float> scratch;
  Chunks got;
  Status s =
      CollectChunks(*c, std::span<const uint8_t>(buf).first(buf.size() - 1), d, &scratch, &got);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << spec;
  EXPECT_TRUE(got.pieces.empty()) << spec;
  if (spec.starts_with("qsgd") || spec == "terngrad") {
    const int block = spec == "qsgd:4:64" ? 64 : 256;
    const size_t blocks = (d + block - 1) / block;
    ByteBuffer bad = buf;
    const float nan = std::nanf("");
    std::memcpy(bad.data() + 8 + 4 * (blocks - 1), &nan, 4);  // 8-byte header, then the scales
    got = Chunks();
    s = CollectChunks(*c, bad, d, &scratch, &got);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << spec;
    EXPECT_NE(s.message().find("block " + std::to_string(blocks - 1)), std::string::npos)
        << s.message();
    EXPECT_TRUE(got.pieces.empty()) << spec;
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, EveryCodec, ::testing::ValuesIn(testing::AllCodecSpecs()),
                         testing::SpecTestName);

TEST(EveryCodec, DifferentKeysGiveDifferentSamplesForStochasticCodecs) {
  const auto x = SeededVector(2000, 8);
  for (const std::string& spec : testing::StochasticCodecSpecs()) {
    auto c = MustMake(spec);
    ASSERT_NE(c, nullptr);
    ByteBuffer a, b, e;
    ASSERT_TRUE(c->Encode(x, Key(1, 1), &a).ok());
    ASSERT_TRUE(c->Encode(x, Key(1, 2), &b).ok());
    ASSERT_TRUE(c->Encode(x, Key(2, 1), &e).ok());
    EXPECT_NE(a, b) << spec << ": rounds 1 and 2 gave the same payload";
    EXPECT_NE(a, e) << spec << ": seeds 1 and 2 gave the same payload";
  }
}

}  // namespace
}  // namespace hearsay
