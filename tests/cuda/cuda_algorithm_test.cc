// CudaAlgorithm against the CPU algorithms (MakeAlgorithm): a 4-peer ring run in lockstep for a
// few rounds on both; every payload and every model must be bit-identical.
#include "runtime/cuda/cuda_algorithm.h"

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "tests/cuda/cuda_test_util.h"
#include "tests/runtime/algorithms/test_support.h"

namespace hearsay::cuda {
namespace {

struct AlgoCase {
  std::string algorithm;
  std::string codec;  // "" = none (dpsgd)
};

// Readable parameter in test listings and ctest names (instead of gtest's byte dump).
void PrintTo(const AlgoCase& c, std::ostream* os) {
  *os << c.algorithm << " codec=" << (c.codec.empty() ? "raw" : c.codec);
}

std::unique_ptr<Compressor> Codec(const std::string& spec) {
  if (spec.empty()) return nullptr;
  auto c = MakeCompressor(spec);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(*c);
}

class CudaAlgorithmVsCpu : public ::testing::TestWithParam<AlgoCase> {};

TEST_P(CudaAlgorithmVsCpu, LockstepRunIsBitIdentical) {
  HEARSAY_REQUIRE_GPU();
  const AlgoCase& c = GetParam();
  constexpr int kPeers = 4;
  constexpr size_t kDim = 5000;
  auto topo = hearsay::testing::Ring(kPeers);
  AlgorithmConfig cfg;
  cfg.name = c.algorithm;
  cfg.seed = 9;
  cfg.consensus_step = 0.3;
  const std::vector<float> x0 = testing::SeededInput(kDim, 1);
  std::vector<std::unique_ptr<Algorithm>> cpu;
  std::vector<std::unique_ptr<CudaAlgorithm>> gpu;
  for (int i = 0; i < kPeers; ++i) {
    auto a = MakeAlgorithm(cfg, topo, i, x0, Codec(c.codec));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    cpu.push_back(std::move(*a));
    auto b = CudaAlgorithm::Make(cfg, topo, i, x0, Codec(c.codec));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    gpu.push_back(std::move(*b));
  }
  for (int64_t t = 1; t <= 5; ++t) {
    std::vector<ByteBuffer> pc(kPeers), pg(kPeers);
    for (int i = 0; i < kPeers; ++i) {
      // A gradient that depends on the model: 0.1 x + seeded noise.
      std::vector<float> g = testing::SeededInput(kDim, 100 * t + i);
      std::vector<float> gg = g;
      for (size_t k = 0; k < kDim; ++k) {
        g[k] += 0.1f * cpu[i]->params()[k];
        gg[k] += 0.1f * gpu[i]->params()[k];
      }
      ASSERT_TRUE(cpu[i]->Begin(t, g, 0.05f, &pc[i]).ok());
      ASSERT_TRUE(gpu[i]->Begin(t, gg, 0.05f, &pg[i]).ok());
      ASSERT_EQ(pc[i], pg[i]) << "payload of peer " << i << " at round " << t;
    }
    for (int i = 0; i < kPeers; ++i) {
      for (const Neighbor& nb : topo->Row(i, t)) {
        ASSERT_TRUE(cpu[i]->Absorb(t, nb.id, pc[nb.id]).ok());
        ASSERT_TRUE(gpu[i]->Absorb(t, nb.id, pg[nb.id]).ok());
      }
      ASSERT_TRUE(cpu[i]->End(t).ok());
      ASSERT_TRUE(gpu[i]->End(t).ok());
      const std::span<const float> a = cpu[i]->params(), b = gpu[i]->params();
      EXPECT_TRUE(testing::SameBits({a.begin(), a.end()}, {b.begin(), b.end()}))
          << "peer " << i << " round " << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, CudaAlgorithmVsCpu,
    ::testing::Values(AlgoCase{"dpsgd", ""}, AlgoCase{"dcd", "qsgd:8"}, AlgoCase{"dcd", "identity"},
                      AlgoCase{"ecd", "qsgd:4:norm=l2"}, AlgoCase{"choco", "qsgd:2"},
                      AlgoCase{"choco", "fp16"}, AlgoCase{"choco", "bf16"},
                      AlgoCase{"dcd", "natural"}, AlgoCase{"ecd", "randk_unbiased:0.5"},
                      AlgoCase{"choco", "sign"}, AlgoCase{"choco", "topk:0.1"},
                      AlgoCase{"choco", "then(randk:0.2,qsgd:4)"}),
    [](const ::testing::TestParamInfo<AlgoCase>& i) {
      std::string s = i.param.algorithm + "_" + (i.param.codec.empty() ? "raw" : i.param.codec);
      for (char& ch : s) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return s;
    });

// Runs without a GPU: asking for a device that is not there fails at start, clearly.
TEST(CudaAlgorithm, MissingDeviceFailsAtStart) {
  Result<int> n = CudaDeviceCount();
  ASSERT_TRUE(n.ok());
  AlgorithmConfig cfg;
  cfg.name = "dcd";
  const std::vector<float> x0 = testing::SeededInput(10, 1);
  auto a = CudaAlgorithm::Make(cfg, hearsay::testing::Ring(3), 0, x0, Codec("qsgd:8"), *n);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kFailedPrecondition) << a.status().ToString();
  EXPECT_NE(a.status().message().find("requested but"), std::string::npos);
}

TEST(CudaAlgorithm, ArgumentErrorsComeBeforeTheDeviceCheck) {
  AlgorithmConfig cfg;
  cfg.name = "gossip";
  const std::vector<float> x0 = testing::SeededInput(10, 1);
  auto a = CudaAlgorithm::Make(cfg, hearsay::testing::Ring(3), 0, x0, nullptr);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearsay::cuda
