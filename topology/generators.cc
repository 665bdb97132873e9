#include "topology/generators.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "common/random.h"
#include "common/regular_file.h"

namespace hearsay {
namespace {

// Edge lists of real graphs with millions of edges stay far below this.
constexpr uint64_t kMaxEdgeListFileBytes = uint64_t{1} << 30;

std::string N(int64_t v) { return std::to_string(v); }

bool IsPowerOfTwo(int n) { return n > 0 && (n & (n - 1)) == 0; }

int CeilLog2(int n) {
  int k = 0;
  while ((1 << k) < n) ++k;
  return k;
}

// Uniform in [0, 1) with 32-bit resolution from the topology stream.
double Uniform(const RngKey& key, uint64_t index) {
  return static_cast<double>(WordAt(key, index)) * (1.0 / 4294967296.0);
}

// Uniform integer in [0, bound) (bound <= 2^32), via 64-bit multiply (Lemire, tiny bias ok for
// graph generation).
uint32_t Below(const RngKey& key, uint64_t index, uint32_t bound) {
  return static_cast<uint32_t>((static_cast<uint64_t>(WordAt(key, index)) * bound) >> 32);
}

bool Connected(const Graph& g) {
  return WeakComponents(g.n, g.InAdjacency(), g.OutAdjacency()).size() <= 1;
}

void Factor2D(int n, int* rows, int* cols) {
  if (*rows > 0 && *cols > 0) return;
  if (*rows > 0) {
    *cols = n / *rows;
    return;
  }
  if (*cols > 0) {
    *rows = n / *cols;
    return;
  }
  int r = static_cast<int>(std::sqrt(static_cast<double>(n)));
  while (r > 1 && n % r != 0) --r;
  *rows = r;
  *cols = n / r;
}

Result<Graph> Lattice(const GeneratorSpec& spec, int n, bool wrap) {
  int rows = spec.rows, cols = spec.cols;
  Factor2D(n, &rows, &cols);
  if (rows < 1 || cols < 1 || rows * cols != n) {
    return InvalidArgument(spec.kind + ": rows x cols = " + N(rows) + " x " + N(cols) +
                           " does not equal the " + N(n) +
                           " nodes; give rows and cols whose product is the node count");
  }
  Graph g{n, false, {}};
  auto id = [&](int r, int c) { return r * cols + c; };
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      if (c + 1 < cols)
        g.edges.push_back({id(r, c), id(r, c + 1)});
      else if (wrap && cols > 1)
        g.edges.push_back({id(r, c), id(r, 0)});
      if (r + 1 < rows)
        g.edges.push_back({id(r, c), id(r + 1, c)});
      else if (wrap && rows > 1)
        g.edges.push_back({id(r, c), id(0, c)});
    }
  }
  return g;
}

Result<Graph> ErdosRenyi(const GeneratorSpec& spec, int n) {
  if (!(spec.p > 0 && spec.p <= 1)) {
    return InvalidArgument("erdos-renyi: p = " + std::to_string(spec.p) +
                           "; the edge probability must be in (0, 1]");
  }
  for (int attempt = 0; attempt < std::max(1, spec.max_tries); ++attempt) {
    RngKey key{spec.seed, 0, static_cast<uint32_t>(attempt), kStreamTopology, 0};
    Graph g{n, false, {}};
    uint64_t idx = 0;
    for (int i = 0; i < n; ++i) {
      for (int j = i + 1; j < n; ++j, ++idx) {
        if (Uniform(key, idx) < spec.p) g.edges.push_back({i, j});
      }
    }
    if (Connected(g)) return g;
  }
  return InvalidArgument("erdos-renyi: no connected G(n=" + N(n) + ", p=" + std::to_string(spec.p) +
                         ") in " + N(spec.max_tries) + " draws from seed " + N(spec.seed) +
                         "; raise p (connectivity needs p above about ln(n)/n = " +
                         std::to_string(std::log(std::max(n, 2)) / n) + ") or max_tries");
}

