// The experiment file's structure: top-level keys, `defaults:`, `runs:` and the `grid:` that
// multiplies them (docs/experiment_format.md). Run keys are read by run_keys.cc and checked by
// run_validation.cc; every yaml-cpp exception is caught here.
#include "runtime/peer/experiment.h"

#include <filesystem>
#include <map>
#include <set>

#include "runtime/peer/experiment_parser.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;
using experiment_internal::RunDraft;

bool NameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == ':';
}

// "dpsgd", "dcd-qsgd:8", ...
std::string DefaultRunName(const RunConfig& run) {
  return run.algorithm == AlgorithmKind::kDpsgd
             ? AlgorithmName(run.algorithm)
             : std::string(AlgorithmName(run.algorithm)) + "-" + RunNamePart(run.compressor);
}

// The experiment-level keys, on top of the run keys allowed at the top level.
std::vector<std::string> TopLevelKeys() {
  std::vector<std::string> keys = experiment_internal::RunKeys();
  for (const char* k : {"topology", "output", "defaults", "runs", "grid", "transport"}) {
    keys.push_back(k);
  }
  return keys;
}

struct GridAxis {
  std::string key;
  YAML::Node values;  // non-empty sequence
};

Result<std::vector<GridAxis>> ReadGrid(const YamlContext& ctx, const YAML::Node& grid) {
  std::vector<std::string> allowed;
  for (const auto& k : experiment_internal::RunKeys()) {
    if (k != "name") allowed.push_back(k);
  }
  for (const auto& k : experiment_internal::TopologyGridKeys()) allowed.push_back(k);
  // A grid's values go into run names, config.yaml and summary.csv: never a secret.
  for (const char* secret : {"secret", "secret_file"}) {
    if (grid.IsMap() && grid[secret]) {
      return ctx.Error(grid[secret], std::string("grid.") + secret +
                                         ": the cluster secret cannot be a grid key (grid "
                                         "values are written into run names and summary.csv); "
                                         "give it once, with secret_file: or HEARSAY_SECRET");
    }
  }
  // The topology file says `nodes:`; the grid's key for the node count is `n` (edit distance
  // alone would suggest 'model').
  for (const char* count : {"nodes", "peers"}) {
    if (grid.IsMap() && grid[count]) {
      return ctx.Error(grid[count], std::string("grid.") + count +
                                        ": the grid key for the node count is `n` (grid: {n: "
                                        "[8, 16, 32]})");
    }
  }
  HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(grid, "grid", allowed));
  std::vector<GridAxis> axes;
  for (const auto& kv : grid) {
    const std::string key = kv.first.Scalar();
    if (!kv.second.IsSequence() || kv.second.size() == 0) {
      return ctx.Error(kv.second, "grid." + key +
                                      ": expected a non-empty list of values, e.g. [1Mbit, "
                                      "10Mbit]");
    }
    axes.push_back({key, kv.second});
  }
  return axes;
}

// The topology of a draft: the experiment's, or a re-read of its file with the grid's values
// (one per distinct set of values, shared between the runs that use it).
Status ResolveTopology(
    const YamlContext& ctx, const Experiment& exp, RunDraft* d,
    std::vector<std::pair<TopologyOverrides, std::shared_ptr<const TopologySpec>>>* cache) {
  if (d->topology.empty()) {
    d->run.topology = exp.topology;
    return Status::Ok();
  }
  for (const auto& [o, spec] : *cache) {
    if (o == d->topology) {
      d->run.topology = spec;
      return Status::Ok();
    }
  }
  auto spec = LoadTopologyFile(exp.topology_path, d->topology);
  if (!spec.ok()) {
    return spec.status().WithPrefix(ctx.Where(d->topology_at) + ": grid value '" +
                                    YamlText(d->topology_at) + "'");
  }
  auto shared = std::make_shared<const TopologySpec>(std::move(spec).value());
  cache->push_back({d->topology, shared});
  d->run.topology = shared;
  return Status::Ok();
}

