#include "topology/link_parser.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "topology/profiles.h"
#include "topology/static_topology.h"
#include "topology/units.h"

namespace hearsay::topology_internal {
namespace {

using Links = std::vector<std::pair<int, int>>;

// Every directed link (from, to) that carries a message in some round.
std::set<std::pair<int, int>> GraphLinks(const TopologySpec& spec) {
  std::set<std::pair<int, int>> links;
  const Topology& t = *spec.graph;
  for (int64_t r = 1; r <= t.period(); ++r) {
    for (int i = 0; i < t.size(); ++i) {
      for (int j : t.InNeighbors(i, r)) links.insert({j, i});
    }
  }
  return links;
}

// The links an entry names: `from:`/`to:` (nodes, groups, lists; either may be left out to mean
// all nodes) or `between: [a, b]` (both directions). Only links of the graph are kept; naming
// one node pair that is not a link is an error, as is a selection that matches nothing.
Status SelectLinks(const YamlContext& ctx, const YAML::Node& e, const std::string& what,
                   const std::set<std::pair<int, int>>& graph_links, Links* out) {
  std::vector<int> from, to;
  std::vector<int> all(ctx.n);
  for (int i = 0; i < ctx.n; ++i) all[i] = i;
  bool both = false;
  if (e["between"]) {
    if (e["from"] || e["to"]) {
      return ctx.Error(e["between"], what + ": give `between: [a, b]` or `from:`/`to:`, not both");
    }
    const YAML::Node b = e["between"];
    if (!b.IsSequence() || b.size() != 2) {
      return ctx.Error(b, what + ": between: expected two nodes or groups, [a, b]");
    }
    HEARSAY_RETURN_IF_ERROR(ctx.GetNodeSet(b[0], what + ".between", &from));
    HEARSAY_RETURN_IF_ERROR(ctx.GetNodeSet(b[1], what + ".between", &to));
    both = true;
  } else if (e["from"] || e["to"]) {
    if (e["from"])
      HEARSAY_RETURN_IF_ERROR(ctx.GetNodeSet(e["from"], what + ".from", &from));
    else
      from = all;
    if (e["to"])
      HEARSAY_RETURN_IF_ERROR(ctx.GetNodeSet(e["to"], what + ".to", &to));
    else
      to = all;
  } else {
    return ctx.Error(e, what +
                            ": say which links: `from: A, to: B` (nodes or groups) or "
                            "`between: [A, B]`");
  }
  std::set<std::pair<int, int>> picked;
  for (int f : from) {
    for (int t : to) {
      if (f == t) continue;
      if (graph_links.count({f, t})) picked.insert({f, t});
      if (both && graph_links.count({t, f})) picked.insert({t, f});
    }
  }
  if (picked.empty()) {
    if (from.size() == 1 && to.size() == 1) {
      return ctx.Error(e, what + ": " + std::to_string(from[0]) + " -> " + std::to_string(to[0]) +
                              " is not a link of the graph (" + std::to_string(from[0]) +
                              " never sends to " + std::to_string(to[0]) +
                              "); overrides, events and traces apply to graph links only");
    }
    return ctx.Error(e, what + ": matches no link of the graph");
  }
  out->assign(picked.begin(), picked.end());
  return Status::Ok();
}

// The link-parameter keys, with tc/netem's names as synonyms (rate = bandwidth, delay = latency).
// `profile:` names a preset whose fields the entry's own fields then override.
const std::vector<std::string> kLinkFieldKeys = {"bandwidth", "rate", "latency", "delay",
                                                 "jitter",    "loss", "profile"};

std::vector<std::string> Keys(std::initializer_list<const char*> own) {
  std::vector<std::string> keys(own.begin(), own.end());
  keys.insert(keys.end(), kLinkFieldKeys.begin(), kLinkFieldKeys.end());
  return keys;
}

// bandwidth (rate) / latency (delay) / jitter / loss fields of an entry into an event-like
// change.
Status ParseFields(const YamlContext& ctx, const YAML::Node& e, const std::string& what,
                   LinkEvent* c) {
  double v = 0;
  std::optional<YAML::Node> node;
  HEARSAY_RETURN_IF_ERROR(ctx.GetSynonym(e, what, {"bandwidth", "rate"}, &node));
  if (node) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetBandwidth(*node, what + ".bandwidth", &v));
    c->bandwidth_bps = v;
  }
  HEARSAY_RETURN_IF_ERROR(ctx.GetSynonym(e, what, {"latency", "delay"}, &node));
  if (node) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetDuration(*node, what + ".latency", &v));
    c->latency_s = v;
  }
  if (e["jitter"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetDuration(e["jitter"], what + ".jitter", &v));
    c->jitter_s = v;
  }
  if (e["loss"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetProbability(e["loss"], what + ".loss", &v));
    c->loss = v;
  }
  return Status::Ok();
}

// The compiled-in profile a `profile:` value names; an unknown name is an error at its line with
// the closest name and the valid ones.
Result<LinkProfile> ProfileAt(const YamlContext& ctx, const YAML::Node& node,
                              const std::string& what) {
  const std::vector<std::string> names = BuiltinProfileNames();
  int index = 0;
  HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(node, what, names, &index));
  auto profile = LoadBuiltinProfile(names[static_cast<size_t>(index)]);
  if (!profile.ok()) return ctx.Error(node, what + ": " + profile.status().message());
  return profile;
}

// An entry's link fields: its `profile:`'s first, then its own on top.
Status ParseLinkEntry(const YamlContext& ctx, const YAML::Node& e, const std::string& what,
                      LinkEvent* c) {
  if (const YAML::Node p = e["profile"]) {
    HEARSAY_ASSIGN_OR_RETURN(LinkProfile profile, ProfileAt(ctx, p, what + ".profile"));
    if (!profile.regions.empty()) {
      return ctx.Error(p, what + ".profile: " + profile.name +
                              " is a matrix between regions, not one link; use it for the whole "
                              "file: `links: {profile: " +
                              profile.name + "}`");
    }
    c->bandwidth_bps = profile.link.bandwidth_bps;
    c->latency_s = profile.link.latency_s;
    c->jitter_s = profile.link.jitter_s;
    c->loss = profile.link.loss;
  }
  return ParseFields(ctx, e, what, c);
}

void ApplyChange(const LinkEvent& c, LinkParams* p) {
  if (c.bandwidth_bps) p->bandwidth_bps = *c.bandwidth_bps;
  if (c.latency_s) p->latency_s = *c.latency_s;
  if (c.jitter_s) p->jitter_s = *c.jitter_s;
  if (c.loss) p->loss = *c.loss;
}

// The parts of a whole-file profile beyond its link fields: node capacities for nodes that set
// none, and the latency matrix between regions as overrides of the graph's links.
Status ApplyProfileToFile(const YamlContext& ctx, const YAML::Node& at, const LinkProfile& profile,
                          TopologySpec* spec, const std::set<std::pair<int, int>>& graph_links) {
  for (auto& n : spec->nodes) {
    if (profile.egress_bps && n.egress_bps <= 0) n.egress_bps = *profile.egress_bps;
    if (profile.ingress_bps && n.ingress_bps <= 0) n.ingress_bps = *profile.ingress_bps;
  }
  if (profile.regions.empty()) return Status::Ok();
  auto region = ProfileRegions(profile, ctx.n, spec->groups);
  if (!region.ok()) return ctx.Error(at, "links.profile: " + region.status().message());
  for (const auto& [f, t] : graph_links) {
    const int rf = (*region)[static_cast<size_t>(f)], rt = (*region)[static_cast<size_t>(t)];
    if (rf == rt) continue;
    for (const auto& b : profile.between) {
      if ((b.a == rf && b.b == rt) || (b.a == rt && b.b == rf)) {
        auto it = spec->link_overrides.try_emplace({f, t}, spec->link_defaults).first;
        ApplyChange(b.link, &it->second);
      }
    }
  }
  return Status::Ok();
}

Status ParseLinkSection(YamlContext& ctx, const YAML::Node& links, TopologySpec* spec,
                        const std::set<std::pair<int, int>>& graph_links) {
  HEARSAY_RETURN_IF_ERROR(
      ctx.CheckKeys(links, "links", {"profile", "default", "overrides", "nodes"}));
  // The whole file's profile comes first: every explicit key below overrides it.
  std::optional<LinkProfile> profile;
  if (const YAML::Node p = links["profile"]) {
    HEARSAY_ASSIGN_OR_RETURN(profile, ProfileAt(ctx, p, "links.profile"));
    ApplyChange(profile->link, &spec->link_defaults);
  }
  if (const YAML::Node d = links["default"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(d, "links.default", kLinkFieldKeys));
    LinkEvent c;
    HEARSAY_RETURN_IF_ERROR(ParseLinkEntry(ctx, d, "links.default", &c));
    ApplyChange(c, &spec->link_defaults);
  }
  if (const YAML::Node nd = links["nodes"]) {
    // Node capacity defaults: {egress, ingress} for nodes that do not set their own.
    HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(nd, "links.nodes", {"egress", "ingress"}));
    double v = 0;
    if (nd["egress"]) {
      HEARSAY_RETURN_IF_ERROR(ctx.GetBandwidth(nd["egress"], "links.nodes.egress", &v));
      for (auto& n : spec->nodes) n.egress_bps = n.egress_bps > 0 ? n.egress_bps : v;
    }
    if (nd["ingress"]) {
      HEARSAY_RETURN_IF_ERROR(ctx.GetBandwidth(nd["ingress"], "links.nodes.ingress", &v));
      for (auto& n : spec->nodes) n.ingress_bps = n.ingress_bps > 0 ? n.ingress_bps : v;
    }
  }
  if (profile)
    HEARSAY_RETURN_IF_ERROR(ApplyProfileToFile(ctx, links["profile"], *profile, spec, graph_links));
  if (const YAML::Node ov = links["overrides"]) {
    if (!ov.IsSequence()) {
      return ctx.Error(ov, "links.overrides: expected a list of {from, to, bandwidth, ...}");
    }
    for (size_t k = 0; k < ov.size(); ++k) {
      const std::string what = "links.overrides[" + std::to_string(k) + "]";
      HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(ov[k], what, Keys({"from", "to", "between"})));
      Links sel;
      HEARSAY_RETURN_IF_ERROR(SelectLinks(ctx, ov[k], what, graph_links, &sel));
      LinkEvent c;
      HEARSAY_RETURN_IF_ERROR(ParseLinkEntry(ctx, ov[k], what, &c));
      for (const auto& l : sel) {
        auto it = spec->link_overrides.try_emplace(l, spec->link_defaults).first;
        ApplyChange(c, &it->second);
      }
    }
  }
  return Status::Ok();
}

Status ParseEvents(YamlContext& ctx, const YAML::Node& events, TopologySpec* spec,
                   const std::set<std::pair<int, int>>& graph_links) {
  if (!events.IsSequence()) {
    return ctx.Error(events,
                     "events: expected a list of {at: 30s | round: 100, from/to or "
                     "between, state: down|up, bandwidth, latency, ...}");
  }
  for (size_t k = 0; k < events.size(); ++k) {
    const YAML::Node e = events[k];
    const std::string what = "events[" + std::to_string(k) + "]";
    HEARSAY_RETURN_IF_ERROR(
        ctx.CheckKeys(e, what, Keys({"at", "round", "from", "to", "between", "state"})));
    LinkEvent ev;
    ev.line = e.Mark().line + 1;
    if (e["at"] && e["round"]) {
      return ctx.Error(e, what + ": give `at:` (a time such as 30s) or `round:`, not both");
    }
    if (e["at"]) {
      HEARSAY_RETURN_IF_ERROR(ctx.GetDuration(e["at"], what + ".at", &ev.at_seconds));
    } else if (e["round"]) {
      HEARSAY_RETURN_IF_ERROR(ctx.GetInt(e["round"], what + ".round", &ev.at_round));
      if (ev.at_round < 1) {
        return ctx.Error(e["round"], what + ".round must be 1 or more (rounds are 1-based)");
      }
    } else {
      return ctx.Error(e, what + ": say when: `at: 30s` (since the run started) or `round: 100`");
    }
    HEARSAY_RETURN_IF_ERROR(SelectLinks(ctx, e, what, graph_links, &ev.links));
    if (e["state"]) {
      std::string state;
      HEARSAY_RETURN_IF_ERROR(ctx.GetString(e["state"], what + ".state", &state));
      if (state != "down" && state != "up") {
        return ctx.Error(e["state"], what + ".state '" + state + "'; valid: down, up");
      }
      ev.up = state == "up";
    }
    HEARSAY_RETURN_IF_ERROR(ParseLinkEntry(ctx, e, what, &ev));
    if (!ev.up && !ev.bandwidth_bps && !ev.latency_s && !ev.jitter_s && !ev.loss) {
      return ctx.Error(e, what +
                              ": changes nothing; give state: down|up or a new bandwidth, "
                              "latency, jitter or loss");
    }
    spec->events.push_back(std::move(ev));
  }
  return Status::Ok();
}

