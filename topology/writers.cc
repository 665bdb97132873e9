#include "topology/writers.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "topology/static_topology.h"
#include "topology/units.h"

namespace hearsay {
namespace {

// Quotes a YAML scalar when it is not plainly safe.
std::string Quote(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
          c == '/')) {
      plain = false;
    }
  }
  if (s == "true" || s == "false" || s == "null" || s == "yes" || s == "no" || s == "on" ||
      s == "off") {
    plain = false;
  }
  if (plain) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

// Six significant digits: enough to read a weight, short enough for a drawing.
std::string Short(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string LinkFields(const LinkParams& p, const LinkParams* base) {
  std::vector<std::string> f;
  if (!base || p.bandwidth_bps != base->bandwidth_bps) {
    f.push_back("bandwidth: " + (p.bandwidth_bps > 0 ? FormatBandwidth(p.bandwidth_bps) : "0"));
  }
  if (!base || p.latency_s != base->latency_s)
    f.push_back("latency: " + FormatDuration(p.latency_s));
  if (!base || p.jitter_s != base->jitter_s) f.push_back("jitter: " + FormatDuration(p.jitter_s));
  if (!base || p.loss != base->loss) f.push_back("loss: " + FormatDouble(p.loss));
  std::string s;
  for (const auto& x : f) s += (s.empty() ? "" : ", ") + x;
  return s;
}

void WriteMatrix(std::ostringstream& o, const StaticTopology& w, const std::string& indent) {
  const int n = w.size();
  o << indent << "matrix:\n";
  for (int i = 0; i < n; ++i) {
    o << indent << "  - [";
    for (int j = 0; j < n; ++j) o << (j ? ", " : "") << FormatDouble(w.Weight(i, j));
    o << "]\n";
  }
}

void WriteEdges(std::ostringstream& o, const StaticTopology& w, bool directed,
                const std::string& indent) {
  o << indent << "edges: [";
  bool first = true;
  for (int i = 0; i < w.size(); ++i) {
    for (int j : w.InNeighbors(i, 1)) {
      if (!directed && j > i) continue;
      // Directed: j sends to i.
      o << (first ? "" : ", ") << "[" << j << ", " << i << "]";
      first = false;
    }
  }
  o << "]\n";
}

void WriteGenerator(std::ostringstream& o, const GeneratorSpec& g) {
  o << "generator: {kind: " << g.kind;
  if (g.kind == "torus" || g.kind == "grid") {
    if (g.rows) o << ", rows: " << g.rows;
    if (g.cols) o << ", cols: " << g.cols;
  }
  if (g.kind == "star" && g.center) o << ", center: " << g.center;
  if (g.kind == "erdos-renyi") o << ", p: " << FormatDouble(g.p);
  if (g.kind == "random-regular") o << ", degree: " << g.degree;
  if (g.kind == "erdos-renyi" || g.kind == "random-regular") {
    o << ", seed: " << g.seed;
    if (g.max_tries != GeneratorSpec{}.max_tries) o << ", max_tries: " << g.max_tries;
  }
  if (g.kind == "edge-list-file") o << ", path: " << Quote(g.path);
  o << "}\n";
}

// `bind:` as the file would write it: HOST, HOST:PORT, [IPV6]:PORT.
std::string BindText(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  if (port == 0) return host;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// `nodes:` as a count when names, hosts, ports and binds follow the defaults, else one entry per
// node; then `host:`, `base_port:` (`auto` when every port is chosen at launch) and `bind:`.
void WriteNodes(std::ostringstream& o, const TopologySpec& spec) {
  const int n = spec.size();
  const std::string host = n ? spec.nodes[0].host : "127.0.0.1";
  // Any node without a port: `base_port: auto` (the others keep theirs in the node list).
  const bool auto_ports = std::any_of(spec.nodes.begin(), spec.nodes.end(),
                                      [](const NodeSpec& s) { return s.port == 0; });
  const int base_port = n ? spec.nodes[0].port : 17100;
  const std::string bind = n ? spec.nodes[0].bind_host : "";
  bool plain = true;
  for (int i = 0; i < n; ++i) {
    const NodeSpec& s = spec.nodes[i];
    plain &= s.name == "n" + std::to_string(i) && s.host == host &&
             s.port == (auto_ports ? 0 : base_port + i) && s.bind_host == bind &&
             s.bind_port == 0 && s.egress_bps == 0 && s.ingress_bps == 0 && s.slowdown == 1;
  }
  if (plain) {
    o << "nodes: " << n << "\n";
  } else {
    o << "nodes:\n";
    for (const NodeSpec& s : spec.nodes) {
      o << "  - {name: " << Quote(s.name) << ", host: " << Quote(s.host);
      if (s.port != 0) o << ", port: " << s.port;
      if (!s.bind_host.empty()) o << ", bind: " << Quote(BindText(s.bind_host, s.bind_port));
      if (s.egress_bps > 0) o << ", egress: " << FormatBandwidth(s.egress_bps);
      if (s.ingress_bps > 0) o << ", ingress: " << FormatBandwidth(s.ingress_bps);
      if (s.slowdown != 1) o << ", slowdown: " << FormatDouble(s.slowdown);
      o << "}\n";
    }
  }
  o << "host: " << Quote(host) << "\n";
  if (auto_ports) {
    o << "base_port: auto\n";
  } else {
    o << "base_port: " << base_port << "\n";
  }
  if (plain && !bind.empty()) o << "bind: " << Quote(bind) << "\n";
}

void WriteGroups(std::ostringstream& o, const TopologySpec& spec) {
  if (spec.groups.empty()) return;
  o << "groups:\n";
  for (const auto& [name, ids] : spec.groups) {
    o << "  " << Quote(name) << ": [";
    for (size_t k = 0; k < ids.size(); ++k) o << (k ? ", " : "") << ids[k];
    o << "]\n";
  }
}

// The graph: the generator when one made it (unless explicit edges are asked for), else edges
// with their weight rule, an explicit matrix, or a sequence of matrices.
void WriteGraph(std::ostringstream& o, const TopologySpec& spec, bool explicit_edges) {
  const Topology& t = *spec.graph;
  const bool have_rule = !spec.weight_rule.empty() && spec.weight_rule != "explicit";
  if (spec.generator && !explicit_edges) {
    WriteGenerator(o, *spec.generator);
    if (spec.generator->kind != "one-peer-exponential") {
      o << "weights: " << spec.weight_rule << "\n";
    }
  } else if (t.period() == 1) {
    const auto& w = dynamic_cast<const StaticTopology&>(t);
    if (have_rule) {
      WriteEdges(o, w, spec.directed, "");
      o << "weights: " << spec.weight_rule << "\n";
    } else {
      o << "weights: explicit\n";
      WriteMatrix(o, w, "");
    }
  } else {
    const auto& s = dynamic_cast<const ScheduleTopology&>(t);
    o << "sequence:\n";
    for (const auto& p : s.phases()) {
      o << "  - weights: explicit\n";
      WriteMatrix(o, *p, "    ");
    }
  }
}

void WriteLinks(std::ostringstream& o, const TopologySpec& spec) {
  o << "links:\n";
  o << "  default: {" << LinkFields(spec.link_defaults, nullptr) << "}\n";
  if (spec.link_overrides.empty()) return;
  o << "  overrides:\n";
  for (const auto& [link, p] : spec.link_overrides) {
    std::string fields = LinkFields(p, &spec.link_defaults);
    o << "    - {from: " << link.first << ", to: " << link.second
      << (fields.empty() ? "" : ", " + fields) << "}\n";
  }
}

// Events and traces are written one entry per directed link, which keeps them exact.
void WriteEvents(std::ostringstream& o, const TopologySpec& spec) {
  if (spec.events.empty()) return;
  o << "events:\n";
  for (const LinkEvent& e : spec.events) {
    for (const auto& [f, to] : e.links) {
      o << "  - {"
        << (e.at_round > 0 ? "round: " + std::to_string(e.at_round)
                           : "at: " + FormatDuration(e.at_seconds))
        << ", from: " << f << ", to: " << to;
      if (e.up) o << ", state: " << (*e.up ? "up" : "down");
      if (e.bandwidth_bps) o << ", bandwidth: " << FormatBandwidth(*e.bandwidth_bps);
      if (e.latency_s) o << ", latency: " << FormatDuration(*e.latency_s);
      if (e.jitter_s) o << ", jitter: " << FormatDuration(*e.jitter_s);
      if (e.loss) o << ", loss: " << FormatDouble(*e.loss);
      o << "}\n";
    }
  }
}

void WriteTraces(std::ostringstream& o, const TopologySpec& spec) {
  if (spec.traces.empty()) return;
  static const char* kField[] = {"bandwidth", "latency", "jitter", "loss"};
  o << "traces:\n";
  for (const LinkTrace& tr : spec.traces) {
    for (const auto& [f, to] : tr.links) {
      o << "  - {from: " << f << ", to: " << to << ", " << kField[static_cast<int>(tr.field)]
        << ": " << Quote(tr.path) << (tr.unit.empty() ? "" : ", unit: " + Quote(tr.unit)) << "}\n";
    }
  }
}

}  // namespace

std::string WriteTopologyYaml(const TopologySpec& spec, const YamlWriteOptions& options) {
  std::ostringstream o;
  if (!options.header_comment.empty()) {
    std::istringstream lines(options.header_comment);
    std::string line;
    while (std::getline(lines, line)) o << "# " << line << "\n";
  }
  WriteNodes(o, spec);
  if (spec.directed) o << "directed: true\n";
  WriteGroups(o, spec);
  WriteGraph(o, spec, options.explicit_edges);
  WriteLinks(o, spec);
  WriteEvents(o, spec);
  WriteTraces(o, spec);
  return o.str();
}

std::string WriteDot(const TopologySpec& spec) {
  const Topology& t = *spec.graph;
  const int n = t.size();
  bool symmetric = t.period() == 1;
  if (symmetric) {
    if (const auto* s = dynamic_cast<const StaticTopology*>(&t)) symmetric = s->symmetric();
  }
  std::ostringstream o;
  auto esc = [](const std::string& s) {
    std::string r;
    for (char c : s) {
      if (c == '"' || c == '\\') r += '\\';
      r += c;
    }
    return r;
  };
  o << (symmetric ? "graph" : "digraph") << " hearsay {\n";
  o << "  // " << esc(spec.source) << ": " << n << " nodes, period " << t.period() << "\n";
  o << "  node [shape=ellipse, fontsize=10];\n  edge [fontsize=8];\n";
  for (int i = 0; i < n; ++i) {
    const NodeSpec& s = spec.nodes[i];
    std::string label = esc(s.name) + "\\n" + esc(s.host) + ":" + std::to_string(s.port);
    if (const auto* st = dynamic_cast<const StaticTopology*>(&t)) {
      label += "\\nself " + Short(st->Weight(i, i));
    }
    if (s.egress_bps > 0) label += "\\negress " + FormatBandwidth(s.egress_bps);
    if (s.ingress_bps > 0) label += "\\ningress " + FormatBandwidth(s.ingress_bps);
    if (s.slowdown != 1) label += "\\nslowdown " + Short(s.slowdown);
    o << "  " << i << " [label=\"" << label << "\"];\n";
  }
  // (from, to) -> label parts, over the period.
  std::map<std::pair<int, int>, std::string> labels;
  for (int64_t r = 1; r <= t.period(); ++r) {
    for (int i = 0; i < n; ++i) {
      for (const Neighbor& e : t.Row(i, r)) {
        if (e.id == i) continue;
        const int from = e.id, to = i;
        if (symmetric && from > to) continue;
        std::string& l = labels[{from, to}];
        if (!l.empty()) l += "\\n";
        if (t.period() > 1) l += "r" + std::to_string(r) + " ";
        l += Short(e.weight);
      }
    }
  }
  auto params = [&spec](int from, int to) {
    const LinkParams p = spec.LinkAt(from, to, 0);
    std::string s = p.bandwidth_bps > 0 ? FormatBandwidth(p.bandwidth_bps) : "unlimited";
    if (p.latency_s > 0) s += " " + FormatDuration(p.latency_s);
    return s;
  };
  for (const auto& [link, weight] : labels) {
    const auto [from, to] = link;
    std::string label = weight + "\\n" + params(from, to);
    if (symmetric && params(to, from) != params(from, to)) {
      label = weight + "\\n" + std::to_string(from) + "->" + std::to_string(to) + " " +
              params(from, to) + "\\n" + std::to_string(to) + "->" + std::to_string(from) + " " +
              params(to, from);
    }
    const bool overridden = spec.link_overrides.count(link) > 0 ||
                            (symmetric && spec.link_overrides.count({to, from}) > 0);
    o << "  " << from << (symmetric ? " -- " : " -> ") << to << " [label=\"" << label << "\""
      << (overridden ? ", color=red" : "") << "];\n";
  }
  o << "}\n";
  return o.str();
}

}  // namespace hearsay
