#include "topology/yaml_context.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <unordered_set>

#include "common/suggest.h"
#include "topology/units.h"

namespace hearsay {

std::string YamlContext::Where(const YAML::Node& at) const {
  YAML::Mark m;
  try {
    m = at.Mark();
  } catch (...) {
  }
  if (m.line < 0) return source;
  std::string s = source + ":" + std::to_string(m.line + 1);
  if (m.column >= 0) s += ":" + std::to_string(m.column + 1);
  return s;
}

Status YamlContext::Error(const YAML::Node& at, const std::string& message) const {
  return InvalidArgument(Where(at) + ": " + message);
}

namespace {
std::string Scalar(const YAML::Node& node) {
  return node.IsScalar() ? node.Scalar() : std::string();
}
}  // namespace

Status YamlContext::GetInt(const YAML::Node& node, const std::string& what, int64_t* out) const {
  try {
    if (node.IsScalar()) {
      *out = node.as<int64_t>();
      return Status::Ok();
    }
  } catch (const YAML::Exception&) {
  }
  return Error(node, what + ": expected an integer, got '" + Scalar(node) + "'");
}

Status YamlContext::GetDouble(const YAML::Node& node, const std::string& what, double* out) const {
  try {
    if (node.IsScalar()) {
      *out = node.as<double>();
      if (std::isfinite(*out)) return Status::Ok();
    }
  } catch (const YAML::Exception&) {
  }
  return Error(node, what + ": expected a number, got '" + Scalar(node) + "'");
}

Status YamlContext::GetString(const YAML::Node& node, const std::string& what,
                              std::string* out) const {
  if (!node.IsScalar()) return Error(node, what + ": expected a text value");
  *out = node.Scalar();
  return Status::Ok();
}

Status YamlContext::GetBool(const YAML::Node& node, const std::string& what, bool* out) const {
  try {
    if (node.IsScalar()) {
      *out = node.as<bool>();
      return Status::Ok();
    }
  } catch (const YAML::Exception&) {
  }
  return Error(node, what + ": expected true or false, got '" + Scalar(node) + "'");
}

Status YamlContext::GetBandwidth(const YAML::Node& node, const std::string& what,
                                 double* bps) const {
  if (!node.IsScalar()) return Error(node, what + ": expected a bandwidth such as 20Mbit");
  auto r = ParseBandwidth(node.Scalar());
  if (!r.ok()) return Error(node, what + ": " + r.status().message());
  *bps = r.value();
  return Status::Ok();
}

Status YamlContext::GetDuration(const YAML::Node& node, const std::string& what,
                                double* seconds) const {
  if (!node.IsScalar()) return Error(node, what + ": expected a duration such as 20ms");
  auto r = ParseDuration(node.Scalar(), bare_durations);
  if (!r.ok()) return Error(node, what + ": " + r.status().message());
  *seconds = r.value();
  return Status::Ok();
}

Status YamlContext::CheckDuplicateKeys(const YAML::Node& root) const {
  // An explicit stack (no recursion on deeply nested input). An alias resolves to the node it
  // names, with that node's mark, so a container is identified by its position in the text;
  // nodes without one (built in memory) are always visited.
  std::vector<YAML::Node> stack{root};
  std::unordered_set<int> seen;
  std::unordered_map<std::string, int> first_line;
  while (!stack.empty()) {
    const YAML::Node node = stack.back();
    stack.pop_back();
    if (!node.IsMap() && !node.IsSequence()) continue;
    const int pos = node.Mark().pos;
    if (pos >= 0 && !seen.insert(pos).second) continue;
    if (node.IsSequence()) {
      for (const YAML::Node& item : node) stack.push_back(item);
      continue;
    }
    first_line.clear();
    for (const auto& kv : node) {
      if (kv.first.IsScalar()) {
        const auto [it, inserted] = first_line.emplace(kv.first.Scalar(), kv.first.Mark().line);
        if (!inserted) {
          return Error(kv.first, "`" + kv.first.Scalar() + "` is given twice in this map" +
                                     (it->second >= 0 ? " (first at line " +
                                                            std::to_string(it->second + 1) + ")"
                                                      : std::string()) +
                                     "; a key may appear once");
        }
      } else {
        stack.push_back(kv.first);
      }
      stack.push_back(kv.second);
    }
  }
  return Status::Ok();
}

Status YamlContext::CheckKeys(const YAML::Node& map, const std::string& what,
                              const std::vector<std::string>& allowed) const {
  if (!map.IsMap()) return Error(map, what + ": expected a map of `key: value`");
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      return Error(kv.first, what + ": a key must be a plain name, not a YAML " +
                                 (kv.first.IsMap() ? "mapping" : "list") + " (`? ...` form)");
    }
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string valid;
    for (const std::string& a : allowed) valid += (valid.empty() ? "" : ", ") + a;
    return Error(kv.first, what + ": unknown key '" + key + "'" + DidYouMean(key, allowed) +
                               " (valid keys: " + valid + ")");
  }
  return Status::Ok();
}

Status YamlContext::CheckKeys(const YAML::Node& map, const std::string& what,
                              std::initializer_list<const char*> allowed) const {
  return CheckKeys(map, what, std::vector<std::string>(allowed.begin(), allowed.end()));
}

