#include "runtime/peer/experiment.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

#include "compressors/compressor.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

// Parsing context: the file name, for "file:line:col: message" errors.
struct Ctx {
  std::string file;
  Status Error(const YAML::Node& node, const std::string& msg) const {
    const YAML::Mark m = node.Mark();
    if (m.line >= 0) {
      return InvalidArgument(file + ":" + std::to_string(m.line + 1) + ":" +
                             std::to_string(m.column + 1) + ": " + msg);
    }
    return InvalidArgument(file + ": " + msg);
  }
};

template <typename T>
Status Get(const Ctx& ctx, const YAML::Node& map, const char* key, T* out) {
  const YAML::Node n = map[key];
  if (!n) return Status::Ok();
  try {
    *out = n.as<T>();
  } catch (const YAML::Exception&) {
    return ctx.Error(n, std::string("`") + key + "` has an invalid value '" +
                            (n.IsScalar() ? n.Scalar() : std::string("<not a scalar>")) + "'");
  }
  return Status::Ok();
}

Status CheckKeys(const Ctx& ctx, const YAML::Node& map, const std::set<std::string>& allowed,
                 const std::string& where) {
  if (!map.IsMap()) return ctx.Error(map, where + " must be a mapping");
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) {
      std::string valid;
      for (const auto& a : allowed) valid += (valid.empty() ? "" : ", ") + a;
      return ctx.Error(kv.first,
                       "unknown key `" + key + "` in " + where + " (valid: " + valid + ")");
    }
  }
  return Status::Ok();
}

Status ParseModel(const Ctx& ctx, const YAML::Node& n, ModelConfig* m) {
  if (n.IsScalar()) {
    m->kind = n.Scalar();
    return Status::Ok();
  }
  HEARSAY_RETURN_IF_ERROR(CheckKeys(ctx, n, {"kind", "l2", "hidden"}, "model"));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "kind", &m->kind));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "l2", &m->l2));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "hidden", &m->hidden));
  if (m->l2 < 0) return ctx.Error(n["l2"], "model l2 must be >= 0");
  return Status::Ok();
}

Status ParseData(const Ctx& ctx, const YAML::Node& n, const fs::path& base, DataConfig* d) {
  HEARSAY_RETURN_IF_ERROR(
      CheckKeys(ctx, n,
                {"kind", "samples", "features", "classes", "noise", "separation", "seed", "path",
                 "test_path", "test_fraction", "partition"},
                "data"));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "kind", &d->kind));
  if (d->kind != "synthetic" && d->kind != "libsvm") {
    return ctx.Error(n["kind"],
                     "data kind '" + d->kind + "' is unknown (valid: synthetic, libsvm)");
  }
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "samples", &d->synthetic.samples));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "classes", &d->synthetic.classes));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "noise", &d->synthetic.noise));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "separation", &d->synthetic.separation));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "seed", &d->synthetic.seed));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "test_fraction", &d->test_fraction));
  if (d->kind == "synthetic") {
    HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "features", &d->synthetic.features));
    if (d->synthetic.samples < 2) return ctx.Error(n, "data samples must be >= 2");
    if (d->synthetic.features < 1) return ctx.Error(n, "data features must be >= 1");
    if (d->synthetic.classes < 2) return ctx.Error(n, "data classes must be >= 2");
  } else {
    HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "features", &d->features));
    HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "path", &d->path));
    HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "test_path", &d->test_path));
    if (d->path.empty()) return ctx.Error(n, "libsvm data needs `path:`");
    if (fs::path(d->path).is_relative()) d->path = (base / d->path).string();
    if (!d->test_path.empty() && fs::path(d->test_path).is_relative()) {
      d->test_path = (base / d->test_path).string();
    }
  }
  if (!(d->test_fraction > 0 && d->test_fraction < 1)) {
    return ctx.Error(n["test_fraction"], "test_fraction must be in (0, 1)");
  }
  std::string partition = "iid";
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "partition", &partition));
  if (partition == "iid") {
    d->partition = PartitionMode::kIid;
  } else if (partition == "label_sorted" || partition == "non-iid" || partition == "noniid") {
    d->partition = PartitionMode::kLabelSorted;
  } else {
    return ctx.Error(n["partition"],
                     "partition '" + partition + "' is unknown (valid: iid, label_sorted)");
  }
  return Status::Ok();
}

Status ParseLr(const Ctx& ctx, const YAML::Node& n, LrSchedule* lr) {
  if (n.IsScalar()) {
    try {
      lr->kind = "constant";
      lr->base = n.as<double>();
    } catch (const YAML::Exception&) {
      return ctx.Error(n, "lr must be a number or {kind, base, decay, step_every}");
    }
  } else {
    HEARSAY_RETURN_IF_ERROR(CheckKeys(ctx, n, {"kind", "base", "decay", "step_every"}, "lr"));
    HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "kind", &lr->kind));
    HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "base", &lr->base));
    HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "decay", &lr->decay));
    HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "step_every", &lr->step_every));
  }
  Status s = lr->Validate();
  if (!s.ok()) return ctx.Error(n, s.message());
  return Status::Ok();
}

