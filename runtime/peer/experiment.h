// Experiment files: what to train, where, and how (DESIGN.md "Files users write").
//
// An experiment file (YAML) names a topology file, a model, a dataset and its partition, and one
// or more runs (algorithm, compressor, hyper-parameters). Keys under `defaults:` (or at the top
// level) apply to every run; each entry of `runs:` overrides them; a `grid:` multiplies the runs
// by every combination of its values. The whole format is in docs/experiment_format.md.
//
// Loading goes through the same YAML layer as topology files (topology/yaml_context.h): units
// (20ms, 2min, 20Mbit), "did you mean" on misspelt keys and names, and "file:line:col:" on every
// error. It validates everything up front (codec specs, enum names, model and data sizes against
// the machine's memory, timeouts, run names, the fault schedule) so that a bad file fails before
// any peer starts.
//
// Thread-safety: plain values, immutable after loading.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/peer/run_config.h"
#include "topology/topology_spec.h"

namespace hearsay {

struct Experiment {
  std::string source;                            // experiment file path
  std::string name;                              // `name:` or the file's stem
  std::string topology_path;                     // resolved path of the topology file
  std::shared_ptr<const TopologySpec> topology;  // the file as written (runs may have their own)
  std::string output_dir = "results";            // `output:`; launch --out overrides
  // `transport:`; launch --transport overrides. Default tcp, or sim when the file has a grid.
  TransportKind transport = TransportKind::kTcp;
  std::vector<std::string> grid_keys;  // the grid's keys in file order (empty: no grid)
  std::vector<RunConfig> runs;

  // The run called `name`, or nullptr.
  const RunConfig* FindRun(const std::string& name) const;
};

// Loads and validates an experiment file (and the topology file it names, relative to it).
Result<Experiment> LoadExperiment(const std::string& path);

// Limits applied at load, named so tests and docs can refer to them.
inline constexpr double kMaxDurationSeconds = 7 * 24 * 3600.0;  // any timeout or duration
inline constexpr size_t kMaxRunNameLength = 100;
inline constexpr size_t kMaxClusterIdLength = 256;

// Run names become folder names: [A-Za-z0-9._:-]{1,100}, not "." or "..". The error says why.
Status CheckRunName(const std::string& name);
// A grid value as it appears in a generated run name: each run of characters a folder name must
// not hold becomes one '_' ("then(randk:0.5, natural)" -> "then_randk:0.5_natural").
std::string RunNamePart(const std::string& text);

// OUT/config.yaml: what produced an output folder. The hearsay version, build options and git
// commit; the experiment (source, name, output, transport, grid keys); every run of `runs` with
// every key (defaults filled, durations in seconds); the experiment's topology as a topology
// file would say it, and each run's own topology where a grid changed it.
std::string ResolvedConfigYaml(const Experiment& exp, const std::vector<const RunConfig*>& runs);

}  // namespace hearsay
