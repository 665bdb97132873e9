// Unit tests of the four gossip algorithms, driven by hand through Begin/Absorb/End.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/state_io.h"
#include "runtime/algorithms/algorithm.h"
#include "tests/runtime/algorithms/test_support.h"

namespace hearsay {
namespace {

using testing::DyadicTriangle;
using testing::Ring;
using testing::ScaleCodec;

using Models = std::vector<std::vector<float>>;
// grads[t][i]: the gradient peer i uses at round t+1.
using Grads = std::vector<std::vector<std::vector<float>>>;

std::vector<std::unique_ptr<Algorithm>> MakePeers(const AlgorithmConfig& config,
                                                  std::shared_ptr<const Topology> topo,
                                                  const std::vector<float>& x0,
                                                  float codec_scale = 1.0f) {
  std::vector<std::unique_ptr<Algorithm>> peers;
  for (int i = 0; i < topo->size(); ++i) {
    std::unique_ptr<Compressor> codec;
    if (config.name != "dpsgd") codec = std::make_unique<ScaleCodec>(codec_scale);
    auto alg = MakeAlgorithm(config, topo, i, x0, std::move(codec));
    EXPECT_TRUE(alg.ok()) << alg.status().ToString();
    peers.push_back(std::move(alg).value());
  }
  return peers;
}

// One synchronous round over all peers, exactly as the protocol says.
void Round(std::vector<std::unique_ptr<Algorithm>>& peers, const Topology& topo, int64_t t,
           const std::vector<std::vector<float>>& grads, float lr) {
  std::vector<ByteBuffer> out(peers.size());
  for (size_t i = 0; i < peers.size(); ++i) {
    ASSERT_TRUE(peers[i]->Begin(t, grads[i], lr, &out[i]).ok());
  }
  for (size_t i = 0; i < peers.size(); ++i) {
    for (const Neighbor& nb : topo.Row(static_cast<int>(i), t)) {
      ASSERT_TRUE(peers[i]->Absorb(t, nb.id, out[nb.id]).ok());
    }
    ASSERT_TRUE(peers[i]->End(t).ok());
  }
}

Models Params(const std::vector<std::unique_ptr<Algorithm>>& peers) {
  Models m;
  for (const auto& p : peers) {
    const auto s = std::as_const(*p).params();
    m.emplace_back(s.begin(), s.end());
  }
  return m;
}

Models RunByHand(const std::string& name, const Grads& grads, float lr) {
  AlgorithmConfig config;
  config.name = name;
  auto topo = DyadicTriangle();
  auto peers = MakePeers(config, topo, {1.0f, 2.0f});
  for (size_t t = 0; t < grads.size(); ++t) Round(peers, *topo, t + 1, grads[t], lr);
  return Params(peers);
}

// Two rounds on the dyadic triangle (W_ii = 1/2, W_ij = 1/4), x0 = (1, 2), lr = 1/2; every
// value below is exact in float.
const Grads kTwoRounds = {{{2, 0}, {0, 4}, {-2, 2}}, {{1, 1}, {1, 1}, {1, 1}}};
// D-PSGD by hand: after round 1, x = x0 - g/2 = (0,2), (1,0), (2,1); after round 2,
// x_i = sum_j W_ij x_j - (1/2, 1/2).
const Models kDpsgdTwoRounds = {{0.25f, 0.75f}, {0.5f, 0.25f}, {0.75f, 0.5f}};

TEST(DPsgd, TwoRoundsOnDyadicTriangleMatchHandComputation) {
  EXPECT_EQ(RunByHand("dpsgd", kTwoRounds, 0.5f), kDpsgdTwoRounds);
}

TEST(Dcd, WithIdentityCodecMatchesDPsgdHandComputation) {
  // Replicas are exact, so half - x is exactly D-PSGD's step.
  EXPECT_EQ(RunByHand("dcd", kTwoRounds, 0.5f), kDpsgdTwoRounds);
}

TEST(Ecd, WithIdentityCodecMatchesDPsgdHandComputation) {
  // t = 1: z = (x + x_new)/2, y = -y + 2z = x_new; t = 2: z = x_new, y = z. So y_j = x_j.
  EXPECT_EQ(RunByHand("ecd", kTwoRounds, 0.5f), kDpsgdTwoRounds);
}

TEST(Choco, TwoRoundsOnDyadicTriangleMatchHandComputation) {
  // Round 1: x = x0 - g/2 (m = xh = x0, no gossip). Round 2 with gamma_c = 1/2:
  // x_i <- x_i - 1/2 + 1/2 (sum_j W_ij x_j - x_i), e.g. peer 0: (-0.5, 1.5) + (0.375, -0.375).
  const Models expected = {{-0.125f, 1.125f}, {0.5f, -0.125f}, {1.125f, 0.5f}};
  EXPECT_EQ(RunByHand("choco", kTwoRounds, 0.5f), expected);
}

TEST(Algorithms, PayloadOfDPsgdIsRawLittleEndianFp32) {
  AlgorithmConfig config;
  auto topo = DyadicTriangle();
  auto peers = MakePeers(config, topo, {1.5f, -2.0f});
  ByteBuffer out;
  ASSERT_TRUE(peers[0]->Begin(1, std::vector<float>{0, 0}, 0.1f, &out).ok());
  ASSERT_EQ(out.size(), 8u);
  float v[2];
  std::memcpy(v, out.data(), 8);
  EXPECT_EQ(v[0], 1.5f);
  EXPECT_EQ(v[1], -2.0f);
}

// The synchronous sum starts at +0.0f (ALGORITHMS.md: 0.0f + W_i1 x_1 + ...): models of -0.0f
// mix to +0.0f, as the zero-filled sum gives, not to -0.0f, as a sum started from its first
// term would.
TEST(DPsgd, MixOfNegativeZerosIsPositiveZero) {
  AlgorithmConfig config;
  auto topo = DyadicTriangle();
  auto peers = MakePeers(config, topo, {-0.0f, -0.0f});
  Round(peers, *topo, 1, {{0, 0}, {0, 0}, {0, 0}}, 0.5f);
  for (const auto& m : Params(peers)) {
    for (float v : m) {
      EXPECT_EQ(v, 0.0f);
      EXPECT_FALSE(std::signbit(v));
    }
  }
}

// A raw payload is read where it lies: one that starts at an odd address mixes to the same bits.
TEST(DPsgd, UnalignedRawPayloadMixesToTheSameBits) {
  AlgorithmConfig config;
  auto topo = DyadicTriangle();
  const std::vector<float> x0 = {0.1f, -3.7f, 2.5e-3f, 7.0f, -1.0f};
  auto aligned = MakePeers(config, topo, x0);
  auto shifted = MakePeers(config, topo, x0);
  const std::vector<std::vector<float>> g = {
      {1, 2, 3, 4, 5}, {0.3f, -1, 0, 2, 1}, {-2, 0.5f, 1, 0, 3}};
  for (int64_t t = 1; t <= 3; ++t) {
    std::vector<ByteBuffer> out(3), out2(3);
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(aligned[i]->Begin(t, g[(i + t) % 3], 0.25f, &out[i]).ok());
      ASSERT_TRUE(shifted[i]->Begin(t, g[(i + t) % 3], 0.25f, &out2[i]).ok());
    }
    for (int i = 0; i < 3; ++i) {
      for (const Neighbor& nb : topo->Row(i, t)) {
        ASSERT_TRUE(aligned[i]->Absorb(t, nb.id, out[nb.id]).ok());
        std::vector<uint8_t> odd(out2[nb.id].size() + 1);
        std::memcpy(odd.data() + 1, out2[nb.id].data(), out2[nb.id].size());
        ASSERT_TRUE(shifted[i]->Absorb(t, nb.id, {odd.data() + 1, out2[nb.id].size()}).ok());
      }
      ASSERT_TRUE(aligned[i]->End(t).ok());
      ASSERT_TRUE(shifted[i]->End(t).ok());
    }
  }
  EXPECT_EQ(Params(aligned), Params(shifted));
  EXPECT_NE(Params(aligned)[0], x0);
}

class EveryAlgorithm : public ::testing::TestWithParam<std::string> {};

// A truncated payload from each row member -- the own one included -- is refused naming the
// sender, and changes nothing: a run that then gets the right payloads stays bit-identical.
void BadPayloadsChangeNothing(const std::string& name, bool async) {
  AlgorithmConfig config;
  config.name = name;
  config.async = async;
  auto topo = Ring(5);
  const std::vector<float> x0 = {0.5f, -1.0f, 2.0f};
  auto clean = MakePeers(config, topo, x0);
  auto hit = MakePeers(config, topo, x0);
  const std::vector<std::vector<float>> g = {
      {1, 2, 3}, {-1, 0, 1}, {0.5f, 0.5f, 0}, {2, -2, 1}, {0, 0, 1}};
  for (int64_t t = 1; t <= 3; ++t) {
    std::vector<ByteBuffer> out(5), out2(5);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(clean[i]->Begin(t, g[(i + t) % 5], 0.1f, &out[i]).ok());
      ASSERT_TRUE(hit[i]->Begin(t, g[(i + t) % 5], 0.1f, &out2[i]).ok());
    }
    for (int i = 0; i < 5; ++i) {
      for (const Neighbor& nb : topo->Row(i, t)) {
        ASSERT_TRUE(clean[i]->Absorb(t, nb.id, out[nb.id]).ok());
        // The victim first gets a truncated payload, then the right one.
        const std::vector<float> before(hit[i]->params().begin(), hit[i]->params().end());
        std::span<const uint8_t> bad(out2[nb.id].data(), out2[nb.id].size() - 1);
        Status s = hit[i]->Absorb(t, nb.id, bad);
        EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
        EXPECT_NE(s.message().find("from peer " + std::to_string(nb.id)), std::string::npos)
            << s.message();
        const std::vector<float> after(hit[i]->params().begin(), hit[i]->params().end());
        EXPECT_EQ(before, after);
        ASSERT_TRUE(hit[i]->Absorb(t, nb.id, out2[nb.id]).ok());
      }
      ASSERT_TRUE(clean[i]->End(t).ok());
      ASSERT_TRUE(hit[i]->End(t).ok());
    }
  }
  // Hidden state (replicas, estimates, m) was untouched too: the runs stay bit-identical.
  EXPECT_EQ(Params(clean), Params(hit));
}

