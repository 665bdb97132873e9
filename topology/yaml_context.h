// YamlContext: the one YAML layer of hearsay's files. The topology parser (topology/) and the
// experiment parser (runtime/peer/) read yaml-cpp nodes through it, so both kinds of file get
// the same units (20ms, 20Mbit, 1%), the same "did you mean" on misspelt keys and values, and
// the same "file:line:col: message" errors. No yaml-cpp exception escapes a Get* call.
//
// Ownership: a context holds the file name and, for topology files, the node names and groups
// that node references resolve against. Thread-safety: a context belongs to one parse.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "topology/units.h"

namespace hearsay {

struct YamlContext {
  std::string source;  // file name for messages
  std::string folder;  // folder relative paths resolve against
  int n = 0;           // node count once known
  // Node names by id, and ids by name (SetNodeNames keeps both; lookups are O(1), so a topology
  // of a million nodes parses in linear time).
  std::vector<std::string> node_names;
  std::unordered_map<std::string, int> node_ids;
  // Sets both; false with the id of the first name used twice in *duplicate.
  bool SetNodeNames(std::vector<std::string> names, int* duplicate = nullptr);
  std::map<std::string, std::vector<int>> groups;
  // Durations without a unit: an error in topology files, seconds in experiment files.
  BareNumber bare_durations = BareNumber::kError;

  // "source:line:col: message" (1-based; line only when YAML gave no column).
  Status Error(const YAML::Node& at, const std::string& message) const;
  // "source:line:col" of a node ("source" alone for nodes built in memory).
  std::string Where(const YAML::Node& at) const;

  Status GetInt(const YAML::Node& node, const std::string& what, int64_t* out) const;
  // An integer in [lo, hi]; the error names the range.
  Status GetIntIn(const YAML::Node& node, const std::string& what, int64_t lo, int64_t hi,
                  int64_t* out) const;
  // A finite number.
  Status GetDouble(const YAML::Node& node, const std::string& what, double* out) const;
  Status GetString(const YAML::Node& node, const std::string& what, std::string* out) const;
  Status GetBool(const YAML::Node& node, const std::string& what, bool* out) const;
  Status GetBandwidth(const YAML::Node& node, const std::string& what, double* bps) const;
  Status GetDuration(const YAML::Node& node, const std::string& what, double* seconds) const;
  // A probability in [0, 1): 0.01 or 1%.
  Status GetProbability(const YAML::Node& node, const std::string& what, double* out) const;
  // One of `names` (exact match); *index is its position. Errors suggest the closest name.
  Status GetEnum(const YAML::Node& node, const std::string& what,
                 const std::vector<std::string>& names, int* index) const;
  // Rejects a key given twice in one map, anywhere in the document (yaml-cpp keeps both and a
  // lookup silently takes the first): "e.yaml:10:3: `batch_size` is given twice in this map
  // (first at line 6)". Each node is visited once, aliases included (no exponential walk).
  Status CheckDuplicateKeys(const YAML::Node& root) const;
  // Rejects keys of a map not in `allowed`, suggesting the closest and naming the valid ones.
  Status CheckKeys(const YAML::Node& map, const std::string& what,
                   const std::vector<std::string>& allowed) const;
  Status CheckKeys(const YAML::Node& map, const std::string& what,
                   std::initializer_list<const char*> allowed) const;
  // The value of the first of `names` present in `map` (synonyms such as bandwidth / rate);
  // an error when two of them are given; nullopt when none is present.
  Status GetSynonym(const YAML::Node& map, const std::string& what,
                    std::initializer_list<const char*> names, std::optional<YAML::Node>* out) const;
  // One node: an id 0..n-1 or a node name.
  Status GetNode(const YAML::Node& node, const std::string& what, int* id) const;
  // A set of nodes: a node, a group name, a list of nodes/groups, or a range "a..b".
  Status GetNodeSet(const YAML::Node& node, const std::string& what, std::vector<int>* ids) const;
  // A path; relative ones resolve against `folder`.
  std::string Resolve(const std::string& path) const;
};

// The text of a scalar, or the node written in YAML flow style ({kind: step, base: 0.1}).
std::string YamlText(const YAML::Node& node);

}  // namespace hearsay