const std::set<std::string> kRunKeys = {
    "name",   "algorithm", "compressor",    "consensus_step",  "allow_biased", "model",
    "data",   "lr",        "rounds",        "batch_size",      "seed",         "eval_every",
    "device", "emulate",   "round_timeout", "connect_timeout", "cluster_id",   "secret",
    "mode",   "staleness", "duration",      "eval_every_s",    "compute_time"};

// Applies the run keys present in `n` on top of *run.
Status ApplyRunKeys(const Ctx& ctx, const YAML::Node& n, const fs::path& base, RunConfig* run) {
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "name", &run->name));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "algorithm", &run->algorithm));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "compressor", &run->compressor));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "consensus_step", &run->consensus_step));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "allow_biased", &run->allow_biased));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "rounds", &run->rounds));
  if (n["mode"]) {
    std::string mode;
    HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "mode", &mode));
    if (mode == "sync") {
      run->mode = RunMode::kSync;
    } else if (mode == "async") {
      run->mode = RunMode::kAsync;
    } else {
      return ctx.Error(n["mode"], "mode '" + mode + "' is unknown (valid: sync, async)");
    }
  }
  if (n["staleness"]) {
    if (n["staleness"].IsScalar() && n["staleness"].Scalar() == "unbounded") {
      run->staleness = kUnboundedStaleness;
    } else {
      HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "staleness", &run->staleness));
      if (run->staleness < 0) {
        return ctx.Error(n["staleness"], "staleness must be an integer >= 0 or `unbounded`");
      }
    }
  }
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "duration", &run->duration_s));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "eval_every_s", &run->eval_every_s));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "compute_time", &run->compute_time_s));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "batch_size", &run->batch_size));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "seed", &run->seed));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "eval_every", &run->eval_every));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "device", &run->device));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "emulate", &run->emulate));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "round_timeout", &run->round_timeout_s));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "connect_timeout", &run->connect_timeout_s));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "cluster_id", &run->cluster_id));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, n, "secret", &run->secret));
  if (n["model"]) HEARSAY_RETURN_IF_ERROR(ParseModel(ctx, n["model"], &run->model));
  if (n["data"]) HEARSAY_RETURN_IF_ERROR(ParseData(ctx, n["data"], base, &run->data));
  if (n["lr"]) HEARSAY_RETURN_IF_ERROR(ParseLr(ctx, n["lr"], &run->lr));
  return Status::Ok();
}

// Checks that need the whole run (after defaults and overrides are merged).
Status ValidateRun(const Ctx& ctx, const YAML::Node& n, const RunConfig& run,
                   const TopologySpec& topology) {
  static const std::set<std::string> kAlgorithms = {"dpsgd", "dcd",    "ecd",
                                                    "choco", "adpsgd", "allreduce"};
  if (!kAlgorithms.count(run.algorithm)) {
    return ctx.Error(n["algorithm"] ? n["algorithm"] : n,
                     "run '" + run.name + "': algorithm '" + run.algorithm +
                         "' is unknown (valid: dpsgd, dcd, ecd, choco, adpsgd, allreduce)");
  }
  auto codec = MakeCompressor(run.compressor);
  if (!codec.ok()) {
    return ctx.Error(n["compressor"] ? n["compressor"] : n,
                     "run '" + run.name + "': " + codec.status().message());
  }
  if ((run.algorithm == "dcd" || run.algorithm == "ecd") && !(*codec)->Unbiased() &&
      !run.allow_biased) {
    return ctx.Error(n["compressor"] ? n["compressor"] : n,
                     "run '" + run.name + "': " + run.algorithm +
                         " needs an unbiased compressor, '" + run.compressor +
                         "' is biased (use choco, an unbiased codec, or allow_biased: true)");
  }
  if (run.algorithm != "dpsgd" && topology.graph->time_varying()) {
    return ctx.Error(n["algorithm"] ? n["algorithm"] : n,
                     "run '" + run.name + "': " + run.algorithm +
                         " keeps per-neighbour state and needs a static topology, but " +
                         topology.source + " changes every round (period " +
                         std::to_string(topology.graph->period()) + "); use dpsgd");
  }
  if (run.rounds < 1) return ctx.Error(n, "run '" + run.name + "': rounds must be >= 1");
  if (run.batch_size < 1) return ctx.Error(n, "run '" + run.name + "': batch_size must be >= 1");
  if (run.eval_every < 1) return ctx.Error(n, "run '" + run.name + "': eval_every must be >= 1");
  if (!(run.consensus_step > 0 && run.consensus_step <= 1)) {
    return ctx.Error(n, "run '" + run.name + "': consensus_step must be in (0, 1]");
  }
  if (run.device != "cpu" && run.device.rfind("cuda", 0) != 0) {
    return ctx.Error(n["device"] ? n["device"] : n, "run '" + run.name + "': device '" +
                                                        run.device +
                                                        "' is unknown (valid: cpu, cuda, cuda:N)");
  }
  if (run.round_timeout_s <= 0 || run.connect_timeout_s <= 0) {
    return ctx.Error(n, "run '" + run.name + "': timeouts must be > 0");
  }
  return Status::Ok();
}