// Random d-regular graph: pair random stubs, refusing self-loops and repeated edges; restart
// the draw when stuck; redraw until connected.
Result<Graph> RandomRegular(const GeneratorSpec& spec, int n) {
  const int d = spec.degree;
  if (d < 1 || d >= n) {
    return InvalidArgument("random-regular: degree = " + N(d) + "; it must be in 1.." + N(n - 1) +
                           " for " + N(n) + " nodes");
  }
  if ((static_cast<int64_t>(n) * d) % 2 != 0) {
    return InvalidArgument("random-regular: n * degree = " + N(int64_t{n} * d) +
                           " is odd; a d-regular graph needs n * d even");
  }
  for (int attempt = 0; attempt < std::max(1, spec.max_tries); ++attempt) {
    RngKey key{spec.seed, 1, static_cast<uint32_t>(attempt), kStreamTopology, 0};
    uint64_t draw = 0;
    std::vector<int> stubs;
    for (int i = 0; i < n; ++i) stubs.insert(stubs.end(), d, i);
    std::set<std::pair<int, int>> edges;
    bool stuck = false;
    while (!stubs.empty() && !stuck) {
      bool paired = false;
      for (int tries = 0; tries < 64 && !paired; ++tries) {
        const uint32_t a = Below(key, draw++, static_cast<uint32_t>(stubs.size()));
        const uint32_t b = Below(key, draw++, static_cast<uint32_t>(stubs.size()));
        int u = stubs[a], v = stubs[b];
        if (a == b || u == v) continue;
        if (u > v) std::swap(u, v);
        if (edges.count({u, v})) continue;
        edges.insert({u, v});
        // Remove the larger index first so the smaller stays valid.
        for (uint32_t k : {std::max(a, b), std::min(a, b)}) {
          stubs[k] = stubs.back();
          stubs.pop_back();
        }
        paired = true;
      }
      stuck = !paired;
    }
    if (stuck) continue;
    Graph g{n, false, {edges.begin(), edges.end()}};
    if (Connected(g)) return g;
  }
  return InvalidArgument("random-regular: no connected simple " + N(d) + "-regular graph on " +
                         N(n) + " nodes in " + N(spec.max_tries) + " draws from seed " +
                         N(spec.seed) + "; try another seed, a larger degree or max_tries");
}

Result<Graph> EdgeListFile(const GeneratorSpec& spec, int n, bool directed) {
  // Regular files only: a device (/dev/zero) would be read for ever, a FIFO would block.
  if (Status s = CheckRegularFile(spec.path, kMaxEdgeListFileBytes, "edge-list file");
      !s.ok() && s.code() != StatusCode::kNotFound) {
    return s;
  }
  std::ifstream in(spec.path);
  if (!in) {
    return NotFound("edge-list-file: cannot open '" + spec.path +
                    "' (relative paths are resolved against the topology file's folder)");
  }
  Graph g{n, directed, {}};
  std::string line;
  int lineno = 0, max_id = -1;
  while (std::getline(in, line)) {
    ++lineno;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream ls(line);
    std::string a, b;
    if (!(ls >> a)) continue;
    long u = -1, v = -1;
    char* end = nullptr;
    bool ok = static_cast<bool>(ls >> b);
    if (ok) {
      u = std::strtol(a.c_str(), &end, 10);
      ok = *end == '\0';
      v = std::strtol(b.c_str(), &end, 10);
      ok = ok && *end == '\0' && u >= 0 && v >= 0 && u < (1 << 24) && v < (1 << 24);
    }
    if (!ok) {
      return InvalidArgument(spec.path + ":" + N(lineno) +
                             ": expected `u v [weight]` with node ids " + "0, 1, 2, ..., got '" +
                             line + "'");
    }
    if (n > 0 && (u >= n || v >= n)) {
      return InvalidArgument(spec.path + ":" + N(lineno) + ": edge (" + N(u) + ", " + N(v) +
                             "): unknown node " + N(u >= n ? u : v) + " (nodes are 0.." + N(n - 1) +
                             ")");
    }
    max_id = std::max<int>(max_id, std::max(u, v));
    g.edges.push_back({static_cast<int>(u), static_cast<int>(v)});
  }
  if (g.edges.empty()) return InvalidArgument("edge-list-file: '" + spec.path + "' has no edges");
  if (n == 0) g.n = max_id + 1;
  return g;
}

}  // namespace

const std::vector<std::string>& GeneratorKinds() {
  static const std::vector<std::string> kKinds = {
      "ring",        "torus",          "grid",          "complete",
      "star",        "hypercube",      "exponential",   "one-peer-exponential",
      "erdos-renyi", "random-regular", "edge-list-file"};
  return kKinds;
}

