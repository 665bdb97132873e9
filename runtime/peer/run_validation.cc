// Checks on a merged run (defaults, the run's entry and grid values applied) and its fault
// schedule. Every error names the node that set the offending value, so the user is sent to the
// line to change even when the value was inherited from `defaults:`.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "compressors/compressor.h"
#include "runtime/data/idx.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/experiment_parser.h"

namespace hearsay::experiment_internal {
namespace {

namespace fs = std::filesystem;

std::string Gigabytes(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f GB", bytes / 1e9);
  return buf;
}

bool IsStateful(AlgorithmKind a) {
  return a == AlgorithmKind::kDcd || a == AlgorithmKind::kEcd || a == AlgorithmKind::kChoco;
}

// Every peer this one exchanges messages with in some round (in- and out-neighbours).
std::vector<std::set<int>> NeighborSets(const Topology& graph) {
  std::vector<std::set<int>> out(graph.size());
  for (int64_t t = 1; t <= graph.period(); ++t) {
    for (int i = 0; i < graph.size(); ++i) {
      for (int j : graph.InNeighbors(i, t)) {
        out[i].insert(j);
        out[j].insert(i);
      }
    }
  }
  return out;
}

Status CheckCodec(const YamlContext& ctx, const RunDraft& d) {
  const RunConfig& run = d.run;
  auto codec = MakeCompressor(run.compressor);
  if (!codec.ok()) {
    return ctx.Error(d.At("compressor"), "run '" + run.name + "': " + codec.status().message());
  }
  if ((run.algorithm == AlgorithmKind::kDcd || run.algorithm == AlgorithmKind::kEcd) &&
      !(*codec)->Unbiased() && !run.allow_biased) {
    return ctx.Error(d.At("compressor"),
                     "run '" + run.name + "': " + AlgorithmName(run.algorithm) +
                         " needs an unbiased compressor, '" + run.compressor +
                         "' is biased (use choco, an unbiased codec, or allow_biased: true)");
  }
  const Topology& graph = *run.topology->graph;
  if (IsStateful(run.algorithm) && graph.time_varying()) {
    return ctx.Error(d.At("algorithm"),
                     "run '" + run.name + "': " + AlgorithmName(run.algorithm) +
                         " keeps per-neighbour state and needs a static topology, but " +
                         run.topology->source + " changes every round (period " +
                         std::to_string(graph.period()) + "); use dpsgd");
  }
  if (!(run.consensus_step > 0 && run.consensus_step <= 1)) {
    return ctx.Error(d.At("consensus_step"),
                     "run '" + run.name + "': consensus_step must be in (0, 1]");
  }
  return Status::Ok();
}

// Keys that belong to another kind of data, or to another partition, would silently do nothing:
// each is an error naming the line that set it.
Status CheckDataKeys(const YamlContext& ctx, const RunDraft& d) {
  const DataConfig& data = d.run.data;
  const std::string at_kind = d.Has("data.kind") ? "data.kind" : "data";
  for (const char* key : {"label_column", "header", "delimiter"}) {
    if (d.Has(std::string("data.") + key) && data.kind != "csv") {
      return ctx.Error(d.At(std::string("data.") + key),
                       std::string("data.") + key + " applies to kind csv, not " + data.kind);
    }
  }
  for (const char* key : {"labels", "test_labels"}) {
    if (d.Has(std::string("data.") + key) && data.kind != "idx") {
      return ctx.Error(d.At(std::string("data.") + key),
                       std::string("data.") + key + " applies to kind idx, not " + data.kind);
    }
  }
  if (data.kind == "idx") {
    if (data.labels.empty()) {
      return ctx.Error(d.At(at_kind),
                       "idx data needs `labels:` (the labels file beside the images `path:`)");
    }
    if (data.test_path.empty() != data.test_labels.empty()) {
      return ctx.Error(d.At(data.test_path.empty() ? "data.test_labels" : "data.test_path"),
                       "idx data: give `test_path:` (images) and `test_labels:` together");
    }
  }
  if (d.Has("data.alpha") && data.partition != PartitionMode::kDirichlet) {
    return ctx.Error(d.At("data.alpha"),
                     "data.alpha is the Dirichlet concentration; it needs partition: dirichlet "
                     "(the partition is " +
                         std::string(PartitionName(data.partition)) + ")");
  }
  return Status::Ok();
}

// The model, the data set and the peers' model copies must fit in this machine: a validation
// error here instead of std::bad_alloc in the middle of a run.
Status CheckModelAndData(const YamlContext& ctx, const RunDraft& d) {
  const RunConfig& run = d.run;
  const DataConfig& data = run.data;
  const int n = run.topology->size();
  HEARSAY_RETURN_IF_ERROR(CheckDataKeys(ctx, d));
  if (data.kind != "synthetic") {
    if (data.path.empty()) {
      return ctx.Error(d.At("data"), data.kind + " data needs `path:`" +
                                         (data.kind == "idx" ? " (the images file)" : ""));
    }
    for (const auto& [key, path] : {std::pair<std::string, std::string>{"path", data.path},
                                    {"test_path", data.test_path},
                                    {"labels", data.labels},
                                    {"test_labels", data.test_labels}}) {
      if (path.empty()) continue;
      std::error_code ec;
      const auto status = fs::status(path, ec);
      if (ec || !fs::exists(status)) {
        return ctx.Error(d.At("data." + key), "data." + key + ": cannot open '" + path +
                                                  "' (relative paths are resolved against "
                                                  "the experiment file's folder)");
      }
      if (!fs::is_regular_file(status)) {
        return ctx.Error(d.At("data." + key),
                         "data." + key + ": '" + path + "' is not a regular file");
      }
      // An IDX header that disagrees with the file's size (a truncated download) is known
      // without reading the data: report it before any run starts.
      if (data.kind == "idx") {
        Status header = CheckIdxHeader(path);
        if (!header.ok())
          return ctx.Error(d.At("data." + key), "data." + key + ": " + header.message());
      }
    }
    if (!run.model.hidden.empty() && run.model.kind != "mlp") {
      return ctx.Error(d.At("model.hidden"), "model.hidden is only used by kind mlp");
    }
    return Status::Ok();  // sizes are known once the file is read (errors carry its line)
  }
  const SyntheticConfig& s = data.synthetic;
  if (s.features < 1) return ctx.Error(d.At("data.features"), "data.features must be >= 1");
  auto model = MakeModel(run.model, s.features, s.classes);
  if (!model.ok()) {
    const std::string key = d.Has("model.kind") ? "model.kind" : "model";
    return ctx.Error(d.At(key), "run '" + run.name + "': " + model.status().message());
  }
  // Every peer keeps its model, a gradient and up to one copy per neighbour (plus a little);
  // in-process runs and the simulator hold all peers in this one process.
  int max_degree = 0;
  for (const auto& nb : NeighborSets(*run.topology->graph)) {
    max_degree = std::max(max_degree, static_cast<int>(nb.size()));
  }
  const double data_bytes =
      static_cast<double>(s.samples) * (static_cast<double>(s.features) + 1) * 4;
  const double model_bytes = static_cast<double>((*model)->num_params()) * 4 * n * (max_degree + 4);
  const double limit = static_cast<double>(PhysicalMemoryBytes()) / 2;
  if (data_bytes + model_bytes > limit) {
    const std::string key = d.Has("data.samples") ? "data.samples" : "data";
    return ctx.Error(
        d.At(key), "run '" + run.name + "': the data set (" + Gigabytes(data_bytes) +
                       ") and the models of " + std::to_string(n) + " peers (" +
                       Gigabytes(model_bytes) + ") need more than half of this machine's memory (" +
                       Gigabytes(2 * limit) + "); make samples, features or classes smaller");
  }
  return Status::Ok();
}

Status CheckTimingAndQuorum(const YamlContext& ctx, const RunDraft& d) {
  const RunConfig& run = d.run;
  if (run.dead_after_s <= run.heartbeat_s) {
    return ctx.Error(d.At(d.Has("dead_after") ? "dead_after" : "heartbeat"),
                     "run '" + run.name + "': dead_after (" + FormatDuration(run.dead_after_s) +
                         ") must be longer than heartbeat (" + FormatDuration(run.heartbeat_s) +
                         "), or every idle neighbour would be declared dead");
  }
  if (run.checkpoint_every > 0) {
    // A checkpoint is a state every peer resumes from together: between rounds of a
    // synchronous run of a gossip algorithm on the CPU (docs/faults.md).
    std::string why;
    if (run.mode != RunMode::kSync) {
      why = "mode: async (peers are at different rounds, so no set of checkpoints is consistent)";
    } else if (run.algorithm == AlgorithmKind::kAdpsgd ||
               run.algorithm == AlgorithmKind::kAllreduce) {
      why = std::string("algorithm ") + AlgorithmName(run.algorithm) + " (not supported yet)";
    } else if (run.device.kind != DeviceKind::kCpu) {
      why = "device " + run.device.ToString() + " (checkpoints are written on the CPU)";
    } else if (run.topology->graph->time_varying()) {
      why = "a time-varying topology (not supported yet)";
    }
    if (!why.empty()) {
      return ctx.Error(
          d.At("checkpoint_every"),
          "run '" + run.name +
              "': checkpoint_every needs a synchronous run of "
              "dpsgd, dcd, ecd or choco on the CPU over a static graph; this run has " +
              why);
    }
  }
  if (run.min_neighbors > 0) {
    const auto sets = NeighborSets(*run.topology->graph);
    for (size_t i = 0; i < sets.size(); ++i) {
      if (static_cast<int64_t>(sets[i].size()) < run.min_neighbors) {
        return ctx.Error(d.At("min_neighbors"), "run '" + run.name + "': min_neighbors is " +
                                                    std::to_string(run.min_neighbors) +
                                                    " but peer " + std::to_string(i) +
                                                    " has only " + std::to_string(sets[i].size()) +
                                                    " neighbours; it could never train");
      }
    }
  }
  return Status::Ok();
}

// One entry of `faults:` -> FaultSpec, with its peers resolved against the run's topology.
Status ParseFault(const YamlContext& ctx, const RunConfig& run, const YAML::Node& e,
                  const std::string& what, FaultSpec* f) {
  HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(e, what,
                                        {"at", "at_round", "kill", "restart", "join", "pause",
                                         "partition", "link_down", "for", "until_round"}));
  f->line = e.Mark().line + 1;
  if (e["at"] && e["at_round"]) {
    return ctx.Error(e, what + ": give `at:` (a time such as 30s) or `at_round:`, not both");
  }
  if (e["at"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetDuration(e["at"], what + ".at", &f->at_s));
    if (run.duration_s > 0 && f->at_s >= run.duration_s) {
      return ctx.Error(e["at"], what + ".at = " + FormatDuration(f->at_s) +
                                    " is after the run's end (duration " +
                                    FormatDuration(run.duration_s) + ")");
    }
  } else if (e["at_round"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(e["at_round"], what + ".at_round", 1,
                                         std::numeric_limits<int64_t>::max(), &f->at_round));
    if (run.rounds != kUnlimitedRounds && f->at_round > run.rounds) {
      return ctx.Error(e["at_round"], what + ".at_round = " + std::to_string(f->at_round) +
                                          " is after the run's end (" + std::to_string(run.rounds) +
                                          " rounds)");
    }
  } else {
    return ctx.Error(e, what + ": say when: `at: 30s` (since the run started) or `at_round: R`");
  }
  static const std::vector<std::pair<const char*, FaultSpec::Kind>> kActions = {
      {"kill", FaultSpec::Kind::kKill},           {"restart", FaultSpec::Kind::kRestart},
      {"join", FaultSpec::Kind::kJoin},           {"pause", FaultSpec::Kind::kPause},
      {"partition", FaultSpec::Kind::kPartition}, {"link_down", FaultSpec::Kind::kLinkDown}};
  YAML::Node action;
  int actions = 0;
  for (const auto& [key, kind] : kActions) {
    if (!e[key]) continue;
    ++actions;
    f->kind = kind;
    action.reset(e[key]);
  }
  if (actions != 1) {
    return ctx.Error(e, what +
                            ": give exactly one of kill, restart, join, pause, partition, "
                            "link_down");
  }
  const std::string name = what + "." + FaultKindName(f->kind);
  if (f->kind == FaultSpec::Kind::kPartition) {
    if (!action.IsSequence() || action.size() == 0) {
      return ctx.Error(action, name + ": expected a list of node groups, [[0, 1], [2, 3]]");
    }
    std::set<int> seen;
    for (size_t k = 0; k < action.size(); ++k) {
      std::vector<int> group;
      HEARSAY_RETURN_IF_ERROR(ctx.GetNodeSet(action[k], name, &group));
      for (int id : group) {
        if (!seen.insert(id).second) {
          return ctx.Error(action[k], name + ": node " + std::to_string(id) +
                                          " is in two groups; partition groups must not "
                                          "overlap");
        }
      }
      f->groups.push_back(std::move(group));
    }
    if (f->groups.size() == 1 && static_cast<int>(seen.size()) == run.topology->size()) {
      return ctx.Error(action, name + ": one group holding every node cuts nothing");
    }
  } else if (f->kind == FaultSpec::Kind::kLinkDown) {
    if (!action.IsSequence() || action.size() != 2) {
      return ctx.Error(action, name + ": expected two peers, [a, b]");
    }
    int a = 0, b = 0;
    HEARSAY_RETURN_IF_ERROR(ctx.GetNode(action[0], name, &a));
    HEARSAY_RETURN_IF_ERROR(ctx.GetNode(action[1], name, &b));
    if (!NeighborSets(*run.topology->graph)[a].count(b)) {
      return ctx.Error(action, name + ": peers " + std::to_string(a) + " and " + std::to_string(b) +
                                   " are not neighbours; there is no link "
                                   "to take down");
    }
    f->peers = {a, b};
  } else {
    int p = 0;
    HEARSAY_RETURN_IF_ERROR(ctx.GetNode(action, name, &p));
    f->peers = {p};
  }
  const bool timed = f->kind == FaultSpec::Kind::kPause || f->kind == FaultSpec::Kind::kPartition ||
                     f->kind == FaultSpec::Kind::kLinkDown;
  if (e["for"]) {
    if (!timed) {
      return ctx.Error(e["for"], what +
                                     ": `for:` applies to pause, partition and link_down, not "
                                     "to " +
                                     FaultKindName(f->kind));
    }
    HEARSAY_RETURN_IF_ERROR(ctx.GetDuration(e["for"], what + ".for", &f->for_s));
    if (f->for_s <= 0) return ctx.Error(e["for"], what + ".for must be > 0");
  } else if (f->kind == FaultSpec::Kind::kPause) {
    return ctx.Error(e, what +
                            ": a pause needs `for:` (how long; a pause that never ends is a "
                            "kill)");
  }
  const bool network =
      f->kind == FaultSpec::Kind::kPartition || f->kind == FaultSpec::Kind::kLinkDown;
  if (e["until_round"]) {
    if (!network || !e["at_round"] || e["for"]) {
      return ctx.Error(e["until_round"], what +
                                             ": `until_round:` ends a partition or link_down that "
                                             "starts `at_round:` (instead of `for:`)");
    }
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(e["until_round"], what + ".until_round", f->at_round + 1,
                                         std::numeric_limits<int64_t>::max(), &f->until_round));
  } else if (network && e["at_round"] && e["for"]) {
    // The emulators apply round-based changes at each sender's own round; a duration after a
    // round is a different instant on every peer.
    return ctx.Error(e["for"], what +
                                   ": a partition or link_down that starts `at_round:` ends at "
                                   "`until_round:`, not after `for:` (or start it `at:` a time)");
  }
  return Status::Ok();
}

