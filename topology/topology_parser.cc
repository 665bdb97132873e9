// The topology-file grammar (docs/topology_format.md): the gossip graph and the file as a whole.
// Nodes and groups are read by node_parser.cc; links, events and traces by link_parser.cc. Every
// yaml-cpp exception is caught here.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/suggest.h"
#include "topology/generators.h"
#include "topology/link_parser.h"
#include "topology/node_parser.h"
#include "topology/topology_spec.h"
#include "topology/units.h"
#include "topology/weights.h"
#include "topology/yaml_context.h"

namespace hearsay {
namespace {

using topology_internal::kMaxNodes;
using topology_internal::ParseGroups;
using topology_internal::ParseNodes;

// Reads `edges: [[u, v], ...]` into g (node ids or names).
Status ParseEdges(const YamlContext& ctx, const YAML::Node& edges, Graph* g) {
  if (!edges.IsSequence()) return ctx.Error(edges, "edges: expected a list of [u, v] pairs");
  for (size_t k = 0; k < edges.size(); ++k) {
    const YAML::Node e = edges[k];
    if (!e.IsSequence() || e.size() != 2) {
      return ctx.Error(e, "edges[" + std::to_string(k) + "]: expected a pair [u, v]");
    }
    auto show = [](const YAML::Node& x) { return x.IsScalar() ? x.Scalar() : "?"; };
    const std::string what = "edge (" + show(e[0]) + ", " + show(e[1]) + ")";
    int u = 0, v = 0;
    HEARSAY_RETURN_IF_ERROR(ctx.GetNode(e[0], what, &u));
    HEARSAY_RETURN_IF_ERROR(ctx.GetNode(e[1], what, &v));
    if (u == v) {
      return ctx.Error(e, what +
                              ": a self-loop; every node already keeps a self weight, list "
                              "only edges between different nodes");
    }
    g->edges.push_back({u, v});
  }
  g->Normalize();
  return Status::Ok();
}

// Reads `matrix:` and checks rows (with their line numbers), symmetry and columns.
Status ParseMatrix(const YamlContext& ctx, const YAML::Node& m, bool directed, const Graph* pattern,
                   WeightRows* out) {
  const int n = ctx.n;
  if (!m.IsSequence() || static_cast<int>(m.size()) != n) {
    return ctx.Error(m, "matrix: expected " + std::to_string(n) + " rows (one per node), got " +
                            (m.IsSequence() ? std::to_string(m.size()) : std::string("none")));
  }
  std::vector<std::vector<double>> dense(n, std::vector<double>(n, 0.0));
  for (int i = 0; i < n; ++i) {
    const YAML::Node row = m[i];
    if (!row.IsSequence() || static_cast<int>(row.size()) != n) {
      return ctx.Error(row, "row " + std::to_string(i) + " of matrix has " +
                                (row.IsSequence() ? std::to_string(row.size()) : "no") +
                                " entries; it needs " + std::to_string(n) + " (one per node)");
    }
    double sum = 0;
    for (int j = 0; j < n; ++j) {
      const std::string what = "matrix[" + std::to_string(i) + "][" + std::to_string(j) + "]";
      HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(row[j], what, &dense[i][j]));
      if (dense[i][j] < 0) {
        return ctx.Error(row[j], what + " = " + row[j].Scalar() + "; weights must be non-negative");
      }
      sum += dense[i][j];
    }
    if (!directed && std::abs(sum - 1.0) > kWeightTolerance) {
      return ctx.Error(row, "row " + std::to_string(i) + " of weights sums to " +
                                FormatDouble(sum) + "; rows must sum to 1 (within 1e-9)");
    }
  }
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (!directed && std::abs(dense[i][j] - dense[j][i]) > kWeightTolerance) {
        return ctx.Error(m[i][j], "weights are not symmetric: matrix[" + std::to_string(i) + "][" +
                                      std::to_string(j) + "] = " + FormatDouble(dense[i][j]) +
                                      " but matrix[" + std::to_string(j) + "][" +
                                      std::to_string(i) + "] = " + FormatDouble(dense[j][i]) +
                                      "; an undirected graph needs a symmetric matrix (or set "
                                      "`directed: true`)");
      }
    }
  }
  if (pattern) {
    const auto in = pattern->InAdjacency();
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        if (i == j || dense[i][j] == 0) continue;
        if (!std::binary_search(in[i].begin(), in[i].end(), j)) {
          return ctx.Error(
              m[i][j],
              "matrix[" + std::to_string(i) + "][" + std::to_string(j) +
                  "] = " + FormatDouble(dense[i][j]) + " but there is no edge " +
                  (directed ? "from " + std::to_string(j) + " to " + std::to_string(i)
                            : "between " + std::to_string(i) + " and " + std::to_string(j)) +
                  "; weights are allowed only on edges");
        }
      }
    }
  }
  *out = SparseWeights(dense);
  Status v = ValidateWeights(*out, directed);
  if (!v.ok()) return ctx.Error(m, v.message());
  return Status::Ok();
}