// Every combination of the axes' values applied to `base`, first axis slowest. D-PSGD sends full
// models and ignores `compressor:`, so a grid over algorithm x compressor would run the same
// D-PSGD run once per compressor (and, unnamed, give them one name): its compressor grid value
// reads "fp32" (the codec it uses, as in the summary's `compressor` column) and it runs once.
Status ExpandGrid(const YamlContext& ctx, const std::vector<GridAxis>& axes, const RunDraft& base,
                  std::vector<RunDraft>* out) {
  std::vector<size_t> pick(axes.size(), 0);
  std::set<std::vector<std::pair<std::string, std::string>>> seen;
  while (true) {
    RunDraft d = base;
    for (size_t a = 0; a < axes.size(); ++a) {
      const YAML::Node v = axes[a].values[pick[a]];
      HEARSAY_RETURN_IF_ERROR(experiment_internal::ApplyGridValue(ctx, axes[a].key, v, &d));
      d.run.grid_values.push_back({axes[a].key, YamlText(v)});
    }
    std::string suffix;
    bool ignored = false;  // the compressor value is one dpsgd ignores
    for (auto& [key, text] : d.run.grid_values) {
      if (key == "compressor" && text != CompressorLabel(d.run)) {
        text = CompressorLabel(d.run);
        ignored = true;
      }
      // Unnamed runs already carry algorithm and compressor in their default name.
      if (d.named || (key != "algorithm" && key != "compressor")) suffix += "-" + RunNamePart(text);
    }
    // Only those collapse: a value listed twice is still an error (two runs with one name).
    if (seen.insert(d.run.grid_values).second || !ignored) {
      if (!d.named) d.run.name = DefaultRunName(d.run);
      d.run.name += suffix;
      out->push_back(std::move(d));
    }
    size_t a = axes.size();
    while (a > 0 && ++pick[a - 1] == axes[a - 1].values.size()) pick[--a] = 0;
    if (a == 0) return Status::Ok();
  }
}

Status ParseRoot(const YamlContext& ctx, const YAML::Node& root, Experiment* exp) {
  if (!root.IsMap()) return ctx.Error(root, "an experiment file must be a YAML mapping");
  HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(root, "experiment", TopLevelKeys()));
  if (root["name"]) HEARSAY_RETURN_IF_ERROR(ctx.GetString(root["name"], "name", &exp->name));
  if (root["output"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(root["output"], "output", &exp->output_dir));
  }
  if (!root["topology"]) return ctx.Error(root, "missing `topology:` (path of a topology file)");
  std::string topo;
  HEARSAY_RETURN_IF_ERROR(ctx.GetString(root["topology"], "topology", &topo));
  exp->topology_path = ctx.Resolve(topo);
  auto spec = LoadTopologyFile(exp->topology_path);
  if (!spec.ok()) return spec.status().WithPrefix(ctx.Where(root["topology"]) + ": topology");
  exp->topology = std::make_shared<TopologySpec>(std::move(spec).value());

  std::vector<GridAxis> axes;
  if (root["grid"]) {
    HEARSAY_ASSIGN_OR_RETURN(axes, ReadGrid(ctx, root["grid"]));
    for (const auto& a : axes) exp->grid_keys.push_back(a.key);
  }
  exp->transport = axes.empty() ? TransportKind::kTcp : TransportKind::kSim;
  if (root["transport"]) {
    int index = 0;
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(root["transport"], "transport", TransportNames(), &index));
    exp->transport = static_cast<TransportKind>(index);
  }

  // Defaults: top-level run keys, then `defaults:`.
  RunDraft defaults;
  defaults.entry.reset(root);
  HEARSAY_RETURN_IF_ERROR(experiment_internal::ApplyRunKeys(ctx, root, &defaults));
  if (root["defaults"]) {
    HEARSAY_RETURN_IF_ERROR(
        ctx.CheckKeys(root["defaults"], "defaults", experiment_internal::RunKeys()));
    HEARSAY_RETURN_IF_ERROR(experiment_internal::ApplyRunKeys(ctx, root["defaults"], &defaults));
  }
  std::vector<RunDraft> base;
  if (!root["runs"]) {
    base.push_back(defaults);
  } else {
    const YAML::Node runs = root["runs"];
    if (!runs.IsSequence() || runs.size() == 0) {
      return ctx.Error(runs, "`runs:` must be a non-empty list of runs");
    }
    for (size_t k = 0; k < runs.size(); ++k) {
      HEARSAY_RETURN_IF_ERROR(
          ctx.CheckKeys(runs[k], "run " + std::to_string(k + 1), experiment_internal::RunKeys()));
      RunDraft d = defaults;
      d.entry.reset(runs[k]);
      d.run.name.clear();
      d.named = false;
      d.at.erase("name");
      HEARSAY_RETURN_IF_ERROR(experiment_internal::ApplyRunKeys(ctx, runs[k], &d));
      base.push_back(std::move(d));
    }
  }
  std::vector<RunDraft> drafts;
  for (RunDraft& d : base) {
    if (axes.empty()) {
      if (!d.named) d.run.name = DefaultRunName(d.run);
      drafts.push_back(std::move(d));
    } else {
      HEARSAY_RETURN_IF_ERROR(ExpandGrid(ctx, axes, d, &drafts));
    }
  }

  std::vector<std::pair<TopologyOverrides, std::shared_ptr<const TopologySpec>>> topologies;
  std::set<std::string> names;
  for (RunDraft& d : drafts) {
    // `duration:` without `rounds:` bounds the run by time alone.
    if (d.run.duration_s > 0 && !d.Has("rounds")) d.run.rounds = kUnlimitedRounds;
    HEARSAY_RETURN_IF_ERROR(ResolveTopology(ctx, *exp, &d, &topologies));
    HEARSAY_RETURN_IF_ERROR(experiment_internal::ValidateRun(ctx, &d));
    d.run.model_at = ctx.Where(d.At(d.Has("model.kind") ? "model.kind" : "model"));
    d.run.data_at = ctx.Where(d.At("data"));
    if (!names.insert(d.run.name).second) {
      return ctx.Error(d.At("name"),
                       "two runs are named '" + d.run.name + "'; give each run a unique `name:`");
    }
    exp->runs.push_back(std::move(d.run));
  }
  return Status::Ok();
}

}  // namespace

