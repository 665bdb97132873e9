// One run key at a time: the experiment-file grammar of docs/experiment_format.md ("Run keys").
// Values are parsed into their final types here (enums, seconds, paths), so nothing downstream
// compares strings; range checks that need the merged run live in run_validation.cc.
#include <cmath>
#include <limits>

#include "runtime/peer/experiment.h"
#include "runtime/peer/experiment_parser.h"
#include "runtime/transport/tcp/tcp_transport.h"  // kMaxTcpStreams

namespace hearsay::experiment_internal {
namespace {

const std::vector<std::string> kModelKinds = {"logistic", "softmax", "mlp"};
const std::vector<std::string> kDataKinds = {"synthetic", "libsvm", "csv", "idx"};
const std::vector<std::string> kPartitions = {"iid", "label_sorted", "non-iid", "noniid",
                                              "dirichlet"};
const std::vector<std::string> kCsvHeaders = {"auto", "true", "false", "yes", "no"};
const std::vector<std::string> kLrKinds = {"constant", "inverse", "step"};

// A timeout or period: finite, > 0 (or >= 0 where 0 means "off"), at most kMaxDurationSeconds.
Status GetSeconds(const YamlContext& ctx, const YAML::Node& node, const std::string& what,
                  bool zero_allowed, double* out) {
  HEARSAY_RETURN_IF_ERROR(ctx.GetDuration(node, what, out));
  if (!std::isfinite(*out) || *out > kMaxDurationSeconds) {
    return ctx.Error(node, what + " = " + node.Scalar() + " is longer than the 7-day limit");
  }
  if (*out == 0 && !zero_allowed) {
    return ctx.Error(node, what + " must be > 0 (e.g. 30s)");
  }
  return Status::Ok();
}

Status ParseModel(const YamlContext& ctx, const YAML::Node& n, RunDraft* d) {
  ModelConfig* m = &d->run.model;
  int kind = 0;
  if (n.IsScalar()) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(n, "model kind", kModelKinds, &kind));
    m->kind = kModelKinds[kind];
    d->Set("model.kind", n);
    return Status::Ok();
  }
  HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(n, "model", {"kind", "l2", "hidden"}));
  if (n["kind"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(n["kind"], "model kind", kModelKinds, &kind));
    m->kind = kModelKinds[kind];
    d->Set("model.kind", n["kind"]);
  }
  if (n["l2"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(n["l2"], "model.l2", &m->l2));
    if (m->l2 < 0) return ctx.Error(n["l2"], "model.l2 must be >= 0");
    d->Set("model.l2", n["l2"]);
  }
  if (const YAML::Node h = n["hidden"]) {
    m->hidden.clear();
    const YAML::Node list = h.IsSequence() ? h : YAML::Node();
    const size_t count = h.IsSequence() ? h.size() : 1;
    for (size_t k = 0; k < count; ++k) {
      const YAML::Node e = h.IsSequence() ? list[k] : h;
      int64_t width = 0;
      HEARSAY_RETURN_IF_ERROR(
          ctx.GetIntIn(e, "model.hidden[" + std::to_string(k) + "]", 1, 1 << 20, &width));
      m->hidden.push_back(static_cast<int>(width));
    }
    d->Set("model.hidden", h);
  }
  return Status::Ok();
}

const std::vector<std::string> kOptimizers = {"sgd", "momentum", "nesterov", "adamw"};
const std::vector<std::string> kOuterOptimizers = {"sgd", "nesterov"};

// `optimizer: adamw` or `optimizer: {kind: adamw, beta1: 0.9, ...}`.
Status ParseOptimizer(const YamlContext& ctx, const YAML::Node& n, OptimizerConfig* o) {
  int kind = 0;
  const YAML::Node k = n.IsScalar() ? n : n["kind"];
  if (!n.IsScalar()) {
    HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(
        n, "optimizer", {"kind", "momentum", "beta1", "beta2", "eps", "weight_decay"}));
  }
  if (k) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(k, "optimizer", kOptimizers, &kind));
    o->kind = kOptimizers[kind];
  }
  if (!n.IsScalar()) {
    for (const auto& [key, field] :
         std::vector<std::pair<const char*, double*>>{{"momentum", &o->momentum},
                                                      {"beta1", &o->beta1},
                                                      {"beta2", &o->beta2},
                                                      {"eps", &o->eps},
                                                      {"weight_decay", &o->weight_decay}}) {
      if (n[key])
        HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(n[key], std::string("optimizer.") + key, field));
    }
  }
  Status s = o->Validate();
  if (!s.ok()) return ctx.Error(n, "optimizer: " + s.message());
  return Status::Ok();
}