TEST_P(EveryAlgorithm, BadPayloadGivesCorruptionAndLeavesStateUntouched) {
  BadPayloadsChangeNothing(GetParam(), /*async=*/false);
}

// The asynchronous protocol (what static graphs on the CPU run, staleness 0 in sync mode), where
// D-PSGD checks its own payload without decoding it.
TEST_P(EveryAlgorithm, BadPayloadGivesCorruptionAndLeavesStateUntouchedAsync) {
  BadPayloadsChangeNothing(GetParam(), /*async=*/true);
}

// Static graphs on the CPU run every algorithm on the asynchronous protocol (sync mode being
// staleness 0), which must give the classic synchronous loop's bits: the same terms summed in the
// same order. Values where the order shows (random floats, weights 1/3 on a ring), a model long
// enough for blocked loops to have several blocks and a tail.
TEST_P(EveryAlgorithm, AsynchronousProtocolGivesTheSynchronousLoopsBits) {
  auto topo = Ring(5);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x0(5003);
  for (float& v : x0) v = u(rng);
  Grads grads(4, std::vector<std::vector<float>>(5, std::vector<float>(x0.size())));
  for (auto& round : grads) {
    for (auto& g : round) {
      for (float& v : g) v = u(rng);
    }
  }
  Models models[2];
  for (bool async : {false, true}) {
    AlgorithmConfig config;
    config.name = GetParam();
    config.async = async;
    config.allow_biased = true;  // a lossy codec, so that replicas and models differ
    auto peers = MakePeers(config, topo, x0, /*codec_scale=*/0.75f);
    for (size_t t = 0; t < grads.size(); ++t) Round(peers, *topo, t + 1, grads[t], 0.1f);
    models[async] = Params(peers);
  }
  EXPECT_EQ(models[0], models[1]);
  EXPECT_NE(models[0][0], x0);
}

