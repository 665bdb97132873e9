// Internal to topology/: helpers the topology-file parser uses to read yaml-cpp nodes without
// letting exceptions escape, and to name "file:line:col" in every error. Not a public API.
// Thread-safety: a ParseContext belongs to one parse.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace hearsay::topology_internal {

struct ParseContext {
  std::string source;  // file name for messages
  std::string folder;  // folder relative paths resolve against
  int n = 0;           // node count once known
  std::vector<std::string> node_names;
  std::map<std::string, std::vector<int>> groups;

  // "source:line:col: message" (1-based; line only when YAML gave no column).
  Status Error(const YAML::Node& at, const std::string& message) const;
  std::string Where(const YAML::Node& at) const;

  Status GetInt(const YAML::Node& node, const std::string& what, int64_t* out) const;
  Status GetDouble(const YAML::Node& node, const std::string& what, double* out) const;
  Status GetString(const YAML::Node& node, const std::string& what, std::string* out) const;
  Status GetBool(const YAML::Node& node, const std::string& what, bool* out) const;
  Status GetBandwidth(const YAML::Node& node, const std::string& what, double* bps) const;
  Status GetDuration(const YAML::Node& node, const std::string& what, double* seconds) const;
  // Rejects keys of a map not in `allowed`, naming the valid ones.
  Status CheckKeys(const YAML::Node& map, const std::string& what,
                   std::initializer_list<const char*> allowed) const;
  // One node: an id 0..n-1 or a node name.
  Status GetNode(const YAML::Node& node, const std::string& what, int* id) const;
  // A set of nodes: a node, a group name, a list of nodes/groups, or a range "a..b".
  Status GetNodeSet(const YAML::Node& node, const std::string& what, std::vector<int>* ids) const;
  // A path; relative ones resolve against `folder`.
  std::string Resolve(const std::string& path) const;
};

}  // namespace hearsay::topology_internal
