// GPU codecs against the CPU codecs (the oracle): identical bytes from the same RngKey, identical
// decoded values, identical fused receive updates, identical validation errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>
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

// Readable parameter in test listings and ctest names (instead of gtest's byte dump).
void PrintTo(const Case& c, std::ostream* os) { *os << c.spec << " n=" << c.n; }

// Every spec with a GPU twin. then() is covered with each sparsifier and several value codecs.
const char* const kGpuSpecs[] = {"identity",
                                 "fp16",
                                 "bf16",
                                 "qsgd:8",
                                 "qsgd:4",
                                 "qsgd:2:64:norm=l2",
                                 "qsgd:3:norm=l2",
                                 "qsgd:1:8",
                                 "qsgd:7:1024",
                                 "terngrad",
                                 "natural",
                                 "sign",
                                 "sign:64",
                                 "topk:0.01",
                                 "topk:0.3",
                                 "topk:1",
                                 "randk:0.1",
                                 "randk:0.5",
                                 "randk_unbiased:0.25",
                                 "randk_unbiased:0.07",
                                 "then(topk:0.05,natural)",
                                 "then(topk:0.2,qsgd:4:norm=l2)",
                                 "then(randk:0.1,qsgd:4)",
                                 "then(randk_unbiased:0.2,fp16)",
                                 "then(randk:0.3,sign:8)"};

std::vector<Case> Cases() {
  std::vector<Case> out;
  for (const char* spec : kGpuSpecs) {
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

// Encodes x with both codecs; the GPU status must be the CPU's, and on success the bytes too.
void ExpectSameEncodeResult(const std::string& spec, const std::vector<float>& x) {
  auto cpu = MakeCompressor(spec);
  auto gpu = CudaCodec::Make(spec);
  ASSERT_TRUE(cpu.ok() && gpu.ok()) << spec;
  ByteBuffer want;
  const Status want_status = (*cpu)->Encode(x, Key(), &want);
  DeviceBuffer<float> dx = Upload(x);
  auto msg = DeviceBuffer<uint8_t>::Create((*gpu)->EncodedBytes(x.size()));
  auto err = DeviceBuffer<uint64_t>::Create(1);
  ASSERT_TRUE(msg.ok() && err.ok());
  ASSERT_TRUE(
      (*gpu)->EncodeAsync(dx.data(), x.size(), Key(), msg->data(), err->data(), nullptr).ok());
  const Status got = (*gpu)->EncodeResult(Download(err->data(), 1)[0]);
  EXPECT_EQ(got.ToString(), want_status.ToString()) << spec;
  if (want_status.ok() && got.ok()) {
    const std::vector<uint8_t> bytes = Download(msg->data(), want.size());
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), want.begin())) << spec;
  }
}

TEST(CudaCodec, NonFiniteInputGivesTheCpuError) {
  HEARSAY_REQUIRE_GPU();
  std::vector<float> x = SeededInput(1000, 2);
  x[600] = std::numeric_limits<float>::infinity();
  x[900] = std::numeric_limits<float>::quiet_NaN();
  for (const char* spec :
       {"qsgd:4", "qsgd:4:norm=l2", "natural", "sign", "sign:64", "topk:0.1",
        "then(topk:0.1,qsgd:4)", "then(randk:1,natural)", "then(randk:1,sign)"}) {
    ExpectSameEncodeResult(spec, x);
  }
  // randk sends NaN and infinity as they are (no check), like the CPU.
  for (const char* spec : {"randk:1", "randk_unbiased:0.5"}) ExpectSameEncodeResult(spec, x);
  // natural rejects finite values above 2^127; 2^127 itself is accepted.
  std::vector<float> big = SeededInput(100, 3);
  big[50] = 0x1p127f;
  ExpectSameEncodeResult("natural", big);
  big[70] = 0x1.8p127f;
  ExpectSameEncodeResult("natural", big);
  ExpectSameEncodeResult("then(topk:0.5,natural)", big);
}

// Many equal magnitudes of both signs: top-k must keep the lower indices among ties, exactly as
// TopKIndices, whatever k falls inside a run of ties.
TEST(CudaCodec, TopKBreaksTiesLikeTheCpu) {
  HEARSAY_REQUIRE_GPU();
  std::vector<float> x(5003);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<float>(static_cast<int>((i * 7) % 5) - 2) * 0.5f;  // |x| in {0, 0.5, 1}
  }
  x[4000] = 1.0000001f;  // a unique maximum, one ulp apart from the ties
  x[17] = -0.0f;
  for (const char* spec : {"topk:0.0001", "topk:0.1", "topk:0.25", "topk:0.4", "topk:0.5",
                           "topk:0.77", "topk:1", "then(topk:0.3,fp16)"}) {
    ExpectSameEncodeResult(spec, x);
  }
}

// Host-only: runs without a GPU.
TEST(CudaCodec, ValidateAgreesWithCpuDecoder) {
  for (const char* spec : kGpuSpecs) {
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
    const std::string name(spec);
    if (name.rfind("qsgd", 0) == 0 || name.rfind("sign", 0) == 0) {
      ByteBuffer neg = good;
      neg[8 + 3] |= 0x80;  // negative scale of block 0
      bad.push_back(neg);
    }
    if (name == "natural") {
      ByteBuffer inf = good;
      inf.back() = 255;  // exponent 255 is not a natural code
      bad.push_back(inf);
    }
    if (name.rfind("topk", 0) == 0 || name.rfind("then(topk", 0) == 0) {
      ByteBuffer order = good;  // first two indices swapped: not ascending
      std::swap_ranges(order.begin() + 12, order.begin() + 16, order.begin() + 16);
      bad.push_back(order);
      ByteBuffer k = good;
      k[8] ^= 1;  // wrong k
      bad.push_back(k);
    }
    if (name.rfind("then(", 0) == 0) {
      // The value codec's header starts right after the indices (top-k) or after k (rand-k).
      const size_t k = [&] {
        uint32_t v;
        std::memcpy(&v, good.data() + 8, 4);
        return size_t{v};
      }();
      ByteBuffer wrong_inner = good;
      wrong_inner[12 + (name.rfind("then(topk", 0) == 0 ? 4 * k : 0)] ^= 0x20;  // value tag
      bad.push_back(wrong_inner);
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