Status ParseGenerator(const YamlContext& ctx, const YAML::Node& gen, GeneratorSpec* spec) {
  if (gen.IsScalar()) {
    spec->kind = gen.Scalar();
  } else {
    HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(
        gen, "generator",
        {"kind", "rows", "cols", "center", "p", "degree", "seed", "max_tries", "path"}));
    if (!gen["kind"]) return ctx.Error(gen, "generator: missing `kind:` (e.g. {kind: ring})");
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(gen["kind"], "generator.kind", &spec->kind));
    int64_t v = 0;
    auto get_int = [&](const char* key, int* out) -> Status {
      if (!gen[key]) return Status::Ok();
      HEARSAY_RETURN_IF_ERROR(ctx.GetInt(gen[key], std::string("generator.") + key, &v));
      if (v < 0 || v > (1 << 30)) {
        return ctx.Error(gen[key], std::string("generator.") + key + " = " + std::to_string(v) +
                                       " is out of range");
      }
      *out = static_cast<int>(v);
      return Status::Ok();
    };
    HEARSAY_RETURN_IF_ERROR(get_int("rows", &spec->rows));
    HEARSAY_RETURN_IF_ERROR(get_int("cols", &spec->cols));
    HEARSAY_RETURN_IF_ERROR(get_int("center", &spec->center));
    HEARSAY_RETURN_IF_ERROR(get_int("degree", &spec->degree));
    HEARSAY_RETURN_IF_ERROR(get_int("max_tries", &spec->max_tries));
    if (gen["p"]) HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(gen["p"], "generator.p", &spec->p));
    if (gen["seed"]) {
      HEARSAY_RETURN_IF_ERROR(ctx.GetInt(gen["seed"], "generator.seed", &v));
      spec->seed = static_cast<uint64_t>(v);
    }
    if (gen["path"])
      HEARSAY_RETURN_IF_ERROR(ctx.GetString(gen["path"], "generator.path", &spec->path));
  }
  const std::string kind = CanonicalGeneratorKind(spec->kind);
  if (kind.empty()) {
    std::string valid;
    for (const auto& k : GeneratorKinds()) valid += (valid.empty() ? "" : ", ") + k;
    return ctx.Error(gen.IsMap() ? gen["kind"] : gen,
                     "unknown generator kind '" + spec->kind + "'" +
                         DidYouMean(spec->kind, GeneratorKinds()) + "; valid kinds: " + valid);
  }
  spec->kind = kind;
  if (kind == "edge-list-file" && spec->path.empty()) {
    return ctx.Error(gen, "generator: edge-list-file needs `path:` (a file of `u v` lines)");
  }
  return Status::Ok();
}