// AbsorbBuffer (what the peer core calls with a received payload's buffer) gives Absorb's bits,
// mixed with Absorb calls, through a checkpoint and a bad payload. Async D-PSGD keeps the buffer
// as the neighbour's model: the next payload of that neighbour hands the previous storage back.
TEST_P(EveryAlgorithm, AbsorbBufferGivesAbsorbsBits) {
  auto topo = Ring(5);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x0(301);
  for (float& v : x0) v = u(rng);
  AlgorithmConfig config;
  config.name = GetParam();
  config.async = true;
  config.allow_biased = true;
  auto spans = MakePeers(config, topo, x0, 0.75f);
  auto buffers = MakePeers(config, topo, x0, 0.75f);
  std::vector<std::vector<const uint8_t*>> kept(5, std::vector<const uint8_t*>(5, nullptr));
  size_t handed_back = 0;
  for (int64_t t = 1; t <= 6; ++t) {
    std::vector<ByteBuffer> out(5), out2(5);
    for (int i = 0; i < 5; ++i) {
      std::vector<float> g(x0.size());
      for (float& v : g) v = u(rng);
      ASSERT_TRUE(spans[i]->Begin(t, g, 0.1f, &out[i]).ok());
      ASSERT_TRUE(buffers[i]->Begin(t, g, 0.1f, &out2[i]).ok());
    }
    for (int i = 0; i < 5; ++i) {
      for (const Neighbor& nb : topo->Row(i, t)) {
        ASSERT_TRUE(spans[i]->Absorb(t, nb.id, out[nb.id]).ok());
        if (t == 3) {  // a round through Absorb: a copy replaces a kept buffer
          ASSERT_TRUE(buffers[i]->Absorb(t, nb.id, out2[nb.id]).ok());
          kept[i][nb.id] = nullptr;
          continue;
        }
        ByteBuffer bad(out2[nb.id].begin(), out2[nb.id].end() - 1);
        const uint8_t* bad_data = bad.data();
        EXPECT_EQ(buffers[i]->AbsorbBuffer(t, nb.id, &bad).code(), StatusCode::kCorruption);
        EXPECT_EQ(bad.data(), bad_data);  // left with the caller
        ByteBuffer mine = out2[nb.id];
        const uint8_t* data = mine.data();
        ASSERT_TRUE(buffers[i]->AbsorbBuffer(t, nb.id, &mine).ok());
        if (GetParam() == "dpsgd" && nb.id != i) {
          EXPECT_EQ(mine.data(), kept[i][nb.id]);  // the previous payload's storage, or empty
          handed_back += kept[i][nb.id] != nullptr;
          kept[i][nb.id] = data;
        }
      }
      ASSERT_TRUE(spans[i]->End(t).ok());
      ASSERT_TRUE(buffers[i]->End(t).ok());
    }
    if (t == 4) {  // a checkpoint of every buffered peer, read back into a fresh one
      for (int i = 0; i < 5; ++i) {
        ByteBuffer state;
        StateWriter w(&state);
        ASSERT_TRUE(buffers[i]->SaveState(w).ok());
        auto fresh = MakePeers(config, topo, x0, 0.75f);
        StateReader r(state);
        ASSERT_TRUE(fresh[i]->LoadState(r).ok());
        buffers[i] = std::move(fresh[i]);
        std::fill(kept[i].begin(), kept[i].end(), nullptr);
      }
    }
    for (int i = 0; i < 5; ++i) {
      for (const Neighbor& nb : topo->Row(i, t)) {
        auto a = spans[i]->PublicCopy(nb.id);
        auto b = buffers[i]->PublicCopy(nb.id);
        ASSERT_EQ(a.ok(), b.ok());
        if (a.ok()) {
          EXPECT_EQ(*a, *b) << "peer " << i << "'s copy of " << nb.id;
        }
      }
    }
  }
  EXPECT_EQ(Params(spans), Params(buffers));
  EXPECT_NE(Params(spans)[0], x0);
  if (GetParam() == "dpsgd") {
    EXPECT_EQ(handed_back, 5u * 2 * 2);  // in rounds 2 and 6, by each of 5 peers' 2 neighbours
  }
}