// "dpsgd", "dcd-qsgd:8", ...
std::string DefaultRunName(const RunConfig& run) {
  return run.algorithm == "dpsgd" ? run.algorithm : run.algorithm + "-" + run.compressor;
}

}  // namespace

const RunConfig* Experiment::FindRun(const std::string& name) const {
  for (const auto& r : runs) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string AlgorithmLabel(const RunConfig& run) {
  return run.algorithm + "/" + (run.algorithm == "dpsgd" ? std::string("fp32") : run.compressor);
}

Result<Experiment> LoadExperiment(const std::string& path) {
  Ctx ctx{path};
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return NotFound(path + ": cannot open experiment file");
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": malformed YAML: " + e.msg);
  }
  if (!root.IsMap()) return ctx.Error(root, "an experiment file must be a YAML mapping");
  std::set<std::string> top = kRunKeys;
  top.insert({"topology", "output", "defaults", "runs"});
  HEARSAY_RETURN_IF_ERROR(CheckKeys(ctx, root, top, "the experiment"));

  Experiment exp;
  exp.source = path;
  const fs::path base = fs::path(path).parent_path();
  exp.name = fs::path(path).stem().string();
  HEARSAY_RETURN_IF_ERROR(Get(ctx, root, "name", &exp.name));
  HEARSAY_RETURN_IF_ERROR(Get(ctx, root, "output", &exp.output_dir));

  if (!root["topology"]) return ctx.Error(root, "missing `topology:` (path of a topology file)");
  std::string topo;
  HEARSAY_RETURN_IF_ERROR(Get(ctx, root, "topology", &topo));
  exp.topology_path = fs::path(topo).is_relative() ? (base / topo).string() : topo;
  auto spec = LoadTopologyFile(exp.topology_path);
  if (!spec.ok()) {
    const YAML::Mark m = root["topology"].Mark();
    return spec.status().WithPrefix(path + ":" + std::to_string(m.line + 1) + ":" +
                                    std::to_string(m.column + 1) + ": topology");
  }
  exp.topology = std::make_shared<TopologySpec>(std::move(spec).value());

  // Defaults: top-level run keys, then `defaults:`.
  RunConfig defaults;
  HEARSAY_RETURN_IF_ERROR(ApplyRunKeys(ctx, root, base, &defaults));
  if (root["defaults"]) {
    HEARSAY_RETURN_IF_ERROR(CheckKeys(ctx, root["defaults"], kRunKeys, "defaults"));
    HEARSAY_RETURN_IF_ERROR(ApplyRunKeys(ctx, root["defaults"], base, &defaults));
  }

  std::set<std::string> names;
  if (!root["runs"]) {
    if (defaults.name.empty()) defaults.name = DefaultRunName(defaults);
    HEARSAY_RETURN_IF_ERROR(ValidateRun(ctx, root, defaults, *exp.topology));
    exp.runs.push_back(defaults);
  } else {
    const YAML::Node runs = root["runs"];
    if (!runs.IsSequence() || runs.size() == 0) {
      return ctx.Error(runs, "`runs:` must be a non-empty list of runs");
    }
    for (size_t k = 0; k < runs.size(); ++k) {
      const YAML::Node n = runs[k];
      HEARSAY_RETURN_IF_ERROR(CheckKeys(ctx, n, kRunKeys, "run " + std::to_string(k + 1)));
      RunConfig run = defaults;
      run.name.clear();
      HEARSAY_RETURN_IF_ERROR(ApplyRunKeys(ctx, n, base, &run));
      if (run.name.empty()) run.name = DefaultRunName(run);
      for (char& c : run.name) {
        if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
              c == ':')) {
          c = '_';  // run names become folder names
        }
      }
      if (!names.insert(run.name).second) {
        return ctx.Error(n,
                         "two runs are named '" + run.name + "'; give each run a unique `name:`");
      }
      HEARSAY_RETURN_IF_ERROR(ValidateRun(ctx, n, run, *exp.topology));
      exp.runs.push_back(run);
    }
  }
  return exp;
}

}  // namespace hearsay
