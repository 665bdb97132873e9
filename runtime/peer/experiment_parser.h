// Internal to runtime/peer/: the pieces of the experiment-file parser (experiment.cc reads the
// file's structure and expands the grid, run_keys.cc reads one run key, run_validation.cc checks
// a merged run). Not a public API; LoadExperiment (experiment.h) is.
//
// A RunDraft remembers, for every key, the YAML node that last set it (the defaults, the run's
// entry or a grid value), so that a check made after merging still names the line the user has
// to change. Thread-safety: a draft belongs to one parse.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/peer/run_config.h"
#include "topology/topology_spec.h"
#include "topology/yaml_context.h"

namespace hearsay::experiment_internal {

struct RunDraft {
  RunConfig run;
  std::map<std::string, YAML::Node> at;  // key ("rounds", "data.samples") -> value node
  YAML::Node entry;                      // the run's entry in `runs:` (or the file's root)
  bool named = false;                    // the user gave the run a `name:`
  TopologyOverrides topology;            // grid values for the topology file
  YAML::Node topology_at;                // the grid value that changed the topology
  std::optional<YAML::Node> faults;      // read once the run's topology is known

  // Records that `value` set `key`. YAML::Node's operator= writes through to the node it refers
  // to (it would rewrite the file's tree), so nodes are only ever rebound, never assigned.
  void Set(const std::string& key, const YAML::Node& value) {
    at.erase(key);
    at.emplace(key, value);
  }
  // The node to blame for `key`: where it was set, else the run's entry.
  YAML::Node At(const std::string& key) const;
  bool Has(const std::string& key) const { return at.count(key) > 0; }
};

// Every key a run (or `defaults:`, or the top level) may hold.
const std::vector<std::string>& RunKeys();
// Grid keys that change the topology rather than the run.
const std::vector<std::string>& TopologyGridKeys();

// Reads one run key into the draft (merging into model / data / lr maps key by key).
Status ApplyRunKey(const YamlContext& ctx, const std::string& key, const YAML::Node& value,
                   RunDraft* draft);
// Reads every run key present in `map` (other keys are the caller's to check).
Status ApplyRunKeys(const YamlContext& ctx, const YAML::Node& map, RunDraft* draft);
// One grid value: a topology key into draft->topology, any other key as a run key.
Status ApplyGridValue(const YamlContext& ctx, const std::string& key, const YAML::Node& value,
                      RunDraft* draft);

// Checks that need the whole run and its topology (codec, model and data sizes, timeouts, run
// name, quorum), and reads its fault schedule. Fills draft->run.faults.
Status ValidateRun(const YamlContext& ctx, RunDraft* draft);

// Bytes of physical memory (sysconf), for "fits in this machine" checks.
uint64_t PhysicalMemoryBytes();

}  // namespace hearsay::experiment_internal