// One graph description (top level or one entry of `sequence:`) -> weights of its phases.
Status ParseGraph(const YamlContext& ctx, const YAML::Node& at, bool directed,
                  std::vector<WeightRows>* phases, TopologySpec* spec, bool* graph_directed) {
  const YAML::Node gen = at["generator"], edges = at["edges"], matrix = at["matrix"],
                   weights = at["weights"];
  int given = (gen ? 1 : 0) + (edges ? 1 : 0);
  if (given > 1) return ctx.Error(edges, "give either `generator:` or `edges:`, not both");
  std::string rule_name = matrix ? "explicit" : "metropolis";
  if (weights) HEARSAY_RETURN_IF_ERROR(ctx.GetString(weights, "weights", &rule_name));
  auto rule = ParseWeightRule(rule_name);
  if (!rule.ok()) return ctx.Error(weights, rule.status().message());
  if (rule.value() == WeightRule::kExplicit && !matrix) {
    return ctx.Error(weights, "weights: explicit needs `matrix: [[...], ...]` (one row per node)");
  }
  if (matrix && rule.value() != WeightRule::kExplicit) {
    return ctx.Error(matrix, "a `matrix:` is given but weights is " + rule_name +
                                 "; write `weights: explicit` or drop the matrix");
  }
  std::vector<Graph> graphs;
  const YAML::Node graph_at = gen ? gen : (edges ? edges : at);
  *graph_directed = directed;
  if (gen) {
    GeneratorSpec gs;
    HEARSAY_RETURN_IF_ERROR(ParseGenerator(ctx, gen, &gs));
    gs.path = gs.path.empty() ? gs.path : ctx.Resolve(gs.path);
    auto g = GenerateGraphs(gs, ctx.n, directed);
    if (!g.ok()) return ctx.Error(gen, g.status().message());
    graphs = std::move(g).value();
    if (graphs.front().n != ctx.n) {
      return ctx.Error(gen, "the edge list has nodes 0.." + std::to_string(graphs.front().n - 1) +
                                " but the file declares " + std::to_string(ctx.n) + " nodes");
    }
    *graph_directed = graphs.front().directed;
    if (gs.kind == "one-peer-exponential") {
      if (weights && rule.value() != WeightRule::kUniform) {
        return ctx.Error(weights,
                         "one-peer-exponential has fixed weights 1/2 (self and the one "
                         "in-neighbour); drop `weights:` or write `weights: uniform`");
      }
      rule = WeightRule::kUniform;
    }
    if (spec) spec->generator = gs;
  } else if (edges) {
    Graph g{ctx.n, directed, {}};
    HEARSAY_RETURN_IF_ERROR(ParseEdges(ctx, edges, &g));
    graphs.push_back(std::move(g));
  }
  if (spec) spec->weight_rule = WeightRuleName(rule.value());
  if (rule.value() == WeightRule::kExplicit) {
    if (graphs.size() > 1) {
      return ctx.Error(matrix, "explicit weights cannot be used with a time-varying generator");
    }
    WeightRows rows;
    HEARSAY_RETURN_IF_ERROR(
        ParseMatrix(ctx, matrix, directed, graphs.empty() ? nullptr : &graphs.front(), &rows));
    phases->push_back(std::move(rows));
    return Status::Ok();
  }
  if (graphs.empty()) {
    return ctx.Error(at,
                     "no graph: give `generator: {kind: ring}`, `edges: [[0, 1], ...]`, "
                     "`matrix:` with `weights: explicit`, or `sequence:`");
  }
  for (const Graph& g : graphs) {
    auto w = ComputeWeights(g, rule.value());
    if (!w.ok()) return ctx.Error(weights ? weights : graph_at, w.status().message());
    phases->push_back(std::move(w).value());
  }
  return Status::Ok();
}

Status ParseRoot(YamlContext& ctx, const YAML::Node& root, TopologySpec* spec) {
  if (!root.IsMap()) {
    return ctx.Error(root,
                     "a topology file is a YAML map with at least `nodes:` and a graph "
                     "(`generator:`, `edges:`, `matrix:` or `sequence:`)");
  }
  HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(
      root, "topology",
      {"name", "description", "nodes", "host", "base_port", "bind", "directed", "generator",
       "edges", "weights", "matrix", "sequence", "groups", "links", "events", "traces"}));
  bool directed = false;
  if (root["directed"])
    HEARSAY_RETURN_IF_ERROR(ctx.GetBool(root["directed"], "directed", &directed));
  if (!root["nodes"]) {
    // Inferred sizes: an explicit matrix or an edge-list file.
    if (root["matrix"] && root["matrix"].IsSequence()) {
      ctx.n = static_cast<int>(root["matrix"].size());
    } else if (root["generator"] && root["generator"].IsMap() && root["generator"]["path"]) {
      GeneratorSpec gs;
      HEARSAY_RETURN_IF_ERROR(ParseGenerator(ctx, root["generator"], &gs));
      gs.path = ctx.Resolve(gs.path);
      auto g = GenerateGraphs(gs, 0, directed);
      if (!g.ok()) return ctx.Error(root["generator"], g.status().message());
      if (g.value().front().n > kMaxNodes) {
        return ctx.Error(root["generator"],
                         "edge-list-file: '" + gs.path + "' names node " +
                             std::to_string(g.value().front().n - 1) +
                             ", so the graph would have " + std::to_string(g.value().front().n) +
                             " nodes; at most " + std::to_string(kMaxNodes) + " are allowed");
      }
      ctx.n = g.value().front().n;
    } else {
      return ctx.Error(root, "missing `nodes:` (a count such as `nodes: 8`, or a list of nodes)");
    }
  }
  HEARSAY_RETURN_IF_ERROR(ParseNodes(ctx, root, spec));
  HEARSAY_RETURN_IF_ERROR(ParseGroups(ctx, root, spec));
  spec->directed = directed;

  std::vector<WeightRows> phases;
  bool graph_directed = directed;
  YAML::Node graph_at = root;
  if (const YAML::Node seq = root["sequence"]) {
    for (const char* key : {"generator", "edges", "matrix", "weights"}) {
      if (root[key]) {
        return ctx.Error(root[key], std::string("`") + key +
                                        ":` at the top level conflicts with "
                                        "`sequence:`; put it inside each entry of the sequence");
      }
    }
    if (!seq.IsSequence() || seq.size() == 0) {
      return ctx.Error(seq,
                       "sequence: expected a list of graphs ({generator: ...} or "
                       "{edges: ...}); round t uses entry (t - 1) mod length");
    }
    graph_at.reset(seq);
    for (size_t k = 0; k < seq.size(); ++k) {
      HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(seq[k], "sequence[" + std::to_string(k) + "]",
                                            {"generator", "edges", "weights", "matrix"}));
      bool d = directed;
      std::vector<WeightRows> sub;
      HEARSAY_RETURN_IF_ERROR(ParseGraph(ctx, seq[k], directed, &sub, nullptr, &d));
      graph_directed |= d;
      for (auto& w : sub) phases.push_back(std::move(w));
    }
    spec->weight_rule = "";
  } else {
    HEARSAY_RETURN_IF_ERROR(ParseGraph(ctx, root, directed, &phases, spec, &graph_directed));
    if (root["generator"])
      graph_at.reset(root["generator"]);
    else if (root["edges"])
      graph_at.reset(root["edges"]);
    else if (root["matrix"])
      graph_at.reset(root["matrix"]);
  }
  spec->directed = graph_directed;
  auto topo = BuildTopologyFromWeights(std::move(phases), graph_directed, &spec->push_sum);
  if (!topo.ok()) return ctx.Error(graph_at, topo.status().message());
  spec->graph = std::move(topo).value();
  return topology_internal::ParseLinks(ctx, root, spec);
}

