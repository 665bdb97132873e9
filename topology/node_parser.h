// Internal to topology/: reads `nodes:` (count or list: names, addresses, binds, capacities,
// slowdowns) and `groups:` of a topology file. Not a public API.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>

#include "common/status.h"
#include "topology/topology_spec.h"
#include "topology/yaml_context.h"

namespace hearsay::topology_internal {

// The most nodes a topology may have. A fuzzing build (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION,
// set by HEARSAY_FUZZ) lowers it, so that libFuzzer explores the file's structure instead of
// spending a second per input on generating a 30,000-node graph under ASan (docs/fuzzing.md):
// the code paths are the same for 64 nodes and for a million.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr int64_t kMaxNodes = 64;
#else
constexpr int64_t kMaxNodes = int64_t{1} << 20;
#endif

// The nodes (ctx.n is the count when the file infers it from a matrix or an edge list) and
// their names into ctx.
Status ParseNodes(YamlContext& ctx, const YAML::Node& root, TopologySpec* spec);
// `groups:` (named node sets) into spec->groups and ctx.groups.
Status ParseGroups(YamlContext& ctx, const YAML::Node& root, TopologySpec* spec);

}  // namespace hearsay::topology_internal
