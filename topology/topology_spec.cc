// TopologySpec's link lookups (events, traces) and fingerprint. Parsing lives in
// topology_parser.cc.
#include <algorithm>
#include <cstdio>

#include "topology/topology_spec.h"
#include "topology/units.h"

namespace hearsay {
namespace {

bool Covers(const std::vector<std::pair<int, int>>& links, int from, int to) {
  return std::binary_search(links.begin(), links.end(), std::make_pair(from, to));
}

void Apply(const LinkEvent& e, LinkParams* p) {
  if (e.up) p->up = *e.up;
  if (e.bandwidth_bps) p->bandwidth_bps = *e.bandwidth_bps;
  if (e.latency_s) p->latency_s = *e.latency_s;
  if (e.jitter_s) p->jitter_s = *e.jitter_s;
  if (e.loss) p->loss = *e.loss;
}

}  // namespace

LinkParams TopologySpec::LinkAt(int from, int to, double seconds) const {
  return LinkAt(from, to, seconds, -1);
}

LinkParams TopologySpec::LinkAt(int from, int to, double seconds, int64_t round) const {
  auto it = link_overrides.find({from, to});
  LinkParams p = it != link_overrides.end() ? it->second : link_defaults;
  // Events are stored in file order; each link's list is sorted for binary search.
  for (const LinkEvent& e : events) {
    const bool due = e.at_round > 0 ? (round >= e.at_round) : (seconds >= e.at_seconds);
    if (due && Covers(e.links, from, to)) Apply(e, &p);
  }
  for (const LinkTrace& tr : traces) {
    if (!Covers(tr.links, from, to) || tr.samples.empty()) continue;
    auto s =
        std::upper_bound(tr.samples.begin(), tr.samples.end(), seconds,
                         [](double t, const std::pair<double, double>& x) { return t < x.first; });
    if (s == tr.samples.begin()) continue;
    const double v = std::prev(s)->second;
    switch (tr.field) {
      case LinkTrace::Field::kBandwidth:
        p.bandwidth_bps = v;
        break;
      case LinkTrace::Field::kLatency:
        p.latency_s = v;
        break;
      case LinkTrace::Field::kJitter:
        p.jitter_s = v;
        break;
      case LinkTrace::Field::kLoss:
        p.loss = v;
        break;
    }
  }
  return p;
}

std::vector<double> TopologySpec::ChangeTimes() const {
  std::vector<double> t;
  for (const LinkEvent& e : events) {
    if (e.at_round == 0) t.push_back(e.at_seconds);
  }
  for (const LinkTrace& tr : traces) {
    for (const auto& s : tr.samples) t.push_back(s.first);
  }
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  return t;
}

bool TopologySpec::IdealNetwork() const {
  const LinkParams ideal;
  if (!(link_defaults == ideal) || !events.empty() || !traces.empty()) return false;
  for (const auto& [link, params] : link_overrides) {
    if (!(params == ideal)) return false;
  }
  for (const NodeSpec& node : nodes) {
    if (node.egress_bps > 0 || node.ingress_bps > 0) return false;
  }
  return true;
}

std::string TopologySpec::Fingerprint() const {
  auto link = [](const LinkParams& p) {
    return FormatDouble(p.bandwidth_bps) + "," + FormatDouble(p.latency_s) + "," +
           FormatDouble(p.jitter_s) + "," + FormatDouble(p.loss) + (p.up ? "" : ",down");
  };
  std::string s = "nodes=" + std::to_string(size());
  for (const NodeSpec& n : nodes) {
    s += ";" + n.host + ":" + std::to_string(n.port);
    if (n.egress_bps > 0 || n.ingress_bps > 0) {
      s += "/" + FormatDouble(n.egress_bps) + "/" + FormatDouble(n.ingress_bps);
    }
  }
  s += "|graph=" + (graph ? graph->Fingerprint() : std::string("none"));
  s += "|links=" + link(link_defaults);
  for (const auto& [k, v] : link_overrides) {
    s += ";" + std::to_string(k.first) + ">" + std::to_string(k.second) + "=" + link(v);
  }
  // Events and traces are hashed per directed link, so a file that lists one event for a
  // group and a file that lists it per link (as the writer does) agree.
  if (!events.empty()) s += "|events";
  for (const LinkEvent& e : events) {
    std::string change;
    if (e.up) change += *e.up ? ",up" : ",down";
    if (e.bandwidth_bps) change += ",b" + FormatDouble(*e.bandwidth_bps);
    if (e.latency_s) change += ",l" + FormatDouble(*e.latency_s);
    if (e.jitter_s) change += ",j" + FormatDouble(*e.jitter_s);
    if (e.loss) change += ",p" + FormatDouble(*e.loss);
    const std::string when =
        e.at_round > 0 ? "r" + std::to_string(e.at_round) : FormatDouble(e.at_seconds);
    for (const auto& [f, t] : e.links) {
      s += ";" + when + ":" + std::to_string(f) + ">" + std::to_string(t) + change;
    }
  }
  if (!traces.empty()) s += "|traces";
  for (const LinkTrace& tr : traces) {
    std::string samples;
    for (const auto& [t, v] : tr.samples) samples += "," + FormatDouble(t) + "=" + FormatDouble(v);
    for (const auto& [f, t] : tr.links) {
      s += ";" + std::to_string(static_cast<int>(tr.field)) + ":" + std::to_string(f) + ">" +
           std::to_string(t) + samples;
    }
  }
  return s;
}

}  // namespace hearsay
