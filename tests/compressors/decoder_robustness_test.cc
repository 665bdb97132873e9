// Decoders never trust their input: truncated, padded, re-targeted and random payloads give
// Corruption and never touch memory outside the output span (also run under ASan + UBSan).
#include <gtest/gtest.h>

#include "tests/compressors/codec_specs.h"
#include "tests/compressors/test_util.h"

namespace hearsay {
namespace {

using testing::Key;
using testing::MustMake;
using testing::SeededVector;

class Decoder : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    codec_ = MustMake(GetParam());
    ASSERT_NE(codec_, nullptr);
    x_ = SeededVector(kD, 99);
    ASSERT_TRUE(codec_->Encode(x_, Key(5), &good_).ok());
  }
  static constexpr size_t kD = 203;
  std::unique_ptr<Compressor> codec_;
  std::vector<float> x_;
  ByteBuffer good_;
};

TEST_P(Decoder, RejectsEveryTruncation) {
  std::vector<float> y(kD);
  for (size_t n = 0; n < good_.size(); ++n) {
    // A fresh heap copy of exactly n bytes, so ASan sees any read past the end.
    std::vector<uint8_t> cut(good_.begin(), good_.begin() + n);
    Status s = codec_->Decode(cut, Key(5), y);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << "length " << n << ": " << s.ToString();
  }
}

TEST_P(Decoder, RejectsTrailingBytes) {
  std::vector<float> y(kD);
  for (size_t extra : {1, 3, 64}) {
    ByteBuffer padded = good_;
    padded.resize(good_.size() + extra, 0);
    EXPECT_EQ(codec_->Decode(padded, Key(5), y).code(), StatusCode::kCorruption) << extra;
  }
}

TEST_P(Decoder, RejectsWrongOutputLength) {
  std::vector<float> shorter(kD - 1), longer(kD + 8);
  EXPECT_EQ(codec_->Decode(good_, Key(5), shorter).code(), StatusCode::kCorruption);
  EXPECT_EQ(codec_->Decode(good_, Key(5), longer).code(), StatusCode::kCorruption);
}

TEST_P(Decoder, RejectsAnotherCodecsPayload) {
  auto other = MustMake(GetParam() == "identity" ? "fp16" : "identity");
  ByteBuffer foreign;
  ASSERT_TRUE(other->Encode(x_, Key(5), &foreign).ok());
  std::vector<float> y(kD);
  EXPECT_EQ(codec_->Decode(foreign, Key(5), y).code(), StatusCode::kCorruption);
}

TEST_P(Decoder, SurvivesRandomAndBitFlippedBytes) {
  // Random bytes of many lengths and single-byte corruptions of a good payload: any Status is
  // acceptable, but no crash and no out-of-bounds access (checked by the sanitizers).
  RngKey k{77, 0, 0, kStreamData, 0};
  std::vector<float> y(kD);
  uint64_t counter = 0;
  for (int t = 0; t < 200; ++t) {
    const size_t n = WordAt(k, counter++) % (good_.size() + 16);
    ByteBuffer junk(n);
    for (auto& b : junk) b = static_cast<uint8_t>(WordAt(k, counter++));
    if (t % 2 == 0 && n >= 8) std::copy(good_.begin(), good_.begin() + 8, junk.begin());
    (void)codec_->Decode(junk, Key(5), y);
  }
  for (size_t i = 0; i < good_.size(); i += 3) {
    ByteBuffer bad = good_;
    bad[i] ^= static_cast<uint8_t>(1 + WordAt(k, counter++) % 255);
    Status s = codec_->Decode(bad, Key(5), y);
    if (i < 8) {
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << "header byte " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, Decoder, ::testing::ValuesIn(testing::AllCodecSpecs()),
                         testing::SpecTestName);

}  // namespace
}  // namespace hearsay
