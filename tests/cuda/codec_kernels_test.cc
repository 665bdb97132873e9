// GPU codecs against the CPU codecs (the oracle): identical bytes from the same RngKey, identical
// decoded values, identical fused receive updates, identical validation errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "compressors/compressor.h"
#include "compressors/cuda/cuda_codec.h"
#include "tests/cuda/cuda_test_util.h"

namespace hearsay::cuda {
namespace {

using testing::Download;
using testing::SameBits;
using testing::SeededInput;
using testing::Upload;

struct Case {
  std::string spec;
  size_t n;
};

std::vector<Case> Cases() {
  std::vector<Case> out;
  for (const char* spec : {"identity", "fp16", "bf16", "qsgd:8", "qsgd:4", "qsgd:2:64:norm=l2",
                           "qsgd:3:norm=l2", "qsgd:1:8", "qsgd:7:1024", "terngrad"}) {
    for (size_t n :
         {size_t{1}, size_t{7}, size_t{8}, size_t{1000}, size_t{4099}, size_t{65536 + 3}}) {
      out.push_back({spec, n});
    }
  }
  return out;
}

class CudaCodecVsCpu : public ::testing::TestWithParam<Case> {};

RngKey Key() {
  RngKey k;
  k.seed = 42;
  k.peer = 3;
  k.round = 17;
  return k;
}

TEST_P(CudaCodecVsCpu, EncodesSameBytesAndDecodesSameValues) {
  HEARSAY_REQUIRE_GPU();
  const Case& c = GetParam();
  std::vector<float> x = SeededInput(c.n, 11);
  if (c.n > 100) x[37] = 0.0f, x[38] = -0.0f, x[39] = 1e-30f;  // zero, signed zero, tiny
  ASSERT_TRUE(testing::AnyNonZero(x));
  auto cpu = MakeCompressor(c.spec);
  ASSERT_TRUE(cpu.ok());
  auto gpu = CudaCodec::Make(c.spec);
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  ByteBuffer want;
  ASSERT_TRUE((*cpu)->Encode(x, Key(), &want).ok());
  ASSERT_EQ((*gpu)->EncodedBytes(c.n), want.size());

  DeviceBuffer<float> dx = Upload(x);
  auto msg = DeviceBuffer<uint8_t>::Create(want.size());
  auto err = DeviceBuffer<uint64_t>::Create(1);
  ASSERT_TRUE(msg.ok() && err.ok());
  ASSERT_TRUE((*gpu)->EncodeAsync(dx.data(), c.n, Key(), msg->data(), err->data(), nullptr).ok());
  const std::vector<uint8_t> got = Download(msg->data(), want.size());
  EXPECT_TRUE((*gpu)->EncodeResult(Download(err->data(), 1)[0]).ok());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], want[i]) << c.spec << ": first differing byte at " << i;
  }

  std::vector<float> cpu_out(c.n);
  ASSERT_TRUE((*cpu)->Decode(want, Key(), cpu_out).ok());
  ASSERT_TRUE((*gpu)->Validate(want, c.n).ok());
  auto dy = DeviceBuffer<float>::Create(c.n);
  ASSERT_TRUE(dy.ok());
  ASSERT_TRUE(
      (*gpu)->DecodeAsync(msg->data(), c.n, Key(), dy->data(), DecodeApply{}, nullptr).ok());
  EXPECT_TRUE(SameBits(Download(dy->data(), c.n), cpu_out));
}

TEST_P(CudaCodecVsCpu, FusedApplyMatchesCpuUpdates) {
  HEARSAY_REQUIRE_GPU();
  const Case& c = GetParam();
  const std::vector<float> x = SeededInput(c.n, 5);
  const std::vector<float> y0 = SeededInput(c.n, 6);
  const std::vector<float> s0 = SeededInput(c.n, 8);
  auto cpu = MakeCompressor(c.spec);
  auto gpu = CudaCodec::Make(c.spec);
  ASSERT_TRUE(cpu.ok() && gpu.ok());
  ByteBuffer bytes;
  ASSERT_TRUE((*cpu)->Encode(x, Key(), &bytes).ok());
  std::vector<float> v(c.n);
  ASSERT_TRUE((*cpu)->Decode(bytes, Key(), v).ok());
  DeviceBuffer<uint8_t> msg = Upload(std::vector<uint8_t>(bytes.begin(), bytes.end()));

  const float w = 1.0f / 3.0f;
  const double b = 2.0 / 7.0, a = 1.0 - b;
  for (auto op : {DecodeApply::Op::kAdd, DecodeApply::Op::kAddWeighted,
                  DecodeApply::Op::kAddWeightedAndSelf, DecodeApply::Op::kEcd}) {
    std::vector<float> y = y0, s = s0;  // CPU formulas of dcd.cc, choco.cc, ecd.cc, dpsgd.cc
    for (size_t k = 0; k < c.n; ++k) {
      switch (op) {
        case DecodeApply::Op::kAdd:
          y[k] += v[k];
          break;
        case DecodeApply::Op::kAddWeighted:
          y[k] += w * v[k];
          break;
        case DecodeApply::Op::kAddWeightedAndSelf:
          y[k] += w * v[k];
          s[k] += v[k];
          break;
        case DecodeApply::Op::kEcd:
          y[k] = static_cast<float>(a * static_cast<double>(y[k]) + b * static_cast<double>(v[k]));
          break;
        default:
          break;
      }
    }
    DeviceBuffer<float> dy = Upload(y0), ds = Upload(s0);
    DecodeApply apply;
    apply.op = op;
    apply.weight = w;
    apply.a = a;
    apply.b = b;
    apply.self = ds.data();
    ASSERT_TRUE((*gpu)->DecodeAsync(msg.data(), c.n, Key(), dy.data(), apply, nullptr).ok());
    EXPECT_TRUE(SameBits(Download(dy.data(), c.n), y)) << "op " << static_cast<int>(op);
    EXPECT_TRUE(SameBits(Download(ds.data(), c.n), s)) << "op " << static_cast<int>(op);
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, CudaCodecVsCpu, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string s = i.param.spec + "_" + std::to_string(i.param.n);
                           for (char& ch : s) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return s;
                         });