// `outer_optimizer: nesterov` or `outer_optimizer: {kind: nesterov, lr: 0.7, momentum: 0.9}`.
Status ParseOuterOptimizer(const YamlContext& ctx, const YAML::Node& n, OuterOptimizerConfig* o) {
  int kind = 0;
  const YAML::Node k = n.IsScalar() ? n : n["kind"];
  if (!n.IsScalar()) {
    HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(n, "outer_optimizer", {"kind", "lr", "momentum"}));
  }
  if (k) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(k, "outer_optimizer", kOuterOptimizers, &kind));
    o->kind = kOuterOptimizers[kind];
  }
  if (!n.IsScalar()) {
    if (n["lr"]) HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(n["lr"], "outer_optimizer.lr", &o->lr));
    if (n["momentum"]) {
      HEARSAY_RETURN_IF_ERROR(
          ctx.GetDouble(n["momentum"], "outer_optimizer.momentum", &o->momentum));
    }
  }
  Status s = o->Validate();
  if (!s.ok()) return ctx.Error(n, s.message());
  return Status::Ok();
}

// The keys of csv and idx files: labels files (idx) and the CSV dialect.
Status ParseDataFileKeys(const YamlContext& ctx, const YAML::Node& n, RunDraft* d) {
  DataConfig* data = &d->run.data;
  auto mark = [&](const char* key) { d->Set(std::string("data.") + key, n[key]); };
  std::string text;
  for (const char* key : {"labels", "test_labels"}) {
    if (!n[key]) continue;
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(n[key], std::string("data.") + key, &text));
    if (text.empty()) return ctx.Error(n[key], std::string("data.") + key + ": give a file");
    (std::string(key) == "labels" ? data->labels : data->test_labels) = ctx.Resolve(text);
    mark(key);
  }
  if (n["label_column"]) {
    HEARSAY_RETURN_IF_ERROR(
        ctx.GetIntIn(n["label_column"], "data.label_column", -1, 1 << 24, &data->csv.label_column));
    mark("label_column");
  }
  if (n["header"]) {
    int index = 0;
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(n["header"], "data.header", kCsvHeaders, &index));
    data->csv.header = index == 0                 ? CsvHeader::kAuto
                       : index == 1 || index == 3 ? CsvHeader::kYes
                                                  : CsvHeader::kNo;
    mark("header");
  }
  if (n["delimiter"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(n["delimiter"], "data.delimiter", &text));
    if (text == "tab" || text == "\\t") text = "\t";
    if (text == "space") text = " ";
    if (text.size() != 1 || text == "\"" || text == "\n" || text == "\r") {
      return ctx.Error(n["delimiter"], "data.delimiter '" + text +
                                           "': give one character such as ',' or ';', or tab or "
                                           "space (a quote or line break cannot separate fields)");
    }
    data->csv.delimiter = text[0];
    mark("delimiter");
  }
  return Status::Ok();
}