std::string RunNamePart(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (NameChar(c)) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "x" : out;
}

Status CheckRunName(const std::string& name) {
  if (name.empty()) return InvalidArgument("a run name must not be empty");
  if (name.size() > kMaxRunNameLength) {
    return InvalidArgument("run name '" + name.substr(0, 40) + "...' has " +
                           std::to_string(name.size()) + " characters; at most " +
                           std::to_string(kMaxRunNameLength) + " (it names a folder)");
  }
  if (name == "." || name == "..") {
    return InvalidArgument("run name '" + name + "' would name a folder outside the run's own");
  }
  for (char c : name) {
    if (!NameChar(c)) {
      return InvalidArgument("run name '" + name + "' has the character '" + std::string(1, c) +
                             "'; run names name folders and may hold only letters, digits and "
                             ". _ : -");
    }
  }
  return Status::Ok();
}

const RunConfig* Experiment::FindRun(const std::string& name) const {
  for (const auto& r : runs) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

Result<Experiment> LoadExperiment(const std::string& path) {
  YamlContext ctx;
  ctx.source = path;
  ctx.folder = fs::absolute(fs::path(path)).parent_path().string();
  ctx.bare_durations = BareNumber::kSeconds;
  Experiment exp;
  exp.source = path;
  exp.name = fs::path(path).stem().string();
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {
    return InvalidArgument(path + ": not a regular file");
  }
  try {
    YAML::Node root = YAML::LoadFile(path);
    HEARSAY_RETURN_IF_ERROR(ctx.CheckDuplicateKeys(root));
    HEARSAY_RETURN_IF_ERROR(ParseRoot(ctx, root, &exp));
  } catch (const YAML::BadFile&) {
    return NotFound(path + ": cannot open experiment file");
  } catch (const YAML::ParserException& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": malformed YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ": " + e.what());
  } catch (const std::exception& e) {
    return Internal(path + ": unexpected error while reading the experiment: " + e.what());
  }
  return exp;
}

}  // namespace hearsay