Status ParseTraces(YamlContext& ctx, const YAML::Node& traces, TopologySpec* spec,
                   const std::set<std::pair<int, int>>& graph_links) {
  if (!traces.IsSequence()) {
    return ctx.Error(traces, "traces: expected a list of {from/to or between, bandwidth: FILE}");
  }
  for (size_t k = 0; k < traces.size(); ++k) {
    const YAML::Node e = traces[k];
    const std::string what = "traces[" + std::to_string(k) + "]";
    std::vector<std::string> keys = Keys({"from", "to", "between", "unit"});
    keys.erase(std::find(keys.begin(), keys.end(), "profile"));  // a trace is a file per field
    HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(e, what, keys));
    LinkTrace tr;
    int fields = 0;
    YAML::Node file;
    const std::pair<const char*, LinkTrace::Field> kFields[] = {
        {"bandwidth", LinkTrace::Field::kBandwidth}, {"rate", LinkTrace::Field::kBandwidth},
        {"latency", LinkTrace::Field::kLatency},     {"delay", LinkTrace::Field::kLatency},
        {"jitter", LinkTrace::Field::kJitter},       {"loss", LinkTrace::Field::kLoss}};
    for (const auto& [key, field] : kFields) {
      if (e[key]) {
        ++fields;
        tr.field = field;
        file.reset(e[key]);
      }
    }
    if (fields != 1) {
      return ctx.Error(e,
                       what +
                           ": give exactly one of bandwidth (rate), latency (delay), jitter, loss, "
                           "naming a two-column file (time value)");
    }
    std::string path, unit;
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(file, what, &path));
    if (e["unit"]) HEARSAY_RETURN_IF_ERROR(ctx.GetString(e["unit"], what + ".unit", &unit));
    tr.path = ctx.Resolve(path);
    tr.unit = unit;
    auto samples = ReadTraceFile(tr.path, tr.field, unit);
    if (!samples.ok()) return ctx.Error(file, samples.status().message());
    tr.samples = std::move(samples).value();
    HEARSAY_RETURN_IF_ERROR(SelectLinks(ctx, e, what, graph_links, &tr.links));
    spec->traces.push_back(std::move(tr));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::pair<double, double>>> ReadTraceFile(const std::string& path,
                                                             LinkTrace::Field field,
                                                             const std::string& unit) {
  std::ifstream in(path);
  if (!in) {
    return NotFound("cannot open trace file '" + path +
                    "' (relative paths are resolved against the topology file's folder)");
  }
  std::vector<std::pair<double, double>> samples;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream ls(line);
    std::string t, v;
    if (!(ls >> t)) continue;
    const std::string where = path + ":" + std::to_string(lineno) + ": ";
    if (!(ls >> v)) return InvalidArgument(where + "expected two columns `time value`");
    double seconds = 0, value = 0;
    auto bare = [](const std::string& s, double* out) {
      char* end = nullptr;
      *out = std::strtod(s.c_str(), &end);
      return end != s.c_str() && *end == '\0';
    };
    if (!bare(t, &seconds)) {
      auto d = ParseDuration(t);
      if (!d.ok()) return InvalidArgument(where + "time: " + d.status().message());
      seconds = d.value();
    }
    const std::string text = bare(v, &value) && !unit.empty() ? v + unit : v;
    if (field == LinkTrace::Field::kBandwidth) {
      auto b = ParseBandwidth(text);
      if (!b.ok()) return InvalidArgument(where + b.status().message() + " (or set `unit:`)");
      value = b.value();
    } else if (field == LinkTrace::Field::kLoss) {
      auto f = ParseFraction(v);
      if (!f.ok() || !(f.value() >= 0 && f.value() < 1)) {
        return InvalidArgument(where + "loss '" + v +
                               "' must be a probability in [0, 1) (0.01 or 1%)");
      }
      value = f.value();
    } else {
      auto d = ParseDuration(text);
      if (!d.ok()) return InvalidArgument(where + d.status().message() + " (or set `unit:`)");
      value = d.value();
    }
    if (!samples.empty() && seconds <= samples.back().first) {
      return InvalidArgument(where + "time " + t +
                             " is not after the previous sample's; times "
                             "must increase");
    }
    samples.push_back({seconds, value});
  }
  if (samples.empty()) return InvalidArgument("trace file '" + path + "' has no samples");
  return samples;
}

Status ParseChange(const YamlContext& ctx, const YAML::Node& e, const std::string& what,
                   LinkEvent* c) {
  return ParseFields(ctx, e, what, c);
}

Status ParseLinks(YamlContext& ctx, const YAML::Node& root, TopologySpec* spec) {
  if (!ctx.groups.count("all")) {
    std::vector<int> all(ctx.n);
    for (int i = 0; i < ctx.n; ++i) all[i] = i;
    ctx.groups["all"] = all;
  }
  const auto graph_links = GraphLinks(*spec);
  if (const YAML::Node links = root["links"]) {
    HEARSAY_RETURN_IF_ERROR(ParseLinkSection(ctx, links, spec, graph_links));
  }
  if (const YAML::Node events = root["events"]) {
    HEARSAY_RETURN_IF_ERROR(ParseEvents(ctx, events, spec, graph_links));
  }
  if (const YAML::Node traces = root["traces"]) {
    HEARSAY_RETURN_IF_ERROR(ParseTraces(ctx, traces, spec, graph_links));
  }
  return Status::Ok();
}

}  // namespace hearsay::topology_internal
