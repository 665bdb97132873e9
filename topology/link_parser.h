// Internal to topology/: reads `links:`, `events:` and `traces:` of a topology file into a
// TopologySpec whose nodes, groups and graph are already parsed. Not a public API.
#pragma once

#include <yaml-cpp/yaml.h>

#include "common/status.h"
#include "topology/topology_spec.h"
#include "topology/yaml_context.h"

namespace hearsay::topology_internal {

Status ParseLinks(YamlContext& ctx, const YAML::Node& root, TopologySpec* spec);

// Reads a two-column trace file ("time value" per line; '#' comments). Times are seconds or
// carry a duration unit; values carry the field's unit (bandwidth / duration) unless `unit`
// is given, loss is a bare probability. Samples must have increasing times.
Result<std::vector<std::pair<double, double>>> ReadTraceFile(const std::string& path,
                                                             LinkTrace::Field field,
                                                             const std::string& unit);

}  // namespace hearsay::topology_internal
