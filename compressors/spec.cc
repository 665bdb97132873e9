#include "compressors/spec.h"

#include <cctype>

namespace hearsay {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

Result<SpecNode> Parse(std::string_view spec, int depth) {
  spec = Trim(spec);
  SpecNode node;
  node.text = std::string(spec);
  if (spec.empty()) return InvalidArgument("empty codec spec");
  if (depth > 8) return InvalidArgument(node.text + ": codec specs nest at most 8 deep");
  size_t i = 0;
  while (i < spec.size() && IsNameChar(spec[i])) ++i;
  node.name = std::string(spec.substr(0, i));
  if (node.name.empty()) {
    return InvalidArgument(node.text + ": a codec spec starts with a name such as qsgd or topk");
  }
  std::string_view rest = Trim(spec.substr(i));
  if (rest.empty()) return node;
  if (rest.front() == '(') {
    node.call = true;
    if (rest.back() != ')') return InvalidArgument(node.text + ": missing ')' at the end");
    std::string_view inner = rest.substr(1, rest.size() - 2);
    int level = 0;
    size_t from = 0;
    for (size_t k = 0; k <= inner.size(); ++k) {
      const char c = k < inner.size() ? inner[k] : ',';
      if (c == '(') ++level;
      if (c == ')' && --level < 0) return InvalidArgument(node.text + ": unbalanced ')'");
      if (c == ',' && level == 0) {
        auto child = Parse(inner.substr(from, k - from), depth + 1);
        if (!child.ok()) return child.status();
        node.children.push_back(std::move(child).value());
        from = k + 1;
      }
    }
    if (level != 0) return InvalidArgument(node.text + ": unbalanced '('");
    return node;
  }
  if (rest.front() != ':') {
    return InvalidArgument(node.text + ": unexpected '" + std::string(1, rest.front()) +
                           "' after the codec name (arguments follow ':')");
  }
  rest.remove_prefix(1);
  while (true) {
    const size_t colon = rest.find(':');
    std::string_view arg = Trim(rest.substr(0, colon));
    if (arg.empty()) return InvalidArgument(node.text + ": empty argument");
    node.args.emplace_back(arg);
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return node;
}

}  // namespace

Result<SpecNode> ParseSpec(std::string_view spec) { return Parse(spec, 0); }

}  // namespace hearsay
