// Internal to topology/: reads `links:`, `events:` and `traces:` of a topology file into a
// TopologySpec whose nodes, groups and graph are already parsed. Not a public API.
#pragma once

#include <yaml-cpp/yaml.h>

#include "common/status.h"
#include "topology/topology_spec.h"
#include "topology/yaml_context.h"

namespace hearsay::topology_internal {

Status ParseLinks(YamlContext& ctx, const YAML::Node& root, TopologySpec* spec);

// The bandwidth (rate) / latency (delay) / jitter / loss fields of a map into `c` (fields it lacks
// are left as they are); network profiles (topology/profiles.cc) use it for their own files.
Status ParseChange(const YamlContext& ctx, const YAML::Node& e, const std::string& what,
                   LinkEvent* c);

// Reads a two-column trace file ("time value" per line; '#' comments). Times are seconds or
// carry a duration unit; values carry the field's unit (bandwidth / duration) unless `unit`
// is given, loss is a bare probability. Samples must have increasing times.
Result<std::vector<std::pair<double, double>>> ReadTraceFile(const std::string& path,
                                                             LinkTrace::Field field,
                                                             const std::string& unit);

}  // namespace hearsay::topology_internal