// Partitions and downed links are executed by the network emulator of every peer (TCP,
// in-process and simulated runs alike): each becomes `down` events on the directed links it cuts,
// and `up` events when it ends, appended to the run's own copy of its topology.
void AddNetworkFaultEvents(RunConfig* run) {
  std::vector<LinkEvent> events;
  const TopologySpec& topo = *run->topology;
  const auto sets = NeighborSets(*topo.graph);
  for (const FaultSpec& f : run->faults) {
    std::vector<std::pair<int, int>> cut;
    if (f.kind == FaultSpec::Kind::kLinkDown) {
      cut = {{f.peers[0], f.peers[1]}, {f.peers[1], f.peers[0]}};
    } else if (f.kind == FaultSpec::Kind::kPartition) {
      std::vector<int> group(topo.size(), static_cast<int>(f.groups.size()));  // unlisted: one more
      for (size_t g = 0; g < f.groups.size(); ++g) {
        for (int id : f.groups[g]) group[id] = static_cast<int>(g);
      }
      for (int i = 0; i < topo.size(); ++i) {
        for (int j : sets[i]) {
          if (group[i] != group[j]) cut.emplace_back(i, j);
        }
      }
    } else {
      continue;
    }
    LinkEvent down;
    down.at_seconds = f.at_s;
    down.at_round = f.at_round;
    down.links = cut;
    down.up = false;
    down.line = f.line;
    events.push_back(down);
    if (f.for_s > 0 || f.until_round > 0) {
      LinkEvent up = down;
      up.up = true;
      if (f.until_round > 0) {
        up.at_round = f.until_round;
      } else {
        up.at_seconds = f.at_s + f.for_s;
      }
      events.push_back(up);
    }
  }
  if (events.empty()) return;
  auto spec = std::make_shared<TopologySpec>(topo);
  spec->events.insert(spec->events.end(), events.begin(), events.end());
  run->topology = std::move(spec);
}

