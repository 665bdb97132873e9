// ef(C): the residual carries across rounds, and the sum of sent values tracks the sum of inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "compressors/compressor.h"
#include "compressors/error_feedback.h"
#include "tests/compressors/test_util.h"

namespace hearsay {
namespace {

using testing::Key;
using testing::MustMake;
using testing::SeededVector;

TEST(ErrorFeedback, SumOfSentValuesTracksSumOfInputs) {
  for (const char* spec : {"topk:0.05", "sign", "qsgd:1"}) {
    auto inner = MustMake(spec);
    ErrorFeedback ef(std::move(inner));
    auto plain = MustMake(spec);
    const size_t d = 300;
    std::vector<double> sum_x(d, 0), sum_ef(d, 0), sum_plain(d, 0);
    std::vector<float> y(d);
    for (uint32_t t = 1; t <= 60; ++t) {
      const auto x = SeededVector(d, 100 + t);
      ByteBuffer b1, b2;
      ASSERT_TRUE(ef.Encode(x, Key(1, t), &b1).ok());
      ASSERT_TRUE(ef.Decode(b1, Key(1, t), y).ok());
      for (size_t i = 0; i < d; ++i) sum_ef[i] += y[i];
      ASSERT_TRUE(plain->Encode(x, Key(1, t), &b2).ok());
      ASSERT_TRUE(plain->Decode(b2, Key(1, t), y).ok());
      for (size_t i = 0; i < d; ++i) {
        sum_plain[i] += y[i];
        sum_x[i] += x[i];
      }
      // Invariant: sum of sent = sum of inputs - residual (up to float rounding).
      for (size_t i = 0; i < d; ++i) {
        ASSERT_NEAR(sum_ef[i], sum_x[i] - ef.residual()[i], 1e-3) << spec << " t=" << t;
      }
    }
    double err_ef = 0, err_plain = 0;
    for (size_t i = 0; i < d; ++i) {
      err_ef += (sum_ef[i] - sum_x[i]) * (sum_ef[i] - sum_x[i]);
      err_plain += (sum_plain[i] - sum_x[i]) * (sum_plain[i] - sum_x[i]);
    }
    EXPECT_LT(err_ef, 0.5 * err_plain) << spec;
  }
}

TEST(ErrorFeedback, ResidualCarriesAcrossRounds) {
  ErrorFeedback ef(MustMake("topk:0.5"));
  std::vector<float> x = {1.0f, 0.25f}, y(2);
  ByteBuffer b;
  ASSERT_TRUE(ef.Encode(x, Key(1, 1), &b).ok());
  EXPECT_EQ(ef.residual()[0], 0.0f);
  EXPECT_EQ(ef.residual()[1], 0.25f);
  // Round 2: 0.3 + 0.25 residual beats 0.5, so index 1 is sent with the carried residual.
  x = {0.5f, 0.3f};
  b.clear();
  ASSERT_TRUE(ef.Encode(x, Key(1, 2), &b).ok());
  ASSERT_TRUE(ef.Decode(b, Key(1, 2), y).ok());
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_FLOAT_EQ(y[1], 0.55f);
  EXPECT_FLOAT_EQ(ef.residual()[0], 0.5f);
}

// The sparsifiers' fused EncodeWithFeedback (p formed in the residual, only kept elements
// updated) gives the bytes and the residual, bit for bit, of the plain definition: p = x + e,
// encode p, decode, e = p - q.
// The codecs' own EncodeWithFeedback (the sparsifiers' and qsgd's fused paths) give the bytes and
// residuals of the definition, bit for bit; d = 70001 spans several of qsgd's 64-block chunks
// and ends in a short block.
TEST(ErrorFeedback, FusedPathsEqualTheDefinition) {
  for (const char* spec : {"topk:0.05",
                           "randk:0.1",
                           "randk_unbiased:0.07",
                           "then(topk:0.1,qsgd:4)",
                           "then(randk:0.2,natural)",
                           "qsgd:2",
                           "sign",
                           "qsgd:8",
                           "qsgd:4",
                           "qsgd:2:norm=l2",
                           "qsgd:4:64:norm=l2",
                           "qsgd:3:8",
                           "terngrad",
                           "sign:64",
                           "fp16",
                           "bf16",
                           "natural",
                           "minmax8",
                           "minmax8:8",
                           "natdither:4",
                           "natdither:2:64"}) {
    for (const size_t d : {size_t{70001}, size_t{1003}}) {  // topk: sampled threshold, and none
      ErrorFeedback ef(MustMake(spec));
      auto plain = MustMake(spec);
      std::vector<float> e(d, 0.0f), p(d), q(d);
      for (uint32_t t = 1; t <= 4; ++t) {
        const auto x = SeededVector(d, 40 + t, t == 2 ? 1e-3f : 1.0f);
        ByteBuffer got, want;
        ASSERT_TRUE(ef.Encode(x, Key(2, t), &got).ok()) << spec;
        for (size_t i = 0; i < d; ++i) p[i] = x[i] + e[i];
        ASSERT_TRUE(plain->Encode(p, Key(2, t), &want).ok()) << spec;
        ASSERT_TRUE(plain->Decode(want, Key(2, t), q).ok()) << spec;
        for (size_t i = 0; i < d; ++i) e[i] = p[i] - q[i];
        ASSERT_TRUE(got == want) << spec << " round " << t;
        ASSERT_EQ(0, std::memcmp(ef.residual().data(), e.data(), d * sizeof(float)))
            << spec << " round " << t;
      }
    }
  }
}

// A NaN in the input: the error names the block, and the output buffer is as it was.
TEST(ErrorFeedback, FusedQsgdRefusesNonFiniteInputAndUndoesTheAppend) {
  for (const char* spec : {"ef(qsgd:4)", "ef(qsgd:8:norm=l2)"}) {
    auto c = MustMake(spec);
    std::vector<float> x = SeededVector(40000, 3, 1.0f);
    x[20000] = std::nanf("");
    ByteBuffer b = {1, 2, 3};
    const Status s = c->Encode(x, Key(1), &b);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << spec;
    EXPECT_NE(s.message().find("block starting at 19968"), std::string::npos) << s.message();
    EXPECT_EQ(b, (ByteBuffer{1, 2, 3})) << spec;
  }
}

TEST(ErrorFeedback, RefusesAChangedVectorLength) {
  auto c = MustMake("ef(qsgd:4)");
  ByteBuffer b;
  ASSERT_TRUE(c->Encode(std::vector<float>(10, 1.0f), Key(1), &b).ok());
  EXPECT_EQ(c->Encode(std::vector<float>(11, 1.0f), Key(1), &b).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearsay
