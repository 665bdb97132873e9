#include "topology/yaml_context.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "topology/units.h"

namespace hearsay::topology_internal {

std::string ParseContext::Where(const YAML::Node& at) const {
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

Status ParseContext::Error(const YAML::Node& at, const std::string& message) const {
  return InvalidArgument(Where(at) + ": " + message);
}

namespace {
std::string Scalar(const YAML::Node& node) {
  return node.IsScalar() ? node.Scalar() : std::string();
}
}  // namespace

Status ParseContext::GetInt(const YAML::Node& node, const std::string& what, int64_t* out) const {
  try {
    if (node.IsScalar()) {
      *out = node.as<int64_t>();
      return Status::Ok();
    }
  } catch (const YAML::Exception&) {
  }
  return Error(node, what + ": expected an integer, got '" + Scalar(node) + "'");
}

Status ParseContext::GetDouble(const YAML::Node& node, const std::string& what, double* out) const {
  try {
    if (node.IsScalar()) {
      *out = node.as<double>();
      if (std::isfinite(*out)) return Status::Ok();
    }
  } catch (const YAML::Exception&) {
  }
  return Error(node, what + ": expected a number, got '" + Scalar(node) + "'");
}

Status ParseContext::GetString(const YAML::Node& node, const std::string& what,
                               std::string* out) const {
  if (!node.IsScalar()) return Error(node, what + ": expected a text value");
  *out = node.Scalar();
  return Status::Ok();
}

Status ParseContext::GetBool(const YAML::Node& node, const std::string& what, bool* out) const {
  try {
    if (node.IsScalar()) {
      *out = node.as<bool>();
      return Status::Ok();
    }
  } catch (const YAML::Exception&) {
  }
  return Error(node, what + ": expected true or false, got '" + Scalar(node) + "'");
}

Status ParseContext::GetBandwidth(const YAML::Node& node, const std::string& what,
                                  double* bps) const {
  if (!node.IsScalar()) return Error(node, what + ": expected a bandwidth such as 20Mbit");
  auto r = ParseBandwidth(node.Scalar());
  if (!r.ok()) return Error(node, what + ": " + r.status().message());
  *bps = r.value();
  return Status::Ok();
}

Status ParseContext::GetDuration(const YAML::Node& node, const std::string& what,
                                 double* seconds) const {
  if (!node.IsScalar()) return Error(node, what + ": expected a duration such as 20ms");
  auto r = ParseDuration(node.Scalar());
  if (!r.ok()) return Error(node, what + ": " + r.status().message());
  *seconds = r.value();
  return Status::Ok();
}

Status ParseContext::CheckKeys(const YAML::Node& map, const std::string& what,
                               std::initializer_list<const char*> allowed) const {
  if (!map.IsMap()) return Error(map, what + ": expected a map of `key: value`");
  for (const auto& kv : map) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; });
    if (!ok) {
      std::string valid;
      for (const char* a : allowed) valid += (valid.empty() ? "" : ", ") + std::string(a);
      return Error(kv.first, what + ": unknown key '" + key + "'; valid keys: " + valid);
    }
  }
  return Status::Ok();
}

Status ParseContext::GetNode(const YAML::Node& node, const std::string& what, int* id) const {
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
  auto it = std::find(node_names.begin(), node_names.end(), s);
  if (it == node_names.end()) {
    return Error(node, what + ": unknown node '" + s + "'" + range +
                           " (names: n0, n1, ... or "
                           "as the node list gives)");
  }
  *id = static_cast<int>(it - node_names.begin());
  return Status::Ok();
}

Status ParseContext::GetNodeSet(const YAML::Node& node, const std::string& what,
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

std::string ParseContext::Resolve(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute() || folder.empty()) return path;
  return (std::filesystem::path(folder) / p).string();
}

}  // namespace hearsay::topology_internal