// Late joiners (`join: P`): a peer joins once, before anything else happens to it, and it needs
// a neighbour that is there from the start to take its state from (and one peer must start).
Status CheckJoins(const YamlContext& ctx, const RunConfig& run, const YAML::Node& list) {
  const auto sets = NeighborSets(*run.topology->graph);
  const int n = run.topology->size();
  std::vector<char> late(n, 0);
  for (const FaultSpec& f : run.faults) {
    if (f.kind == FaultSpec::Kind::kJoin) late[f.peers[0]] = 1;
  }
  std::vector<char> seen(n, 0);  // named by a fault earlier in the list
  for (size_t k = 0; k < run.faults.size(); ++k) {
    const FaultSpec& f = run.faults[k];
    const std::string what = "faults[" + std::to_string(k) + "]";
    if (f.kind == FaultSpec::Kind::kJoin) {
      const int p = f.peers[0];
      if (run.algorithm == AlgorithmKind::kAllreduce || run.device.kind != DeviceKind::kCpu ||
          run.topology->graph->time_varying()) {
        return ctx.Error(list[k], what +
                                      ".join: a late joiner joins by a state transfer, which "
                                      "needs dpsgd, dcd, ecd, choco or adpsgd on the CPU over a "
                                      "static graph");
      }
      if (seen[p]) {
        return ctx.Error(list[k], what + ".join: peer " + std::to_string(p) +
                                      " is named by an earlier fault; a late joiner's join "
                                      "comes first, and only once");
      }
      if (std::none_of(sets[p].begin(), sets[p].end(), [&](int j) { return !late[j]; })) {
        return ctx.Error(list[k], what + ".join: every neighbour of peer " + std::to_string(p) +
                                      " joins late too; a joiner takes its state from a "
                                      "neighbour that is there from the start");
      }
    }
    if (f.kind == FaultSpec::Kind::kLinkDown) continue;  // a link may be down before a join
    for (int p : f.peers) {
      if (late[p] && !seen[p] && f.kind != FaultSpec::Kind::kJoin) {
        return ctx.Error(list[k], what + "." + FaultKindName(f.kind) + ": peer " +
                                      std::to_string(p) +
                                      " joins late; put its `join:` before anything else "
                                      "that happens to it");
      }
      seen[p] = 1;
    }
  }
  if (std::all_of(late.begin(), late.end(), [](char c) { return c != 0; })) {
    return ctx.Error(list, "faults: every peer joins late; at least one must start the run");
  }
  return Status::Ok();
}

