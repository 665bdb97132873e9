// hearsay topo {gen, show, dot, validate}: generate, inspect, draw and check topology files.
// Errors: one line "hearsay topo <cmd>: ..." on stderr and exit code 1 (bad input).
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "apps/commands.h"
#include "topology/analysis.h"
#include "topology/generators.h"
#include "topology/static_topology.h"
#include "topology/topology_spec.h"
#include "topology/units.h"
#include "topology/writers.h"

namespace hearsay::apps {
namespace {

[[noreturn]] void Fail(const std::string& cmd, const std::string& message, int code = 1) {
  std::cerr << "hearsay topo " << cmd << ": " << message << "\n";
  throw CLI::RuntimeError(code);
}

TopologySpec LoadOrFail(const std::string& cmd, const std::string& path) {
  auto spec = LoadTopologyFile(path);
  if (!spec.ok()) Fail(cmd, spec.status().message());
  return std::move(spec).value();
}

void WriteOut(const std::string& cmd, const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return;
  }
  std::ofstream out(path);
  if (!out || !(out << text)) Fail(cmd, "cannot write '" + path + "'");
}

// "bandwidth=20Mbit,latency=20ms,jitter=1ms,loss=0" -> LinkParams.
LinkParams ParseLinkFlag(const std::string& text) {
  LinkParams p;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      Fail("gen", "--link '" + item + "': expected key=value (bandwidth, latency, jitter, loss)");
    }
    std::string key = item.substr(0, eq);
    const std::string value = item.substr(eq + 1);
    // tc/netem's names, as in topology files.
    if (key == "rate") key = "bandwidth";
    if (key == "delay") key = "latency";
    if (key == "bandwidth") {
      auto b = ParseBandwidth(value);
      if (!b.ok()) Fail("gen", "--link: " + b.status().message());
      p.bandwidth_bps = b.value();
    } else if (key == "latency" || key == "jitter") {
      auto d = ParseDuration(value);
      if (!d.ok()) Fail("gen", "--link: " + d.status().message());
      (key == "latency" ? p.latency_s : p.jitter_s) = d.value();
    } else if (key == "loss") {
      auto f = ParseFraction(value);
      if (!f.ok() || !(f.value() >= 0 && f.value() < 1)) {
        Fail("gen", "--link loss='" + value + "': a probability in [0, 1) (0.01 or 1%)");
      }
      p.loss = f.value();
    } else {
      Fail("gen", "--link: unknown key '" + key +
                      "'; valid: bandwidth (rate), latency (delay), jitter, loss");
    }
  }
  return p;
}

std::string Num(double v, int digits = 6) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
  return buf;
}

std::string AnalysisText(const TopologySpec& spec, const TopologyAnalysis& a) {
  std::ostringstream o;
  o << "nodes " << a.nodes << ", directed links " << a.links << ", period " << a.period
    << (a.period > 1 ? " (time-varying)" : "") << "\n";
  o << "degree in min/mean/max " << a.in_degree.min << "/" << Num(a.in_degree.mean, 4) << "/"
    << a.in_degree.max << ", out " << a.out_degree.min << "/" << Num(a.out_degree.mean, 4) << "/"
    << a.out_degree.max << "\n";
  o << "connected " << (a.strongly_connected ? "yes" : "no") << " (" << a.components << " component"
    << (a.components == 1 ? "" : "s") << "), diameter "
    << (a.diameter < 0 ? std::string("inf")
                       : (a.diameter_exact ? "" : ">=") + std::to_string(a.diameter))
    << "\n";
  o << "weights " << (spec.weight_rule.empty() ? "per graph" : spec.weight_rule) << ", "
    << (a.doubly_stochastic ? "doubly stochastic" : "column-stochastic only (push-sum)")
    << (a.symmetric ? ", symmetric" : ", not symmetric") << "\n";
  if (a.period > 1) {
    o << "contraction over one period ||W_" << a.period
      << "...W_1 - J||_2 = " << Num(a.contraction, 10) << ", per-round gap "
      << Num(a.spectral_gap, 10) << " [" << a.method << "]\n";
  } else {
    o << "spectral gap " << Num(a.spectral_gap, 10) << " (second eigenvalue "
      << Num(a.second_eigenvalue, 10) << ") [" << a.method << "]\n";
  }
  return o.str();
}

