// Golden payloads: the wire bytes (and decoded bits) of every codec, hashed, for inputs that hit
// the special paths (tiny blocks that are pre-scaled, subnormals, the natural8 clamp, -0, ragged
// tails). The hashes were recorded from the first, scalar implementation; the wire formats and
// the dither generator are contracts shared with the CUDA backend, so a faster encoder or decoder
// must reproduce them exactly. A changed hash means changed bytes: fix the code, not the table.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "compressors/codec_math.h"
#include "compressors/error_feedback.h"
#include "compressors/kernels.h"
#include "tests/compressors/test_util.h"

namespace hearsay {
namespace {

using testing::Key;
using testing::MustMake;
using testing::SeededVector;

struct Fnv {
  uint64_t h = 14695981039346656037ull;
  void Add(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
};

// Inputs of several lengths and shapes; the same for every codec.
std::vector<std::vector<float>> GoldenInputs() {
  std::vector<std::vector<float>> in;
  for (size_t d : {size_t{1}, size_t{7}, size_t{8}, size_t{13}, size_t{256}, size_t{300},
                   size_t{1000}, size_t{4099}, size_t{70001}}) {
    in.push_back(SeededVector(d, 1000 + d));
  }
  // Mixed magnitudes: tiny blocks (pre-scaled), subnormals, -0, huge values, the natural8 clamp.
  std::vector<float> mixed = SeededVector(5000, 77);
  for (size_t i = 0; i < mixed.size(); ++i) {
    const float v = mixed[i];
    switch ((i / 256) % 6) {
      case 0:
        mixed[i] = v * 1e-35f;
        break;
      case 1:
        mixed[i] = v * 1e-41f;  // subnormal
        break;
      case 2:
        mixed[i] = (i % 3 == 0) ? -0.0f : v;
        break;
      case 3:
        mixed[i] = v * 1e30f;
        break;
      case 4:
        mixed[i] = v * ((i % 2) ? 1e-30f : 1e20f);
        break;
      default:
        break;
    }
  }
  in.push_back(mixed);
  in.push_back(std::vector<float>(777, 0.0f));
  in.push_back(std::vector<float>(1025, -1.5f));
  return in;
}

// Hash of the payloads and decoded bits of `spec` over all golden inputs and two keys.
uint64_t CodecHash(const std::string& spec) {
  Fnv f;
  for (const auto& x : GoldenInputs()) {
    for (uint64_t seed : {uint64_t{5}, uint64_t{0x123456789ull}}) {
      auto c = MustMake(spec);
      if (c == nullptr) return 0;
      ByteBuffer buf;
      const Status s = c->Encode(x, Key(seed, 3, 2), &buf);
      const StatusCode code = s.code();
      f.Add(&code, sizeof(code));
      if (!s.ok()) continue;
      f.Add(buf.data(), buf.size());
      std::vector<float> y(x.size());
      EXPECT_TRUE(c->Decode(buf, Key(seed, 3, 2), y).ok()) << spec;
      f.Add(y.data(), y.size() * sizeof(float));
    }
  }
  return f.h;
}

// ef(C) over several rounds: payloads and the residual after each round.
uint64_t ErrorFeedbackHash(const std::string& inner) {
  Fnv f;
  for (size_t d : {size_t{13}, size_t{1000}, size_t{4099}}) {
    ErrorFeedback ef(MustMake(inner));
    for (uint32_t t = 1; t <= 4; ++t) {
      const auto x = SeededVector(d, 300 + t);
      ByteBuffer buf;
      EXPECT_TRUE(ef.Encode(x, Key(9, t), &buf).ok()) << inner;
      f.Add(buf.data(), buf.size());
      f.Add(ef.residual().data(), ef.residual().size() * sizeof(float));
    }
  }
  return f.h;
}

struct Golden {
  const char* spec;
  uint64_t hash;
};

const Golden kGolden[] = {
    {"identity", 0x805a0db7cce56d71ull},
    {"fp16", 0xade5933da4b68795ull},
    {"bf16", 0xede655a68940e699ull},
    {"qsgd:1", 0xb404794d470f1531ull},
    {"qsgd:2", 0x9c22a6912fb3eef0ull},
    {"qsgd:3", 0x9ea2240323662436ull},
    {"qsgd:4", 0x50874e0b147fc21eull},
    {"qsgd:5", 0xa97ac8f0a387b5fbull},
    {"qsgd:6", 0xf92fa5216d0b91eull},
    {"qsgd:7", 0xad3512416cb3a83full},
    {"qsgd:8", 0xc311ffb9f9ab06dfull},
    {"qsgd:3:8", 0xa9d2cd7f0055d562ull},
    {"qsgd:8:64", 0xa984f88b427d596cull},
    {"qsgd:2:norm=l2", 0xfe2e5792a577de2aull},
    {"qsgd:8:norm=l2", 0xfe4fc68da2617db1ull},
    {"qsgd:5:64:norm=l2", 0x72e07e69f1d74a0full},
    {"terngrad", 0x206e27763215c16dull},
    {"terngrad:8", 0x8f60ef5af69084a2ull},
    {"minmax8", 0x835e3a2f6ae7717dull},
    {"minmax8:64", 0xe6b30df406a4dce3ull},
    {"natural", 0x197edf92141beb91ull},
    {"natural8", 0x314a3bf5755f2255ull},
    {"natdither:1", 0x5f043c000398796aull},
    {"natdither:4", 0x8900c8ab9aa1ad29ull},
    {"natdither:8:64", 0xe6550c3f2d9622f8ull},
    {"natdither:127", 0x94e97df7c84b76f0ull},
    {"natdither:3:8", 0xb5935bee11747e89ull},
    {"sign", 0x376c016700e00439ull},
    {"sign:8", 0xa6f22a57fe3e0383ull},
    {"sign:64", 0xa6893eef4e2940d5ull},
    {"topk:0.01", 0x59ff51daeb94fb71ull},
    {"topk:0.3", 0x61861ae3302dab55ull},
    {"randk:0.25", 0xe58c6b5ae65f23bdull},
    {"randk_unbiased:0.3", 0x34b2ec4f3c37a7edull},
    {"then(topk:0.1,natural)", 0x7dcd8b8a063d754bull},
    {"then(randk_unbiased:0.5,qsgd:4)", 0x47632eef57520e8bull},
    {"then(topk:0.2,natdither:4)", 0x5adb446716197756ull},
};

const Golden kGoldenEf[] = {
    {"topk:0.05", 0x817fadae0cb7c15aull},  {"topk:0.01", 0xbc6f723b2db10913ull},
    {"qsgd:2", 0x10ec356919b265feull},     {"qsgd:8", 0xe425c1d023ae837cull},
    {"sign", 0x1f56aa5bd2c39a88ull},       {"natural", 0x26104dc0bcf70d97ull},
    {"natural8", 0x6634641b7134232ull},    {"natdither:4", 0x77b436bad510f136ull},
    {"fp16", 0x5ed465adc028ca01ull},       {"then(topk:0.1,natural)", 0xddf6b6e854557e71ull},
    {"randk:0.25", 0xfa7879408d8da9c8ull}, {"minmax8", 0x326d400007ff96daull},
};

TEST(GoldenBytes, EveryCodecReproducesTheRecordedPayloads) {
  for (const Golden& g : kGolden) {
    EXPECT_EQ(CodecHash(g.spec), g.hash)
        << "    {\"" << g.spec << "\", 0x" << std::hex << CodecHash(g.spec) << "ull},";
  }
}

// The same table through the portable kernels (the default path is AVX2 where the CPU has it).
TEST(GoldenBytes, PortableKernelsReproduceTheRecordedPayloads) {
  kernels::ScopedPortableKernels portable;
  for (const Golden& g : kGolden) EXPECT_EQ(CodecHash(g.spec), g.hash) << g.spec;
  for (const Golden& g : kGoldenEf) EXPECT_EQ(ErrorFeedbackHash(g.spec), g.hash) << g.spec;
}

TEST(GoldenBytes, ErrorFeedbackReproducesPayloadsAndResiduals) {
  for (const Golden& g : kGoldenEf) {
    EXPECT_EQ(ErrorFeedbackHash(g.spec), g.hash)
        << "    {\"" << g.spec << "\", 0x" << std::hex << ErrorFeedbackHash(g.spec) << "ull},";
  }
}

}  // namespace
}  // namespace hearsay