Status ParseData(const YamlContext& ctx, const YAML::Node& n, RunDraft* d) {
  DataConfig* data = &d->run.data;
  HEARSAY_RETURN_IF_ERROR(
      ctx.CheckKeys(n, "data",
                    {"kind", "samples", "features", "classes", "noise", "separation", "seed",
                     "path", "test_path", "labels", "test_labels", "label_column", "header",
                     "delimiter", "test_fraction", "partition", "alpha"}));
  int index = 0;
  if (n["kind"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(n["kind"], "data kind", kDataKinds, &index));
    data->kind = kDataKinds[index];
    d->Set("data.kind", n["kind"]);
  }
  auto mark = [&](const char* key) { d->Set(std::string("data.") + key, n[key]); };
  int64_t v = 0;
  if (n["samples"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(n["samples"], "data.samples", 2, int64_t{1} << 40, &v));
    data->synthetic.samples = v;
    mark("samples");
  }
  if (n["features"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(n["features"], "data.features", 0, int64_t{1} << 32, &v));
    // Synthetic data needs at least one feature; libsvm's 0 means "infer from the file".
    data->synthetic.features = v;
    data->features = v;
    mark("features");
  }
  if (n["classes"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(n["classes"], "data.classes", 2, 1 << 20, &v));
    data->synthetic.classes = static_cast<int32_t>(v);
    mark("classes");
  }
  if (n["noise"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(n["noise"], "data.noise", &data->synthetic.noise));
    if (!(data->synthetic.noise >= 0 && data->synthetic.noise < 1)) {
      return ctx.Error(n["noise"], "data.noise = " + n["noise"].Scalar() +
                                       "; the fraction of flipped labels must be in [0, 1)");
    }
  }
  if (n["separation"]) {
    HEARSAY_RETURN_IF_ERROR(
        ctx.GetDouble(n["separation"], "data.separation", &data->synthetic.separation));
    if (data->synthetic.separation < 0) {
      return ctx.Error(n["separation"], "data.separation must be >= 0");
    }
  }
  if (n["seed"]) {
    HEARSAY_RETURN_IF_ERROR(
        ctx.GetIntIn(n["seed"], "data.seed", 0, std::numeric_limits<int64_t>::max(), &v));
    data->synthetic.seed = static_cast<uint64_t>(v);
  }
  if (n["test_fraction"]) {
    HEARSAY_RETURN_IF_ERROR(
        ctx.GetDouble(n["test_fraction"], "data.test_fraction", &data->test_fraction));
    if (!(data->test_fraction > 0 && data->test_fraction < 1)) {
      return ctx.Error(n["test_fraction"], "data.test_fraction must be in (0, 1)");
    }
  }
  std::string path;
  if (n["path"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(n["path"], "data.path", &path));
    data->path = path.empty() ? path : ctx.Resolve(path);
    mark("path");
  }
  if (n["test_path"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(n["test_path"], "data.test_path", &path));
    data->test_path = path.empty() ? path : ctx.Resolve(path);
    mark("test_path");
  }
  HEARSAY_RETURN_IF_ERROR(ParseDataFileKeys(ctx, n, d));
  if (n["partition"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(n["partition"], "data partition", kPartitions, &index));
    data->partition = index == 0   ? PartitionMode::kIid
                      : index == 4 ? PartitionMode::kDirichlet
                                   : PartitionMode::kLabelSorted;
    mark("partition");
  }
  if (n["alpha"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(n["alpha"], "data.alpha", &data->alpha));
    if (!(data->alpha > 0 && data->alpha <= kMaxDirichletAlpha)) {
      return ctx.Error(n["alpha"], "data.alpha = " + n["alpha"].Scalar() +
                                       "; the Dirichlet concentration must be > 0 and at most "
                                       "1e6 (smaller = more label skew; 0.1 is strong, 100 "
                                       "almost iid)");
    }
    mark("alpha");
  }
  d->Set("data", n);
  return Status::Ok();
}

Status ParseLr(const YamlContext& ctx, const YAML::Node& n, LrSchedule* lr) {
  if (n.IsScalar()) {
    lr->kind = "constant";
    HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(n, "lr", &lr->base));
  } else {
    HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(n, "lr", {"kind", "base", "decay", "step_every"}));
    int kind = 0;
    if (n["kind"]) {
      HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(n["kind"], "lr kind", kLrKinds, &kind));
      lr->kind = kLrKinds[kind];
    }
    if (n["base"]) HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(n["base"], "lr.base", &lr->base));
    if (n["decay"]) HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(n["decay"], "lr.decay", &lr->decay));
    if (n["step_every"]) {
      HEARSAY_RETURN_IF_ERROR(ctx.GetInt(n["step_every"], "lr.step_every", &lr->step_every));
    }
  }
  Status s = lr->Validate();
  if (!s.ok()) return ctx.Error(n, s.message());
  return Status::Ok();
}

Status ParseStaleness(const YamlContext& ctx, const YAML::Node& n, int64_t* out) {
  if (n.IsScalar() && n.Scalar() == "unbounded") {
    *out = kUnboundedStaleness;
    return Status::Ok();
  }
  int64_t v = 0;
  if (!ctx.GetInt(n, "staleness", &v).ok() || v < 0) {
    return ctx.Error(n, "staleness '" + YamlText(n) +
                            "' must be an integer >= 0 (rounds a peer may run ahead of an "
                            "in-neighbour) or `unbounded`");
  }
  *out = v;
  return Status::Ok();
}