std::string CanonicalGeneratorKind(const std::string& kind) {
  std::string k = kind;
  std::replace(k.begin(), k.end(), '_', '-');
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  if (k == "er" || k == "gnp") return "erdos-renyi";
  if (k == "regular" || k == "d-regular") return "random-regular";
  if (k == "exp" || k == "static-exponential") return "exponential";
  if (k == "one-peer-exp" || k == "onepeer-exponential") return "one-peer-exponential";
  if (k == "edge-list" || k == "edgelist") return "edge-list-file";
  if (k == "grid-2d" || k == "grid2d") return "grid";
  if (k == "torus-2d" || k == "torus2d") return "torus";
  for (const auto& name : GeneratorKinds()) {
    if (k == name) return name;
  }
  return "";
}

Result<std::vector<Graph>> GenerateGraphs(const GeneratorSpec& spec, int n, bool directed) {
  const std::string kind = CanonicalGeneratorKind(spec.kind);
  if (kind.empty()) {
    std::string valid;
    for (const auto& k : GeneratorKinds()) valid += (valid.empty() ? "" : ", ") + k;
    return InvalidArgument("unknown generator kind '" + spec.kind + "'; valid kinds: " + valid);
  }
  if (kind == "edge-list-file") {
    HEARSAY_ASSIGN_OR_RETURN(Graph g, EdgeListFile(spec, n, directed));
    g.Normalize();
    return std::vector<Graph>{std::move(g)};
  }
  if (n < 1) return InvalidArgument(kind + ": needs at least 1 node, got " + N(n));
  if (n == 1) return std::vector<Graph>{Graph{1, directed, {}}};
  Graph g{n, false, {}};
  if (kind == "ring") {
    for (int i = 0; i < n; ++i) g.edges.push_back({i, (i + 1) % n});
  } else if (kind == "torus" || kind == "grid") {
    HEARSAY_ASSIGN_OR_RETURN(g, Lattice(spec, n, kind == "torus"));
  } else if (kind == "complete") {
    for (int i = 0; i < n; ++i) {
      for (int j = i + 1; j < n; ++j) g.edges.push_back({i, j});
    }
  } else if (kind == "star") {
    if (spec.center < 0 || spec.center >= n) {
      return InvalidArgument("star: center " + N(spec.center) + " is not a node (nodes are 0.." +
                             N(n - 1) + ")");
    }
    for (int i = 0; i < n; ++i) {
      if (i != spec.center) g.edges.push_back({spec.center, i});
    }
  } else if (kind == "hypercube") {
    if (!IsPowerOfTwo(n)) {
      return InvalidArgument("hypercube: " + N(n) + " nodes; a hypercube needs a power of two (" +
                             N(1 << (CeilLog2(n) - 1)) + " or " + N(1 << CeilLog2(n)) + ")");
    }
    for (int i = 0; i < n; ++i) {
      for (int b = 1; b < n; b <<= 1) {
        if ((i ^ b) > i) g.edges.push_back({i, i ^ b});
      }
    }
  } else if (kind == "exponential") {
    g.directed = directed;
    for (int i = 0; i < n; ++i) {
      for (int h = 1; h < n; h <<= 1) g.edges.push_back({i, (i + h) % n});
    }
  } else if (kind == "one-peer-exponential") {
    const int period = CeilLog2(n);
    std::vector<Graph> seq;
    // Round t (1-based) uses phase (t - 1) % period and hop 2^(t mod period).
    for (int phase = 0; phase < period; ++phase) {
      const int hop = 1 << ((phase + 1) % period);
      Graph p{n, true, {}};
      for (int i = 0; i < n; ++i) p.edges.push_back({i, (i + hop) % n});
      p.Normalize();
      seq.push_back(std::move(p));
    }
    return seq;
  } else if (kind == "erdos-renyi") {
    HEARSAY_ASSIGN_OR_RETURN(g, ErdosRenyi(spec, n));
  } else if (kind == "random-regular") {
    HEARSAY_ASSIGN_OR_RETURN(g, RandomRegular(spec, n));
  }
  g.Normalize();
  return std::vector<Graph>{std::move(g)};
}

Status CheckConnected(const std::vector<std::shared_ptr<const StaticTopology>>& phases,
                      bool directed) {
  const int n = phases.front()->size();
  Graph u{n, true, {}};
  for (const auto& p : phases) {
    for (int i = 0; i < n; ++i) {
      for (int j : p->InNeighbors(i, 1)) u.edges.push_back({j, i});
    }
  }
  u.Normalize();
  const auto in = u.InAdjacency(), out = u.OutAdjacency();
  const std::string what = phases.size() > 1 ? "the union of the graph sequence" : "the graph";
  auto comps = WeakComponents(n, in, out);
  if (comps.size() > 1) {
    std::string list;
    for (size_t c = 0; c < comps.size() && c < 4; ++c) {
      list += (c ? " and " : "") + FormatNodeSet(comps[c]);
    }
    if (comps.size() > 4) list += " and " + N(comps.size() - 4) + " more";
    return InvalidArgument(what + " is disconnected: " + N(comps.size()) + " components, " + list +
                           "; every node must reach every other (add edges between them)");
  }
  if (directed) {
    auto from0 = BfsDistances(out, 0);
    for (int v = 0; v < n; ++v) {
      if (from0[v] < 0) {
        return InvalidArgument(what + " is not strongly connected: node " + N(v) +
                               " cannot be reached from node 0 along directed edges");
      }
    }
    auto to0 = BfsDistances(in, 0);
    for (int v = 0; v < n; ++v) {
      if (to0[v] < 0) {
        return InvalidArgument(what +
                               " is not strongly connected: node 0 cannot be reached "
                               "from node " +
                               N(v) + " along directed edges");
      }
    }
  }
  return Status::Ok();
}

Result<std::shared_ptr<const Topology>> BuildTopologyFromWeights(std::vector<WeightRows> phases,
                                                                 bool directed, bool* push_sum) {
  std::vector<std::shared_ptr<const StaticTopology>> built;
  bool column_only = false;
  for (size_t k = 0; k < phases.size(); ++k) {
    const std::string where =
        phases.size() > 1 ? "graph " + N(k) + " of the sequence: " : std::string();
    auto st = StaticTopology::Create(std::move(phases[k]));
    if (!st.ok()) return st.status().WithPrefix(where.empty() ? "weights" : where + "weights");
    Status v = ValidateWeights(st.value()->rows(), directed);
    if (!v.ok()) return where.empty() ? v : InvalidArgument(where + v.message());
    if (directed && !InspectWeights(st.value()->rows()).rows_sum_to_one) column_only = true;
    built.push_back(std::move(st).value());
  }
  if (built.empty()) return InvalidArgument("no graph to build");
  HEARSAY_RETURN_IF_ERROR(CheckConnected(built, directed));
  if (push_sum) *push_sum = column_only;
  if (built.size() == 1) return std::shared_ptr<const Topology>(built.front());
  HEARSAY_ASSIGN_OR_RETURN(auto sched, ScheduleTopology::Create(std::move(built)));
  return std::shared_ptr<const Topology>(sched);
}

Result<std::shared_ptr<const Topology>> BuildTopology(const std::vector<Graph>& graphs,
                                                      WeightRule rule, bool* push_sum) {
  std::vector<WeightRows> phases;
  bool directed = false;
  for (const Graph& g : graphs) {
    HEARSAY_ASSIGN_OR_RETURN(WeightRows w, ComputeWeights(g, rule));
    phases.push_back(std::move(w));
    directed |= g.directed;
  }
  return BuildTopologyFromWeights(std::move(phases), directed, push_sum);
}

Result<TopologySpec> GenerateTopology(const GeneratorOptions& options) {
  HEARSAY_ASSIGN_OR_RETURN(auto graphs, GenerateGraphs(options.graph, options.n, options.directed));
  const std::string kind = CanonicalGeneratorKind(options.graph.kind);
  HEARSAY_ASSIGN_OR_RETURN(WeightRule rule, ParseWeightRule(options.weights));
  if (kind == "one-peer-exponential") rule = WeightRule::kUniform;
  if (rule == WeightRule::kExplicit) {
    return InvalidArgument(
        "a generator cannot use explicit weights; choose uniform, metropolis "
        "or max-degree");
  }
  TopologySpec spec;
  spec.source = "generated";
  HEARSAY_ASSIGN_OR_RETURN(spec.graph, BuildTopology(graphs, rule, &spec.push_sum));
  spec.directed = graphs.front().directed;
  spec.weight_rule = WeightRuleName(rule);
  spec.generator = options.graph;
  spec.generator->kind = kind;
  spec.link_defaults = options.link;
  const int n = spec.graph->size();
  if (options.base_port + n - 1 > 65535 || options.base_port < 1) {
    return InvalidArgument("base_port " + N(options.base_port) + " + " + N(n) +
                           " nodes runs past port 65535");
  }
  for (int i = 0; i < n; ++i) {
    NodeSpec node;
    node.name = "n" + N(i);
    node.host = options.host;
    node.port = static_cast<uint16_t>(options.base_port + i);
    spec.nodes.push_back(std::move(node));
  }
  return spec;
}

}  // namespace hearsay