TEST_P(EveryAlgorithm, RejectsProtocolViolationsWithoutChangingState) {
  AlgorithmConfig config;
  config.name = GetParam();
  auto topo = Ring(5);
  auto peers = MakePeers(config, topo, {1.0f, 1.0f});
  Algorithm& a = *peers[2];  // N[2] = {1, 2, 3}
  ByteBuffer own, other;
  ASSERT_TRUE(peers[1]->Begin(1, std::vector<float>{1, 0}, 0.1f, &other).ok());
  EXPECT_EQ(a.Absorb(1, 1, other).code(), StatusCode::kFailedPrecondition);  // before Begin
  ASSERT_TRUE(a.Begin(1, std::vector<float>{0, 1}, 0.1f, &own).ok());
  EXPECT_EQ(a.Begin(1, std::vector<float>{0, 1}, 0.1f, &own).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(a.Absorb(1, 4, other).code(), StatusCode::kInvalidArgument);     // not a neighbour
  EXPECT_EQ(a.Absorb(2, 1, other).code(), StatusCode::kFailedPrecondition);  // wrong round
  EXPECT_EQ(a.Absorb(1, 2, own).code(), StatusCode::kFailedPrecondition);    // skips peer 1
  EXPECT_EQ(a.End(1).code(), StatusCode::kFailedPrecondition);               // nothing absorbed
  ASSERT_TRUE(a.Absorb(1, 1, other).ok());
  EXPECT_EQ(a.Absorb(1, 1, other).code(), StatusCode::kFailedPrecondition);  // twice
  EXPECT_TRUE(a.Absorb(1, 2, own).ok());
  EXPECT_TRUE(a.Absorb(1, 3, other).ok());  // any well-formed bytes
  EXPECT_TRUE(a.End(1).ok());
  EXPECT_EQ(a.Begin(1, std::vector<float>{0, 1}, 0.1f, &own).code(),
            StatusCode::kFailedPrecondition);  // rounds increase
  EXPECT_EQ(a.Begin(2, std::vector<float>{0, 1, 2}, 0.1f, &own).code(),
            StatusCode::kInvalidArgument);  // gradient size
}

INSTANTIATE_TEST_SUITE_P(Algorithms, EveryAlgorithm,
                         ::testing::Values("dpsgd", "dcd", "ecd", "choco"));

TEST(MakeAlgorithm, DcdAndEcdRefuseBiasedCodecAndSayWhy) {
  for (const char* name : {"dcd", "ecd"}) {
    AlgorithmConfig config;
    config.name = name;
    auto r = MakeAlgorithm(config, Ring(4), 0, std::vector<float>{1, 2},
                           std::make_unique<ScaleCodec>(0.5f));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("unbiased"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("test_scale"), std::string::npos);
    config.allow_biased = true;
    EXPECT_TRUE(MakeAlgorithm(config, Ring(4), 0, std::vector<float>{1, 2},
                              std::make_unique<ScaleCodec>(0.5f))
                    .ok())
        << name << " with allow_biased";
  }
}

TEST(MakeAlgorithm, ChocoAcceptsBiasedCodec) {
  AlgorithmConfig config;
  config.name = "choco";
  EXPECT_TRUE(MakeAlgorithm(config, Ring(4), 0, std::vector<float>{1, 2},
                            std::make_unique<ScaleCodec>(0.5f))
                  .ok());
}

TEST(MakeAlgorithm, RejectsBadConfigurations) {
  AlgorithmConfig config;
  config.name = "adpsgd";
  auto r = MakeAlgorithm(config, Ring(4), 0, std::vector<float>{1}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("dpsgd, dcd, ecd, choco"), std::string::npos);

  config.name = "dpsgd";
  EXPECT_FALSE(MakeAlgorithm(config, Ring(4), 4, std::vector<float>{1}, nullptr).ok());
  EXPECT_FALSE(MakeAlgorithm(config, Ring(4), 0, std::vector<float>{}, nullptr).ok());
  EXPECT_FALSE(
      MakeAlgorithm(config, Ring(4), 0, std::vector<float>{1}, std::make_unique<ScaleCodec>(0.5f))
          .ok());
  EXPECT_TRUE(
      MakeAlgorithm(config, Ring(4), 0, std::vector<float>{1}, std::make_unique<ScaleCodec>(1.0f))
          .ok());

  config.name = "dcd";
  EXPECT_FALSE(MakeAlgorithm(config, Ring(4), 0, std::vector<float>{1}, nullptr).ok());

  config.name = "choco";
  config.consensus_step = 0;
  EXPECT_FALSE(
      MakeAlgorithm(config, Ring(4), 0, std::vector<float>{1}, std::make_unique<ScaleCodec>(1.0f))
          .ok());
  config.consensus_step = 1.5;
  EXPECT_FALSE(
      MakeAlgorithm(config, Ring(4), 0, std::vector<float>{1}, std::make_unique<ScaleCodec>(1.0f))
          .ok());
}

TEST(Choco, PreservesTheAverageWithSymmetricWeightsEvenWithABiasedCodec) {
  AlgorithmConfig config;
  config.name = "choco";
  config.consensus_step = 0.4;
  const int n = 6;
  auto topo = Ring(n);
  const std::vector<float> x0 = {0.3f, -0.7f, 1.1f, 0.0f};
  auto peers = MakePeers(config, topo, x0, /*codec_scale=*/0.5f);  // decode = x/2: biased
  const float lr = 0.05f;
  for (int64_t t = 1; t <= 60; ++t) {
    std::vector<std::vector<float>> g(n, std::vector<float>(4));
    std::vector<double> expected(4, 0.0);
    const Models before = Params(peers);
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < 4; ++k) {
        g[i][k] = static_cast<float>(std::sin(0.7 * t + 1.3 * i + 2.1 * k));
        expected[k] += (before[i][k] - static_cast<double>(lr) * g[i][k]) / n;
      }
    }
    Round(peers, *topo, t, g, lr);
    const Models after = Params(peers);
    for (int k = 0; k < 4; ++k) {
      double avg = 0;
      for (int i = 0; i < n; ++i) avg += after[i][k] / static_cast<double>(n);
      ASSERT_NEAR(avg, expected[k], 1e-5) << "round " << t << ", coordinate " << k;
    }
  }
  // The models did move apart and back: the test would catch a lost gossip term.
  const Models final_models = Params(peers);
  EXPECT_NE(final_models[0], final_models[3]);
}

}  // namespace
}  // namespace hearsay