// cluster_id travels in every handshake and is printed in logs: short and printable.
Status ParseClusterId(const YamlContext& ctx, const YAML::Node& n, std::string* out) {
  HEARSAY_RETURN_IF_ERROR(ctx.GetString(n, "cluster_id", out));
  if (out->empty() || out->size() > kMaxClusterIdLength) {
    return ctx.Error(n, "cluster_id must have 1 to " + std::to_string(kMaxClusterIdLength) +
                            " bytes (it has " + std::to_string(out->size()) + ")");
  }
  for (unsigned char c : *out) {
    if (c < 0x20 || c > 0x7e) {
      return ctx.Error(n, "cluster_id must be printable ASCII (no control or non-ASCII bytes)");
    }
  }
  return Status::Ok();
}

}  // namespace

YAML::Node RunDraft::At(const std::string& key) const {
  auto it = at.find(key);
  return it != at.end() ? it->second : entry;
}

const std::vector<std::string>& RunKeys() {
  static const std::vector<std::string> kKeys = {"name",
                                                 "algorithm",
                                                 "compressor",
                                                 "consensus_step",
                                                 "allow_biased",
                                                 "model",
                                                 "data",
                                                 "lr",
                                                 "rounds",
                                                 "batch_size",
                                                 "seed",
                                                 "eval_every",
                                                 "device",
                                                 "emulate",
                                                 "round_timeout",
                                                 "connect_timeout",
                                                 "cluster_id",
                                                 "secret",
                                                 "secret_file",
                                                 "mode",
                                                 "staleness",
                                                 "duration",
                                                 "eval_every_s",
                                                 "compute_time",
                                                 "target_loss",
                                                 "heartbeat",
                                                 "dead_after",
                                                 "checkpoint_every",
                                                 "min_neighbors",
                                                 "faults",
                                                 "optimizer",
                                                 "local_steps",
                                                 "outer_optimizer",
                                                 "adpsgd_wait",
                                                 "streams"};
  return kKeys;
}

const std::vector<std::string>& TopologyGridKeys() {
  static const std::vector<std::string> kKeys = {"bandwidth", "latency", "generator", "n"};
  return kKeys;
}

