// RoundProtocol: the Begin/Absorb/End checks shared by the CPU and CUDA algorithms, with their
// exact messages (the peer logs them; the CUDA test has no GPU to run here).
#include "runtime/algorithms/round_protocol.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "tests/runtime/algorithms/test_support.h"

namespace hearsay {
namespace {

using hearsay::testing::Ring;

TEST(RoundProtocol, RunsAFullRoundInAscendingOrder) {
  auto topo = Ring(5);
  RoundProtocol p(2);  // N[2] = {1, 2, 3}
  ASSERT_TRUE(p.CheckBegin("dcd", 1).ok());
  Result<RoundProtocol::RoundRow> row = p.LookUpRow(*topo, 1);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->self_pos, 1u);
  p.Open(1, *row);
  EXPECT_TRUE(p.in_round());
  EXPECT_EQ(p.round(), 1);
  EXPECT_EQ(p.row().size(), 3u);
  for (int j : {1, 2, 3}) {
    Result<size_t> pos = p.CheckAbsorb("dcd", 1, j);
    ASSERT_TRUE(pos.ok()) << pos.status().ToString();
    EXPECT_EQ(*pos, static_cast<size_t>(j - 1));
    p.Absorbed(*pos);
  }
  ASSERT_TRUE(p.CheckEnd("dcd", 1).ok());
  p.Close();
  EXPECT_FALSE(p.in_round());
  EXPECT_EQ(p.round(), 1);
}

TEST(RoundProtocol, ExplainsEveryViolation) {
  auto topo = Ring(5);
  RoundProtocol p(2);
  EXPECT_EQ(p.CheckAbsorb("dcd", 1, 1).status().message(),
            "dcd peer 2: payload of round 1 from peer 1 outside a round; call Begin first");
  EXPECT_EQ(p.CheckBegin("dcd", 0).message(),
            "dcd peer 2: Begin(0) after round 0; rounds are 1-based and increase");
  p.Open(1, *p.LookUpRow(*topo, 1));
  Status s = p.CheckBegin("dcd", 2);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "dcd peer 2: Begin(2) while round 1 is still open; call End first");
  EXPECT_EQ(p.CheckAbsorb("dcd", 2, 1).status().message(),
            "dcd peer 2: payload of round 2 from peer 1 while round 1 is open");
  s = p.CheckAbsorb("dcd", 1, 4).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "dcd peer 2: round 1 payload from peer 4, which is not an in-neighbour");
  s = p.CheckAbsorb("dcd", 1, 3).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "dcd peer 2: round 1 payload from peer 3 before peer 1; each neighbour once, in "
            "ascending peer id (ALGORITHMS.md invariant 4)");
  s = p.CheckEnd("dcd", 1);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "dcd peer 2: End(1) before the payload of peer 1 was absorbed");
  EXPECT_EQ(p.CheckEnd("dcd", 2).message(), "dcd peer 2: End(2) without a matching Begin");
  p.Absorbed(*p.CheckAbsorb("dcd", 1, 1));
  s = p.CheckAbsorb("dcd", 1, 1).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "dcd peer 2: round 1 payload from peer 1 after peer 1; each neighbour once, in "
            "ascending peer id (ALGORITHMS.md invariant 4)");
}

TEST(RoundProtocol, EarlyPayloadIsRefusedNamingTheMissingPeer) {
  auto topo = Ring(5);
  RoundProtocol p(2);
  p.Open(1, *p.LookUpRow(*topo, 1));
  EXPECT_EQ(p.CheckAbsorb("choco", 1, 3).status().message(),
            "choco peer 2: round 1 payload from peer 3 before peer 1; each neighbour once, in "
            "ascending peer id (ALGORITHMS.md invariant 4)");
}

TEST(RoundProtocol, RowWithoutSelfIsInternal) {
  hearsay::testing::FixedTopology topo({{{0, 1.0}}, {{0, 1.0}}});  // peer 1's row lacks 1
  RoundProtocol p(1);
  EXPECT_EQ(p.LookUpRow(topo, 3).status().code(), StatusCode::kInternal);
  EXPECT_EQ(p.LookUpRow(topo, 3).status().message(),
            "topology row of peer 1 at round 3 does not contain the peer itself");
}

TEST(RoundProtocol, LearningRateMustBeFiniteAndNonNegative) {
  EXPECT_TRUE(CheckLearningRate("ecd", 0.0f).ok());
  EXPECT_EQ(CheckLearningRate("ecd", -1.0f).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckLearningRate("ecd", std::numeric_limits<float>::quiet_NaN()).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearsay
