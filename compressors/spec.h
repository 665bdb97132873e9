// Spec strings: the text form of a codec ("qsgd:4:128:norm=l2", "ef(topk:0.01)",
// "then(randk:0.1, natural)") parsed into a tree, before MakeCompressor builds the codec.
//
// Grammar:  spec := name ( ':' arg )*  |  name '(' spec ( ',' spec )* ')'
// Whitespace around names, arguments and commas is ignored. Errors name the spec.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hearsay {

struct SpecNode {
  std::string text;                // the spec as written (trimmed), for error messages
  std::string name;                // "qsgd", "ef", ...
  std::vector<std::string> args;   // ':'-separated arguments ("4", "128", "norm=l2")
  std::vector<SpecNode> children;  // parenthesised sub-specs (combinators)
  bool call = false;               // written with parentheses
};

Result<SpecNode> ParseSpec(std::string_view spec);

}  // namespace hearsay