void Show(const std::string& path, bool all_rows, bool spectral) {
  TopologySpec spec = LoadOrFail("show", path);
  const Topology& t = *spec.graph;
  const int n = spec.size();
  std::cout << spec.source << ": " << n << " nodes"
            << (spec.generator ? ", generator " + spec.generator->kind : std::string()) << "\n\n";
  const int shown = all_rows ? n : std::min(n, 32);
  for (int64_t r = 1; r <= std::min(t.period(), all_rows ? t.period() : 4); ++r) {
    if (t.period() > 1) std::cout << "round " << r << " (and every " << t.period() << " after):\n";
    std::printf("%5s  %-10s %-22s %4s %4s  %s\n", "node", "name", "address", "in", "out",
                "row of W (node:weight)");
    for (int i = 0; i < shown; ++i) {
      const NodeSpec& s = spec.nodes[i];
      std::string row;
      for (const Neighbor& e : t.Row(i, r)) {
        if (row.size() > 90) {
          row += " ...";
          break;
        }
        row += (row.empty() ? "" : " ") + std::to_string(e.id) + ":" + Num(e.weight, 4);
      }
      std::printf("%5d  %-10s %-22s %4zu %4zu  %s\n", i, s.name.c_str(),
                  (s.host + ":" + std::to_string(s.port)).c_str(), t.InNeighbors(i, r).size(),
                  t.OutNeighbors(i, r).size(), row.c_str());
    }
    if (shown < n) std::printf("  ... %d more nodes (--all shows them)\n", n - shown);
    std::cout << "\n";
  }
  std::fflush(stdout);
  std::cout << "links: default bandwidth " << FormatBandwidth(spec.link_defaults.bandwidth_bps)
            << ", latency " << FormatDuration(spec.link_defaults.latency_s) << ", jitter "
            << FormatDuration(spec.link_defaults.jitter_s) << ", loss "
            << Num(spec.link_defaults.loss) << "; " << spec.link_overrides.size()
            << " overridden link(s), " << spec.events.size() << " event(s), " << spec.traces.size()
            << " trace(s)\n";
  int overrides_shown = 0;
  for (const auto& [link, p] : spec.link_overrides) {
    if (++overrides_shown > 16) {
      std::cout << "  ...\n";
      break;
    }
    std::cout << "  " << link.first << " -> " << link.second << ": "
              << FormatBandwidth(p.bandwidth_bps) << ", " << FormatDuration(p.latency_s) << "\n";
  }
  for (const auto& [name, ids] : spec.groups) {
    std::cout << "group " << name << ": " << ids.size() << " nodes\n";
  }
  AnalysisOptions opt;
  opt.spectral = spectral;
  auto a = AnalyzeTopology(spec.graph, opt);
  if (!a.ok()) Fail("show", a.status().message(), 2);
  std::cout << "\n" << AnalysisText(spec, a.value());
}

}  // namespace

