#include "runtime/model/lr_schedule.h"

#include <gtest/gtest.h>

#include <string>

namespace hearsay {
namespace {

std::string ErrorOf(const LrSchedule& lr) { return lr.Validate().message(); }

TEST(LrSchedule, ConstantInverseAndStepFollowTheirFormulas) {
  LrSchedule c;
  c.base = 0.25;
  EXPECT_FLOAT_EQ(c.At(1), 0.25f);
  EXPECT_FLOAT_EQ(c.At(1000), 0.25f);

  LrSchedule inv{"inverse", 0.5, 0.1, 0};
  EXPECT_FLOAT_EQ(inv.At(10), 0.25f);  // 0.5 / (1 + 0.1 * 10)
  EXPECT_FLOAT_EQ(inv.At(0), 0.5f);

  LrSchedule step{"step", 1.0, 0.5, 100};
  EXPECT_FLOAT_EQ(step.At(99), 1.0f);
  EXPECT_FLOAT_EQ(step.At(100), 0.5f);
  EXPECT_FLOAT_EQ(step.At(250), 0.25f);
}

TEST(LrSchedule, ValidateNamesTheBadField) {
  EXPECT_TRUE(LrSchedule{}.Validate().ok());
  Status s = LrSchedule{"cosine", 0.1, 0, 0}.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("constant, inverse, step"), std::string::npos);
  EXPECT_NE(ErrorOf({"constant", 0, 0, 0}).find("lr.base"), std::string::npos);
  EXPECT_NE(ErrorOf({"inverse", 0.1, -1, 0}).find("lr.decay"), std::string::npos);
  EXPECT_NE(ErrorOf({"step", 0.1, 0.5, 0}).find("lr.step_every"), std::string::npos);
  EXPECT_NE(ErrorOf({"step", 0.1, 2, 10}).find("lr.decay"), std::string::npos);
  EXPECT_TRUE((LrSchedule{"step", 0.1, 0.5, 10}.Validate().ok()));
}

}  // namespace
}  // namespace hearsay