TEST(CudaCodec, NonFiniteInputGivesTheCpuError) {
  HEARSAY_REQUIRE_GPU();
  for (const char* spec : {"qsgd:4", "qsgd:4:norm=l2"}) {
    std::vector<float> x = SeededInput(1000, 2);
    x[600] = std::numeric_limits<float>::infinity();
    x[900] = std::numeric_limits<float>::quiet_NaN();
    auto cpu = MakeCompressor(spec);
    auto gpu = CudaCodec::Make(spec);
    ASSERT_TRUE(cpu.ok() && gpu.ok());
    ByteBuffer out;
    const Status want = (*cpu)->Encode(x, Key(), &out);
    ASSERT_FALSE(want.ok());
    DeviceBuffer<float> dx = Upload(x);
    auto msg = DeviceBuffer<uint8_t>::Create((*gpu)->EncodedBytes(x.size()));
    auto err = DeviceBuffer<uint64_t>::Create(1);
    ASSERT_TRUE(msg.ok() && err.ok());
    ASSERT_TRUE(
        (*gpu)->EncodeAsync(dx.data(), x.size(), Key(), msg->data(), err->data(), nullptr).ok());
    const Status got = (*gpu)->EncodeResult(Download(err->data(), 1)[0]);
    EXPECT_EQ(got.ToString(), want.ToString());
  }
}

// Host-only: runs without a GPU.
TEST(CudaCodec, ValidateAgreesWithCpuDecoder) {
  for (const char* spec : {"identity", "fp16", "bf16", "qsgd:4", "qsgd:2:64:norm=l2"}) {
    auto cpu = MakeCompressor(spec);
    auto gpu = CudaCodec::Make(spec);
    ASSERT_TRUE(cpu.ok());
    ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
    const std::vector<float> x = SeededInput(300, 4);
    ByteBuffer good;
    ASSERT_TRUE((*cpu)->Encode(x, Key(), &good).ok());
    EXPECT_EQ((*gpu)->EncodedBytes(x.size()), good.size());
    std::vector<ByteBuffer> bad = {good, good, good, good,
                                   ByteBuffer(good.begin(), good.begin() + 5)};
    bad[0].pop_back();    // truncated
    bad[1].push_back(0);  // trailing byte
    bad[2][0] ^= 0x40;    // wrong tag
    bad[3][4] ^= 1;       // wrong length
    if (std::string(spec).rfind("qsgd", 0) == 0) {
      ByteBuffer neg = good;
      neg[8 + 3] |= 0x80;  // negative scale of block 0
      bad.push_back(neg);
    }
    std::vector<float> out(x.size());
    EXPECT_TRUE((*gpu)->Validate(good, x.size()).ok());
    for (const ByteBuffer& b : bad) {
      const Status want = (*cpu)->Decode(b, Key(), out);
      const Status got = (*gpu)->Validate(b, x.size());
      EXPECT_FALSE(got.ok()) << spec;
      EXPECT_EQ(got.ToString(), want.ToString()) << spec;
    }
  }
}

TEST(CudaCodec, UnsupportedSpecIsUnimplemented) {
  auto gpu = CudaCodec::Make("minmax8");
  if (gpu.ok()) GTEST_SKIP() << "minmax8 has a GPU twin now";
  EXPECT_TRUE(gpu.status().code() == StatusCode::kUnimplemented ||
              gpu.status().code() == StatusCode::kInvalidArgument)
      << gpu.status().ToString();
}

}  // namespace
}  // namespace hearsay::cuda
