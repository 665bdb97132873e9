#include "common/status.h"

#include <gtest/gtest.h>

namespace hearsay {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgument("value " + std::to_string(v) + " must be positive");
  return v;
}

Status UsesMacros(int v, int* out) {
  HEARSAY_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  *out = x * 2;
  return Status::Ok();
}

TEST(Status, OkAndErrorCarryCodeAndMessage) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Corruption("frame truncated");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.ToString(), "Corruption: frame truncated");
  EXPECT_EQ(s.WithPrefix("peer 3").message(), "peer 3: frame truncated");
}

TEST(Result, MacrosPropagateErrors) {
  int out = 0;
  EXPECT_TRUE(UsesMacros(4, &out).ok());
  EXPECT_EQ(out, 8);
  Status s = UsesMacros(-1, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "value -1 must be positive");
}

}  // namespace
}  // namespace hearsay
