// A peer's rank from --id or the variables srun / mpirun set: each variable alone, agreement,
// disagreement, bad values and ranks out of range (one-line messages naming the variable).
#include "runtime/launch/rank.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace hearsay {
namespace {

// A fake environment.
EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(Rank, EachVariableAlone) {
  for (const char* var : kRankVariables) {
    auto r = ResolveRank(std::nullopt, 8, "t.yaml", Env({{var, "5"}}));
    ASSERT_TRUE(r.ok()) << var << ": " << r.status().message();
    EXPECT_EQ(r->id, 5) << var;
    EXPECT_EQ(r->source, var);
  }
}

TEST(Rank, IdWinsOverTheEnvironment) {
  auto r = ResolveRank(3, 8, "t.yaml", Env({{"SLURM_PROCID", "1"}, {"PMI_RANK", "2"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id, 3);
  EXPECT_EQ(r->source, "--id");
}

TEST(Rank, AgreeingVariablesAreFine) {
  auto r = ResolveRank(std::nullopt, 8, "t.yaml", Env({{"SLURM_PROCID", "6"}, {"PMI_RANK", "6"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id, 6);
}

TEST(Rank, DisagreeingVariablesAreAnError) {
  auto r = ResolveRank(std::nullopt, 8, "t.yaml",
                       Env({{"SLURM_PROCID", "1"}, {"OMPI_COMM_WORLD_RANK", "2"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "SLURM_PROCID=1 and OMPI_COMM_WORLD_RANK=2 disagree; give the rank with --id (or "
            "unset one of them)");
}

TEST(Rank, OutOfRange) {
  auto r = ResolveRank(std::nullopt, 4, "t.yaml", Env({{"HEARSAY_RANK", "4"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "HEARSAY_RANK=4 is not a node of t.yaml (ids are 0..3)");
  auto id = ResolveRank(-1, 4, "t.yaml", Env({}));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(), "--id -1 is not a node of t.yaml (ids are 0..3)");
}

TEST(Rank, NotANumber) {
  for (const char* bad : {"", "x", "1.5", "-1", "2x", "99999999999999999999"}) {
    auto r = ResolveRank(std::nullopt, 4, "t.yaml", Env({{"PMI_RANK", bad}}));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(),
              std::string("PMI_RANK='") + bad + "' is not a rank (a whole number from 0)");
  }
}

TEST(Rank, NoneGiven) {
  auto r = ResolveRank(std::nullopt, 4, "t.yaml", Env({}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no rank: give --id"), std::string::npos);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace hearsay