Status ParseFaults(const YamlContext& exp_ctx, RunDraft* d) {
  d->run.faults.clear();
  if (!d->faults) return Status::Ok();
  // Peers are named as in the run's topology file: ids, node names, groups, ranges.
  YamlContext ctx = exp_ctx;
  const TopologySpec& topo = *d->run.topology;
  ctx.n = topo.size();
  std::vector<std::string> names;
  for (const NodeSpec& node : topo.nodes) names.push_back(node.name);
  (void)ctx.SetNodeNames(std::move(names));  // unique: the topology was validated
  ctx.groups = topo.groups;
  const YAML::Node list = *d->faults;
  for (size_t k = 0; k < list.size(); ++k) {
    FaultSpec f;
    HEARSAY_RETURN_IF_ERROR(
        ParseFault(ctx, d->run, list[k], "faults[" + std::to_string(k) + "]", &f));
    d->run.faults.push_back(std::move(f));
  }
  HEARSAY_RETURN_IF_ERROR(CheckJoins(ctx, d->run, list));
  const bool joins =
      std::any_of(d->run.faults.begin(), d->run.faults.end(),
                  [](const FaultSpec& f) { return f.kind == FaultSpec::Kind::kJoin; });
  if (joins && d->run.checkpoint_every > 0) {
    return ctx.Error(d->At("checkpoint_every"),
                     "run '" + d->run.name +
                         "': checkpoint_every with a late joiner (join:) is not supported yet "
                         "(a resume would have no checkpoint of a peer that had not joined)");
  }
  AddNetworkFaultEvents(&d->run);
  return Status::Ok();
}

