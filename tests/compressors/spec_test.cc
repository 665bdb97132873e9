// Spec strings: parsing, canonical forms and the error messages users see.
#include <gtest/gtest.h>

#include "compressors/compressor.h"
#include "compressors/spec.h"

namespace hearsay {
namespace {

std::string ErrorOf(const std::string& spec) {
  auto c = MakeCompressor(spec);
  EXPECT_FALSE(c.ok()) << spec << " was accepted";
  return c.ok() ? "" : c.status().message();
}

TEST(Spec, ParsesNestedCombinatorsWithSpaces) {
  auto n = ParseSpec(" ef( then(topk:0.01 , natural) ) ");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->name, "ef");
  ASSERT_EQ(n->children.size(), 1u);
  EXPECT_EQ(n->children[0].name, "then");
  ASSERT_EQ(n->children[0].children.size(), 2u);
  EXPECT_EQ(n->children[0].children[0].args, std::vector<std::string>{"0.01"});
}

TEST(Spec, CanonicalFormsOmitDefaults) {
  EXPECT_EQ(MakeCompressor("qsgd:8:256")->get()->Spec(), "qsgd:8");
  EXPECT_EQ(MakeCompressor("qsgd:4:128:norm=l2")->get()->Spec(), "qsgd:4:128:norm=l2");
  EXPECT_EQ(MakeCompressor("qsgd:4:norm=max")->get()->Spec(), "qsgd:4");
  EXPECT_EQ(MakeCompressor("then( topk:0.01 ,natural)")->get()->Spec(), "then(topk:0.01,natural)");
  EXPECT_EQ(MakeCompressor("ef(sign:64)")->get()->Spec(), "ef(sign:64)");
}

TEST(Spec, BitsOutOfRangeNamesTheRange) {
  EXPECT_EQ(ErrorOf("qsgd:9"), "qsgd:9: bits must be 1..8");
  EXPECT_EQ(ErrorOf("qsgd:0"), "qsgd:0: bits must be 1..8");
}

TEST(Spec, RejectsBadArguments) {
  EXPECT_NE(ErrorOf("qsgd").find("missing bits"), std::string::npos);
  EXPECT_NE(ErrorOf("qsgd:x").find("bits must be an integer"), std::string::npos);
  EXPECT_NE(ErrorOf("qsgd:4:100").find("multiple of 8"), std::string::npos);
  EXPECT_NE(ErrorOf("qsgd:4:norm=l3").find("norm must be l2 or max"), std::string::npos);
  EXPECT_NE(ErrorOf("topk:0").find("(0, 1]"), std::string::npos);
  EXPECT_NE(ErrorOf("topk:1.5").find("(0, 1]"), std::string::npos);
  EXPECT_NE(ErrorOf("randk:abc").find("ratio must be a number"), std::string::npos);
  EXPECT_NE(ErrorOf("natdither:0").find("s must be 1..127"), std::string::npos);
  EXPECT_NE(ErrorOf("identity:3").find("usage"), std::string::npos);
  EXPECT_NE(ErrorOf("natural(qsgd:4)").find("takes no"), std::string::npos);
}

TEST(Spec, RejectsUnknownNamesAndListsKnownOnes) {
  const std::string e = ErrorOf("zstd");
  EXPECT_NE(e.find("unknown codec 'zstd'"), std::string::npos);
  EXPECT_NE(e.find("qsgd:b"), std::string::npos);
}

TEST(Spec, RejectsMalformedCombinators) {
  EXPECT_NE(ErrorOf("ef(qsgd:4").find("missing ')'"), std::string::npos);
  EXPECT_NE(ErrorOf("ef(qsgd:4, natural)").find("usage: ef(C)"), std::string::npos);
  EXPECT_NE(ErrorOf("then(qsgd:8, natural)").find("must be a sparsifier"), std::string::npos);
  EXPECT_NE(ErrorOf("then(topk:0.1, ef(natural))").find("ef(then(C1, C2))"), std::string::npos);
  EXPECT_NE(ErrorOf("").find("empty"), std::string::npos);
  EXPECT_NE(ErrorOf("ef()").find("empty"), std::string::npos);
  EXPECT_NE(ErrorOf("qsgd:4:").find("empty argument"), std::string::npos);
}

TEST(Spec, ReportsBiasAsDocumented) {
  for (const char* s : {"identity", "qsgd:4", "terngrad", "natural", "natural8", "natdither:4",
                        "randk_unbiased:0.1", "then(randk_unbiased:0.1,natural)"}) {
    EXPECT_TRUE(MakeCompressor(s)->get()->Unbiased()) << s;
  }
  for (const char* s : {"fp16", "bf16", "minmax8", "sign", "topk:0.1", "randk:0.1",
                        "then(randk_unbiased:0.1,sign)", "ef(qsgd:4)"}) {
    EXPECT_FALSE(MakeCompressor(s)->get()->Unbiased()) << s;
  }
}

}  // namespace
}  // namespace hearsay