void RegisterTopoCommands(CLI::App& app) {
  CLI::App* topo = app.add_subcommand(
      "topo", "Generate, inspect, draw and validate topology files (docs/topology_format.md).");
  topo->require_subcommand(1);

  // --- gen
  struct GenArgs {
    GeneratorOptions opt;
    std::string link, out;
    bool explicit_edges = false;
    int64_t seed = 1;
  };
  auto gen = std::make_shared<GenArgs>();
  std::string kinds;
  for (const auto& k : GeneratorKinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  CLI::App* g = topo->add_subcommand("gen", "Generate a topology file from a generator.");
  g->add_option("kind", gen->opt.graph.kind, "Generator: " + kinds)->required();
  g->add_option("-n,--nodes", gen->opt.n, "Number of nodes (edge-list-file: optional)");
  g->add_option("--rows", gen->opt.graph.rows,
                "torus/grid rows (default: most square; with --cols and no -n, n = rows x cols)")
      ->check(CLI::Range(1, 1 << 20));
  g->add_option("--cols", gen->opt.graph.cols, "torus/grid columns")->check(CLI::Range(1, 1 << 20));
  g->add_option("--center", gen->opt.graph.center, "star: the center node (default 0)");
  g->add_option("-p,--p", gen->opt.graph.p, "erdos-renyi: edge probability");
  g->add_option("-d,--degree", gen->opt.graph.degree, "random-regular: degree");
  g->add_option("--seed", gen->seed, "erdos-renyi/random-regular: seed (default 1)");
  g->add_option("--max-tries", gen->opt.graph.max_tries, "random generators: draws (default 100)");
  g->add_option("--path", gen->opt.graph.path, "edge-list-file: the `u v [weight]` file");
  g->add_flag("--directed", gen->opt.directed, "exponential: directed i -> i + 2^k");
  g->add_option("-w,--weights", gen->opt.weights,
                "uniform | metropolis | max-degree (default metropolis)");
  g->add_option("--link", gen->link,
                "Link defaults, e.g. bandwidth=20Mbit,latency=20ms,jitter=1ms,loss=0\n"
                "(tc names too: rate=20mbit,delay=20msec,loss=1%)");
  g->add_option("--host", gen->opt.host, "Host of every node (default 127.0.0.1)");
  g->add_option("--base-port", gen->opt.base_port, "Port of node 0 (default 17100)");
  g->add_flag("--explicit", gen->explicit_edges, "Write edges/matrix instead of the generator");
  g->add_option("-o,--output", gen->out, "Output file (default: stdout)");
  g->callback([gen] {
    if (!gen->link.empty()) gen->opt.link = ParseLinkFlag(gen->link);
    gen->opt.graph.seed = static_cast<uint64_t>(gen->seed);
    const std::string kind = CanonicalGeneratorKind(gen->opt.graph.kind);
    const bool lattice = kind == "torus" || kind == "grid";
    if (gen->opt.n == 0 && lattice && gen->opt.graph.rows > 0 && gen->opt.graph.cols > 0) {
      gen->opt.n = gen->opt.graph.rows * gen->opt.graph.cols;
    }
    if (gen->opt.n == 0 && !kind.empty() && kind != "edge-list-file") {
      Fail("gen", kind + ": give the node count with -n/--nodes" +
                      (lattice ? std::string(" (or --rows and --cols)") : std::string()));
    }
    auto spec = GenerateTopology(gen->opt);
    if (!spec.ok()) Fail("gen", spec.status().message());
    AnalysisOptions aopt;
    aopt.spectral = spec->size() <= 20000;
    auto a = AnalyzeTopology(spec->graph, aopt);
    YamlWriteOptions w;
    w.explicit_edges = gen->explicit_edges;
    w.header_comment =
        "hearsay topo gen " + spec->generator->kind + " -n " + std::to_string(spec->size()) + "\n";
    if (a.ok()) w.header_comment += AnalysisText(spec.value(), a.value());
    WriteOut("gen", gen->out, WriteTopologyYaml(spec.value(), w));
  });

  // --- show
  auto show_path = std::make_shared<std::string>();
  auto show_all = std::make_shared<bool>(false);
  auto no_spectral = std::make_shared<bool>(false);
  CLI::App* s = topo->add_subcommand("show", "Print nodes, degrees, weights and the analysis.");
  s->add_option("file", *show_path, "Topology file")->required();
  s->add_flag("--all", *show_all, "Show every node (default: the first 32)");
  s->add_flag("--no-spectral", *no_spectral, "Skip the spectral gap");
  s->callback([show_path, show_all, no_spectral] { Show(*show_path, *show_all, !*no_spectral); });

  // --- dot
  auto dot_path = std::make_shared<std::string>();
  auto dot_out = std::make_shared<std::string>();
  CLI::App* d = topo->add_subcommand("dot", "Write Graphviz DOT (weights, link parameters).");
  d->add_option("file", *dot_path, "Topology file")->required();
  d->add_option("-o,--output", *dot_out, "Output file (default: stdout)");
  d->callback([dot_path, dot_out] {
    TopologySpec spec = LoadOrFail("dot", *dot_path);
    WriteOut("dot", *dot_out, WriteDot(spec));
  });

  // --- validate
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* v =
      topo->add_subcommand("validate", "Check topology files; exit 1 on the first bad one.");
  v->add_option("files", *files, "Topology files")->required();
  v->callback([files] {
    for (const auto& f : *files) {
      TopologySpec spec = LoadOrFail("validate", f);
      std::cout << f << ": ok (" << spec.size() << " nodes, period " << spec.graph->period()
                << ", weights " << (spec.weight_rule.empty() ? "per graph" : spec.weight_rule)
                << (spec.push_sum ? ", push-sum" : "") << ")\n";
    }
  });
}

}  // namespace hearsay::apps
