// The codec specs the parameterised compressor tests sweep over.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hearsay::testing {

// Every codec, at a few parameter settings (stateless codecs and combinators).
inline std::vector<std::string> AllCodecSpecs() {
  return {"identity",
          "fp16",
          "bf16",
          "qsgd:1",
          "qsgd:2",
          "qsgd:3",
          "qsgd:4",
          "qsgd:5",
          "qsgd:7",
          "qsgd:8",
          "qsgd:4:64",
          "qsgd:2:norm=l2",
          "terngrad",
          "minmax8",
          "minmax8:64",
          "natural",
          "natural8",
          "natdither:3",
          "natdither:8:64",
          "sign",
          "sign:64",
          "topk:0.1",
          "randk:0.25",
          "randk_unbiased:0.3",
          "then(topk:0.1,natural)",
          "then(randk_unbiased:0.5,qsgd:4)",
          "ef(qsgd:2)",
          "ef(topk:0.05)",
          "ef(sign)"};
}

// Codecs whose output depends on the key's randomness.
inline std::vector<std::string> StochasticCodecSpecs() {
  return {"qsgd:1",
          "qsgd:4",
          "qsgd:8",
          "qsgd:2:norm=l2",
          "terngrad",
          "natural",
          "natural8",
          "natdither:3",
          "randk:0.25",
          "randk_unbiased:0.3",
          "then(topk:0.1,natural)"};
}

// Unbiased codecs with the per-element variance bound the statistical tests check:
// Var[C(x)_i] <= bound(x, i) (see docs/compressors.md).
inline std::vector<std::string> UnbiasedCodecSpecs() {
  return {"identity",
          "qsgd:1",
          "qsgd:3",
          "qsgd:8",
          "qsgd:2:64:norm=l2",
          "terngrad",
          "natural",
          "natural8",
          "natdither:2",
          "natdither:5:64",
          "randk_unbiased:0.25",
          "then(randk_unbiased:0.5,natural)"};
}

// gtest parameter names: letters and digits only.
inline std::string SpecTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string s;
  for (char c : info.param) s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return s + "_" + std::to_string(info.index);
}

}  // namespace hearsay::testing