Status YamlContext::GetSynonym(const YAML::Node& map, const std::string& what,
                               std::initializer_list<const char*> names,
                               std::optional<YAML::Node>* out) const {
  const char* found = nullptr;
  out->reset();
  for (const char* name : names) {
    const YAML::Node v = map[name];
    if (!v) continue;
    if (found) {
      return Error(v, what + ": `" + found + "` and `" + name +
                          "` are two names for the same setting; give one");
    }
    found = name;
    out->emplace(v);
  }
  return Status::Ok();
}

Status YamlContext::GetIntIn(const YAML::Node& node, const std::string& what, int64_t lo,
                             int64_t hi, int64_t* out) const {
  HEARSAY_RETURN_IF_ERROR(GetInt(node, what, out));
  if (*out < lo || *out > hi) {
    return Error(node, what + " = " + std::to_string(*out) + "; must be from " +
                           std::to_string(lo) + " to " + std::to_string(hi));
  }
  return Status::Ok();
}

Status YamlContext::GetProbability(const YAML::Node& node, const std::string& what,
                                   double* out) const {
  if (!node.IsScalar()) return Error(node, what + ": expected a probability such as 0.01 or 1%");
  auto r = ParseFraction(node.Scalar());
  if (!r.ok()) return Error(node, what + ": " + r.status().message());
  if (!(r.value() >= 0 && r.value() < 1)) {
    return Error(node,
                 what + " = " + node.Scalar() + "; a probability must be in [0, 1) (0.01 or 1%)");
  }
  *out = r.value();
  return Status::Ok();
}

Status YamlContext::GetEnum(const YAML::Node& node, const std::string& what,
                            const std::vector<std::string>& names, int* index) const {
  std::string valid;
  for (const std::string& a : names) valid += (valid.empty() ? "" : ", ") + a;
  if (!node.IsScalar()) return Error(node, what + ": expected one of " + valid);
  const std::string& s = node.Scalar();
  auto it = std::find(names.begin(), names.end(), s);
  if (it == names.end()) {
    return Error(
        node, what + " '" + s + "' is unknown" + DidYouMean(s, names) + " (valid: " + valid + ")");
  }
  *index = static_cast<int>(it - names.begin());
  return Status::Ok();
}

Status YamlContext::GetNode(const YAML::Node& node, const std::string& what, int* id) const {
  const std::string range = n > 0 ? " (nodes are 0.." + std::to_string(n - 1) + ")" : "";
  if (!node.IsScalar()) return Error(node, what + ": expected a node id or name");
  const std::string& s = node.Scalar();
  int64_t v = 0;
  bool is_int = false;
  try {
    v = node.as<int64_t>();
    is_int = true;
  } catch (const YAML::Exception&) {
  }
  if (is_int) {
    if (v < 0 || v >= n) {
      return Error(node, what + ": unknown node " + s + range);
    }
    *id = static_cast<int>(v);
    return Status::Ok();
  }
  auto it = node_ids.find(s);
  if (it == node_ids.end()) {
    return Error(node, what + ": unknown node '" + s + "'" + DidYouMean(s, node_names) + range +
                           " (names: n0, n1, ... or as the node list gives)");
  }
  *id = it->second;
  return Status::Ok();
}

bool YamlContext::SetNodeNames(std::vector<std::string> names, int* duplicate) {
  node_ids.clear();
  node_ids.reserve(names.size());
  node_names = std::move(names);
  for (size_t i = 0; i < node_names.size(); ++i) {
    if (!node_ids.emplace(node_names[i], static_cast<int>(i)).second) {
      if (duplicate) *duplicate = static_cast<int>(i);
      return false;
    }
  }
  return true;
}

Status YamlContext::GetNodeSet(const YAML::Node& node, const std::string& what,
                               std::vector<int>* ids) const {
  if (node.IsSequence()) {
    for (size_t k = 0; k < node.size(); ++k) {
      HEARSAY_RETURN_IF_ERROR(GetNodeSet(node[k], what, ids));
    }
  } else if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (auto g = groups.find(s); g != groups.end()) {
      ids->insert(ids->end(), g->second.begin(), g->second.end());
    } else if (auto dots = s.find(".."); dots != std::string::npos) {
      int64_t a = -1, b = -1;
      try {
        a = std::stoll(s.substr(0, dots));
        b = std::stoll(s.substr(dots + 2));
      } catch (...) {
      }
      if (a < 0 || b < a || b >= n) {
        return Error(node, what + ": range '" + s +
                               "' must be a..b with 0 <= a <= b <= " + std::to_string(n - 1));
      }
      for (int64_t i = a; i <= b; ++i) ids->push_back(static_cast<int>(i));
    } else {
      int id = 0;
      Status st = GetNode(node, what, &id);
      if (!st.ok() && !groups.empty()) {
        std::string names;
        for (const auto& [k, v] : groups) names += (names.empty() ? "" : ", ") + k;
        return InvalidArgument(st.message() + "; groups: " + names);
      }
      HEARSAY_RETURN_IF_ERROR(st);
      ids->push_back(id);
    }
  } else {
    return Error(node, what + ": expected a node, a group name, a range a..b or a list of them");
  }
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  return Status::Ok();
}

std::string YamlContext::Resolve(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute() || folder.empty()) return path;
  return (std::filesystem::path(folder) / p).string();
}

}  // namespace hearsay

namespace hearsay {

std::string YamlText(const YAML::Node& node) {
  if (!node) return "";
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter e;
  e << YAML::Flow << node;
  return e.c_str();
}

}  // namespace hearsay
