// OUT/config.yaml: the resolved experiment, written with the experiment format's own key names
// (durations as bare seconds, which experiment files read as seconds) so a reader needs no
// second vocabulary. The cluster secret is never written.
#include <yaml-cpp/yaml.h>

#include <cmath>

#include "runtime/peer/experiment.h"
#include "runtime/version.h"
#include "topology/units.h"
#include "topology/writers.h"

namespace hearsay {
namespace {

std::string Num(double v) { return FormatDouble(v); }

void EmitTopology(YAML::Emitter& e, const TopologySpec& spec) {
  // The topology writer's text is the canonical form; re-read it to nest it as a mapping.
  e << YAML::Load(WriteTopologyYaml(spec));
}

void EmitModelDataLr(YAML::Emitter& e, const RunConfig& r) {
  e << YAML::Key << "model" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "kind" << YAML::Value << r.model.kind;
  e << YAML::Key << "l2" << YAML::Value << Num(r.model.l2);
  if (!r.model.hidden.empty()) e << YAML::Key << "hidden" << YAML::Value << r.model.hidden;
  e << YAML::EndMap;
  const DataConfig& d = r.data;
  e << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "kind" << YAML::Value << d.kind;
  if (d.kind == "synthetic") {
    e << YAML::Key << "samples" << YAML::Value << d.synthetic.samples;
    e << YAML::Key << "features" << YAML::Value << d.synthetic.features;
    e << YAML::Key << "classes" << YAML::Value << d.synthetic.classes;
    e << YAML::Key << "noise" << YAML::Value << Num(d.synthetic.noise);
    e << YAML::Key << "separation" << YAML::Value << Num(d.synthetic.separation);
    e << YAML::Key << "seed" << YAML::Value << d.synthetic.seed;
  } else {
    e << YAML::Key << "path" << YAML::Value << d.path;
    if (!d.test_path.empty()) e << YAML::Key << "test_path" << YAML::Value << d.test_path;
    if (d.kind == "libsvm") e << YAML::Key << "features" << YAML::Value << d.features;
    if (d.kind == "idx") {
      e << YAML::Key << "labels" << YAML::Value << d.labels;
      if (!d.test_labels.empty()) {
        e << YAML::Key << "test_labels" << YAML::Value << d.test_labels;
      }
    }
    if (d.kind == "csv") {
      e << YAML::Key << "label_column" << YAML::Value << d.csv.label_column;
      e << YAML::Key << "header" << YAML::Value << CsvHeaderName(d.csv.header);
      e << YAML::Key << "delimiter" << YAML::Value
        << (d.csv.delimiter == '\t'  ? std::string("tab")
            : d.csv.delimiter == ' ' ? std::string("space")
                                     : std::string(1, d.csv.delimiter));
    }
  }
  e << YAML::Key << "test_fraction" << YAML::Value << Num(d.test_fraction);
  e << YAML::Key << "partition" << YAML::Value << PartitionName(d.partition);
  if (d.partition == PartitionMode::kDirichlet) {
    e << YAML::Key << "alpha" << YAML::Value << Num(d.alpha);
  }
  e << YAML::EndMap;
  e << YAML::Key << "lr" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "kind" << YAML::Value << r.lr.kind;
  e << YAML::Key << "base" << YAML::Value << Num(r.lr.base);
  e << YAML::Key << "decay" << YAML::Value << Num(r.lr.decay);
  e << YAML::Key << "step_every" << YAML::Value << r.lr.step_every;
  e << YAML::EndMap;
}

void EmitFaults(YAML::Emitter& e, const std::vector<FaultSpec>& faults) {
  e << YAML::Key << "faults" << YAML::Value;
  if (faults.empty()) e << YAML::Flow;
  e << YAML::BeginSeq;
  for (const FaultSpec& f : faults) {
    e << YAML::Flow << YAML::BeginMap;
    if (f.at_round > 0) {
      e << YAML::Key << "at_round" << YAML::Value << f.at_round;
    } else {
      e << YAML::Key << "at" << YAML::Value << Num(f.at_s);
    }
    e << YAML::Key << FaultKindName(f.kind) << YAML::Value;
    if (f.kind == FaultSpec::Kind::kPartition) {
      e << f.groups;
    } else if (f.kind == FaultSpec::Kind::kLinkDown) {
      e << f.peers;
    } else {
      e << f.peers.front();
    }
    if (f.for_s > 0) e << YAML::Key << "for" << YAML::Value << Num(f.for_s);
    if (f.until_round > 0) e << YAML::Key << "until_round" << YAML::Value << f.until_round;
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
}

void EmitRun(YAML::Emitter& e, const RunConfig& r, const Experiment& exp) {
  e << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << r.name;
  if (!r.grid_values.empty()) {
    e << YAML::Key << "grid_point" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (const auto& [k, v] : r.grid_values) e << YAML::Key << k << YAML::Value << v;
    e << YAML::EndMap;
  }
  e << YAML::Key << "algorithm" << YAML::Value << AlgorithmName(r.algorithm);
  e << YAML::Key << "compressor" << YAML::Value << r.compressor;
  e << YAML::Key << "consensus_step" << YAML::Value << Num(r.consensus_step);
  e << YAML::Key << "allow_biased" << YAML::Value << r.allow_biased;
  EmitModelDataLr(e, r);
  const OptimizerConfig& o = r.optimizer;
  e << YAML::Key << "optimizer" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "kind" << YAML::Value << o.kind;
  if (o.kind == "momentum" || o.kind == "nesterov") {
    e << YAML::Key << "momentum" << YAML::Value << Num(o.momentum);
  } else if (o.kind == "adamw") {
    e << YAML::Key << "beta1" << YAML::Value << Num(o.beta1) << YAML::Key << "beta2" << YAML::Value
      << Num(o.beta2) << YAML::Key << "eps" << YAML::Value << Num(o.eps) << YAML::Key
      << "weight_decay" << YAML::Value << Num(o.weight_decay);
  }
  e << YAML::EndMap;
  e << YAML::Key << "local_steps" << YAML::Value << r.local_steps;
  e << YAML::Key << "outer_optimizer" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "kind" << YAML::Value << r.outer_optimizer.kind << YAML::Key << "lr"
    << YAML::Value << Num(r.outer_optimizer.lr);
  if (r.outer_optimizer.kind == "nesterov") {
    e << YAML::Key << "momentum" << YAML::Value << Num(r.outer_optimizer.momentum);
  }
  e << YAML::EndMap;
  if (r.rounds == kUnlimitedRounds) {
    e << YAML::Comment("rounds: unlimited (`duration` bounds the run)");
  } else {
    e << YAML::Key << "rounds" << YAML::Value << r.rounds;
  }
  e << YAML::Key << "batch_size" << YAML::Value << r.batch_size;
  e << YAML::Key << "seed" << YAML::Value << r.seed;
  e << YAML::Key << "eval_every" << YAML::Value << r.eval_every;
  e << YAML::Key << "device" << YAML::Value << r.device.ToString();
  e << YAML::Key << "emulate" << YAML::Value << r.emulate;
  e << YAML::Key << "round_timeout" << YAML::Value << Num(r.round_timeout_s);
  e << YAML::Key << "connect_timeout" << YAML::Value << Num(r.connect_timeout_s);
  e << YAML::Key << "cluster_id" << YAML::Value << r.cluster_id;
  e << YAML::Key << "streams" << YAML::Value << r.streams;
  if (!r.secret_file.empty()) e << YAML::Key << "secret_file" << YAML::Value << r.secret_file;
  e << YAML::Key << "mode" << YAML::Value << ModeName(r.mode);
  e << YAML::Key << "staleness" << YAML::Value;
  if (r.staleness == kUnboundedStaleness) {
    e << "unbounded";
  } else {
    e << r.staleness;
  }
  e << YAML::Key << "duration" << YAML::Value << Num(r.duration_s);
  e << YAML::Key << "eval_every_s" << YAML::Value << Num(r.eval_every_s);
  if (r.compute_time_s > 0) {
    e << YAML::Key << "compute_time" << YAML::Value << Num(r.compute_time_s);
  }
  if (!std::isnan(r.target_loss)) {
    e << YAML::Key << "target_loss" << YAML::Value << Num(r.target_loss);
  }
  e << YAML::Key << "heartbeat" << YAML::Value << Num(r.heartbeat_s);
  e << YAML::Key << "dead_after" << YAML::Value << Num(r.dead_after_s);
  e << YAML::Key << "checkpoint_every" << YAML::Value << r.checkpoint_every;
  e << YAML::Key << "min_neighbors" << YAML::Value << r.min_neighbors;
  e << YAML::Key << "adpsgd_wait" << YAML::Value << (r.adpsgd_wait_reply ? "reply" : "none");
  EmitFaults(e, r.faults);
  if (r.topology && r.topology != exp.topology) {
    e << YAML::Key << "topology" << YAML::Value;
    EmitTopology(e, *r.topology);
  }
  e << YAML::EndMap;
}

}  // namespace

std::string ResolvedConfigYaml(const Experiment& exp, const std::vector<const RunConfig*>& runs) {
  YAML::Emitter e;
  e << YAML::Comment("What produced this folder: written by hearsay before any peer started.");
  e << YAML::BeginMap;
  e << YAML::Key << "hearsay" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "version" << YAML::Value << RuntimeVersion();
  e << YAML::Key << "commit" << YAML::Value << GitCommit();
  e << YAML::Key << "build" << YAML::Value << BuildOptions();
  e << YAML::EndMap;
  e << YAML::Key << "experiment" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "source" << YAML::Value << exp.source;
  e << YAML::Key << "name" << YAML::Value << exp.name;
  e << YAML::Key << "output" << YAML::Value << exp.output_dir;
  e << YAML::Key << "transport" << YAML::Value << TransportName(exp.transport);
  e << YAML::Key << "topology_file" << YAML::Value << exp.topology_path;
  if (!exp.grid_keys.empty())
    e << YAML::Key << "grid" << YAML::Value << YAML::Flow << exp.grid_keys;
  e << YAML::EndMap;
  e << YAML::Key << "runs" << YAML::Value << YAML::BeginSeq;
  for (const RunConfig* r : runs) EmitRun(e, *r, exp);
  e << YAML::EndSeq;
  e << YAML::Key << "topology" << YAML::Value;
  EmitTopology(e, *exp.topology);
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace hearsay