// Local steps and an outer optimizer: every algorithm but AD-PSGD (whose steps are single
// gradient steps between pairwise averages) and the device trainers (their step is one fused
// kernel sequence).
Status CheckLocalSteps(const YamlContext& ctx, const RunDraft& d) {
  const RunConfig& run = d.run;
  const bool local = run.local_steps > 1 || !run.outer_optimizer.identity();
  if (local && run.algorithm == AlgorithmKind::kAdpsgd) {
    return ctx.Error(d.At(run.local_steps > 1 ? "local_steps" : "outer_optimizer"),
                     "run '" + run.name +
                         "': adpsgd averages after every step; local_steps and outer_optimizer "
                         "apply to the other algorithms");
  }
  if ((local || run.optimizer.kind != "sgd") && run.device.kind != DeviceKind::kCpu) {
    return ctx.Error(d.At(local ? "local_steps" : "optimizer"),
                     "run '" + run.name + "': device " + run.device.ToString() +
                         " runs plain SGD with one step per round; other optimizers and local "
                         "steps run on the CPU");
  }
  return Status::Ok();
}

}  // namespace

uint64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return uint64_t{1} << 40;  // unknown: do not refuse
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

Status ValidateRun(const YamlContext& ctx, RunDraft* d) {
  const RunConfig& run = d->run;
  Status name = CheckRunName(run.name);
  if (!name.ok()) return ctx.Error(d->At("name"), name.message());
  HEARSAY_RETURN_IF_ERROR(CheckCodec(ctx, *d));
  HEARSAY_RETURN_IF_ERROR(CheckModelAndData(ctx, *d));
  HEARSAY_RETURN_IF_ERROR(CheckTimingAndQuorum(ctx, *d));
  HEARSAY_RETURN_IF_ERROR(CheckLocalSteps(ctx, *d));
  return ParseFaults(ctx, d);
}

}  // namespace hearsay::experiment_internal