// Writes a sweep's values into the parsed YAML tree, so the file's own rules (overrides
// inheriting the defaults, node references, validation) apply to them unchanged.
Status ApplyOverrides(const YamlContext& ctx, YAML::Node root, const TopologyOverrides& o) {
  if (!root.IsMap()) return Status::Ok();  // ParseRoot explains what a topology file is
  if (o.bandwidth_bps || o.latency_s) {
    if (!root["links"]) root["links"] = YAML::Node(YAML::NodeType::Map);
    YAML::Node links = root["links"];
    if (!links.IsMap()) return Status::Ok();
    if (!links["default"]) links["default"] = YAML::Node(YAML::NodeType::Map);
    YAML::Node d = links["default"];
    if (!d.IsMap()) return Status::Ok();
    if (o.bandwidth_bps) {
      d.remove("rate");
      d["bandwidth"] = FormatBandwidth(*o.bandwidth_bps);
    }
    if (o.latency_s) {
      d.remove("delay");
      d["latency"] = FormatDuration(*o.latency_s);
    }
  }
  if (o.generator) {
    if (root["sequence"] || root["matrix"]) {
      return ctx.Error(root["sequence"] ? root["sequence"] : root["matrix"],
                       "a grid over `generator` replaces the graph, but this file gives it as " +
                           std::string(root["sequence"] ? "a `sequence:`" : "a `matrix:`") +
                           "; use a topology file with `generator:` or `edges:`");
    }
    root.remove("edges");
    root["generator"] = YAML::Load(*o.generator);
  }
  if (o.nodes) {
    if (root["nodes"] && !root["nodes"].IsScalar()) {
      return ctx.Error(root["nodes"],
                       "a grid over `n` sets the node count, but this file lists its nodes; "
                       "give `nodes:` as a count");
    }
    root["nodes"] = *o.nodes;
  }
  return Status::Ok();
}

}  // namespace

Result<TopologySpec> ParseTopology(std::string_view yaml_text, const std::string& source_name,
                                   const TopologyOverrides& overrides) {
  YamlContext ctx;
  ctx.source = source_name;
  // Absolute, so a spec written back out (topo gen, round trips) still finds its trace files.
  ctx.folder = std::filesystem::absolute(std::filesystem::path(source_name)).parent_path().string();
  TopologySpec spec;
  spec.source = source_name;
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root || root.IsNull()) {
      return InvalidArgument(source_name +
                             ": the file is empty; a topology file needs at least "
                             "`nodes:` and a graph");
    }
    HEARSAY_RETURN_IF_ERROR(ctx.CheckDuplicateKeys(root));
    HEARSAY_RETURN_IF_ERROR(ApplyOverrides(ctx, root, overrides));
    HEARSAY_RETURN_IF_ERROR(ParseRoot(ctx, root, &spec));
  } catch (const YAML::ParserException& e) {
    return InvalidArgument(source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source_name + ": " + e.what());
  } catch (const std::exception& e) {
    return Internal(source_name + ": unexpected error while reading the topology: " + e.what());
  }
  return spec;
}

Result<TopologySpec> LoadTopologyFile(const std::string& path) {
  return LoadTopologyFile(path, TopologyOverrides{});
}

Result<TopologySpec> LoadTopologyFile(const std::string& path, const TopologyOverrides& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot open the topology file");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseTopology(text.str(), path, overrides);
}

}  // namespace hearsay