Status ApplyRunKey(const YamlContext& ctx, const std::string& key, const YAML::Node& v,
                   RunDraft* d) {
  RunConfig& r = d->run;
  int64_t i = 0;
  int index = 0;
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  if (key == "name") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(v, "name", &r.name));
    d->named = true;
  } else if (key == "algorithm") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(v, "algorithm", AlgorithmNames(), &index));
    r.algorithm = static_cast<AlgorithmKind>(index);
  } else if (key == "compressor") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(v, "compressor", &r.compressor));
  } else if (key == "consensus_step") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(v, "consensus_step", &r.consensus_step));
  } else if (key == "allow_biased") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetBool(v, "allow_biased", &r.allow_biased));
  } else if (key == "model") {
    HEARSAY_RETURN_IF_ERROR(ParseModel(ctx, v, d));
  } else if (key == "data") {
    HEARSAY_RETURN_IF_ERROR(ParseData(ctx, v, d));
  } else if (key == "lr") {
    HEARSAY_RETURN_IF_ERROR(ParseLr(ctx, v, &r.lr));
  } else if (key == "rounds") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(v, "rounds", 1, kMax - 1, &r.rounds));
  } else if (key == "batch_size") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(v, "batch_size", 1, 1 << 24, &r.batch_size));
  } else if (key == "seed") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(v, "seed", 0, kMax, &i));
    r.seed = static_cast<uint64_t>(i);
  } else if (key == "eval_every") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(v, "eval_every", 1, kMax, &r.eval_every));
  } else if (key == "device") {
    std::string text;
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(v, "device", &text));
    auto dev = ParseDevice(text);
    if (!dev.ok()) return ctx.Error(v, dev.status().message());
    r.device = dev.value();
  } else if (key == "emulate") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetBool(v, "emulate", &r.emulate));
  } else if (key == "round_timeout") {
    HEARSAY_RETURN_IF_ERROR(GetSeconds(ctx, v, "round_timeout", false, &r.round_timeout_s));
  } else if (key == "connect_timeout") {
    HEARSAY_RETURN_IF_ERROR(GetSeconds(ctx, v, "connect_timeout", false, &r.connect_timeout_s));
  } else if (key == "cluster_id") {
    HEARSAY_RETURN_IF_ERROR(ParseClusterId(ctx, v, &r.cluster_id));
  } else if (key == "secret") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(v, "secret", &r.secret));
  } else if (key == "secret_file") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(v, "secret_file", &r.secret_file));
    if (r.secret_file.empty()) return ctx.Error(v, "secret_file: give the path of a file");
    r.secret_file = ctx.Resolve(r.secret_file);
  } else if (key == "mode") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(v, "mode", ModeNames(), &index));
    r.mode = static_cast<RunMode>(index);
  } else if (key == "staleness") {
    HEARSAY_RETURN_IF_ERROR(ParseStaleness(ctx, v, &r.staleness));
  } else if (key == "duration") {
    HEARSAY_RETURN_IF_ERROR(GetSeconds(ctx, v, "duration", true, &r.duration_s));
  } else if (key == "eval_every_s") {
    HEARSAY_RETURN_IF_ERROR(GetSeconds(ctx, v, "eval_every_s", true, &r.eval_every_s));
  } else if (key == "compute_time") {
    HEARSAY_RETURN_IF_ERROR(GetSeconds(ctx, v, "compute_time", false, &r.compute_time_s));
  } else if (key == "target_loss") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(v, "target_loss", &r.target_loss));
    if (r.target_loss < 0) {
      return ctx.Error(v, "target_loss = " + YamlText(v) +
                              ": a training loss is never negative, so no run could reach it");
    }
  } else if (key == "heartbeat") {
    HEARSAY_RETURN_IF_ERROR(GetSeconds(ctx, v, "heartbeat", false, &r.heartbeat_s));
  } else if (key == "dead_after") {
    HEARSAY_RETURN_IF_ERROR(GetSeconds(ctx, v, "dead_after", false, &r.dead_after_s));
  } else if (key == "checkpoint_every") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(v, "checkpoint_every", 0, kMax, &r.checkpoint_every));
  } else if (key == "adpsgd_wait") {
    static const std::vector<std::string> kWait = {"none", "reply"};
    HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(v, "adpsgd_wait", kWait, &index));
    r.adpsgd_wait_reply = index == 1;
  } else if (key == "streams") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(v, "streams", 1, kMaxTcpStreams, &r.streams));
  } else if (key == "min_neighbors") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(v, "min_neighbors", 0, 1 << 20, &r.min_neighbors));
  } else if (key == "optimizer") {
    HEARSAY_RETURN_IF_ERROR(ParseOptimizer(ctx, v, &r.optimizer));
  } else if (key == "local_steps") {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(v, "local_steps", 1, 1 << 20, &r.local_steps));
  } else if (key == "outer_optimizer") {
    HEARSAY_RETURN_IF_ERROR(ParseOuterOptimizer(ctx, v, &r.outer_optimizer));
  } else if (key == "faults") {
    if (!v.IsSequence()) {
      return ctx.Error(
          v,
          "faults: expected a list of {at: 30s | at_round: R, kill: P | "
          "restart: P | join: P | pause: P | partition: [[...], [...]] | link_down: [a, b], "
          "for: 10s}");
    }
    d->faults.emplace(v);
  } else {
    return Internal("ApplyRunKey: no parser for run key '" + key + "'");
  }
  d->Set(key, v);
  return Status::Ok();
}

Status ApplyRunKeys(const YamlContext& ctx, const YAML::Node& map, RunDraft* d) {
  for (const std::string& key : RunKeys()) {
    if (const YAML::Node v = map[key]) HEARSAY_RETURN_IF_ERROR(ApplyRunKey(ctx, key, v, d));
  }
  return Status::Ok();
}

Status ApplyGridValue(const YamlContext& ctx, const std::string& key, const YAML::Node& v,
                      RunDraft* d) {
  if (key == "bandwidth") {
    double bps = 0;
    HEARSAY_RETURN_IF_ERROR(ctx.GetBandwidth(v, "grid bandwidth", &bps));
    d->topology.bandwidth_bps = bps;
  } else if (key == "latency") {
    // Link latencies follow the topology file's rule: a bare number is an error (ms or s?).
    YamlContext strict = ctx;
    strict.bare_durations = BareNumber::kError;
    double s = 0;
    HEARSAY_RETURN_IF_ERROR(strict.GetDuration(v, "grid latency", &s));
    d->topology.latency_s = s;
  } else if (key == "generator") {
    if (!v.IsScalar() && !v.IsMap()) {
      return ctx.Error(v, "grid generator: expected a kind (ring) or a map ({kind: ...})");
    }
    d->topology.generator = YamlText(v);
  } else if (key == "n") {
    int64_t n = 0;
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(v, "grid n", 1, 1 << 20, &n));
    d->topology.nodes = static_cast<int>(n);
  } else {
    return ApplyRunKey(ctx, key, v, d);
  }
  d->topology_at.reset(v);
  return Status::Ok();
}

}  // namespace hearsay::experiment_internal
