#include "topology/analysis.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "common/random.h"
#include "topology/graph.h"
#include "topology/static_topology.h"
#include "topology/weights.h"

namespace hearsay {
namespace {

using Vec = Eigen::VectorXd;
using Op = std::function<void(const Vec&, Vec*)>;

// y = W x for a sparse W.
void Apply(const StaticTopology& w, const Vec& x, Vec* y) {
  const auto& rows = w.rows();
  for (size_t i = 0; i < rows.size(); ++i) {
    double s = 0;
    for (const Neighbor& e : rows[i]) s += e.weight * x[e.id];
    (*y)[i] = s;
  }
}

// y = W^T x.
void ApplyTransposed(const StaticTopology& w, const Vec& x, Vec* y) {
  y->setZero();
  const auto& rows = w.rows();
  for (size_t i = 0; i < rows.size(); ++i) {
    for (const Neighbor& e : rows[i]) (*y)[e.id] += e.weight * x[i];
  }
}

void Deflate(Vec* x) { x->array() -= x->mean(); }

struct Extremes {
  double min = 0, max = 0;
  int iterations = 0;
};

// Lanczos without reorthogonalisation: extreme eigenvalues of a symmetric operator on the
// subspace orthogonal to 1 (the caller's operator keeps that subspace invariant). Ghost copies
// of converged Ritz values do not move the extremes.
Extremes Lanczos(int n, const Op& op, const AnalysisOptions& opt) {
  Vec v(n), v_prev = Vec::Zero(n), w(n);
  RngKey key{0x5eed, 0, 0, kStreamTopology, 7};
  for (int i = 0; i < n; ++i) v[i] = UniformAt(key, i) - 0.5;
  Deflate(&v);
  v.normalize();
  std::vector<double> alpha, beta;
  Extremes best,
      prev{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), 0};
  int next_check = 16;
  double beta_prev = 0;
  const int cap = std::max(4, opt.max_iterations);
  for (int j = 0; j < cap; ++j) {
    op(v, &w);
    Deflate(&w);  // keeps rounding from re-growing the 1 direction
    w -= beta_prev * v_prev;
    const double a = w.dot(v);
    w -= a * v;
    const double b = w.norm();
    alpha.push_back(a);
    const bool breakdown = b < 1e-13;
    const bool check = breakdown || j + 1 == next_check || j + 1 == cap;
    if (check) {
      const int m = static_cast<int>(alpha.size());
      Vec diag = Eigen::Map<Vec>(alpha.data(), m);
      Vec sub = m > 1 ? Vec(Eigen::Map<Vec>(beta.data(), m - 1)) : Vec(0);
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es;
      es.computeFromTridiagonal(diag, sub, Eigen::EigenvaluesOnly);
      best = {es.eigenvalues().minCoeff(), es.eigenvalues().maxCoeff(), m};
      if (breakdown) break;
      const double scale = std::max(1.0, std::max(std::abs(best.min), std::abs(best.max)));
      if (std::abs(best.max - prev.max) < opt.tolerance * scale &&
          std::abs(best.min - prev.min) < opt.tolerance * scale) {
        break;
      }
      prev = best;
      next_check = std::min(cap, next_check + std::max(16, next_check / 2));
    }
    beta.push_back(b);
    beta_prev = b;
    v_prev = v;
    v = w / b;
  }
  return best;
}

// ||M - J||_2 where M = W_P ... W_1 (product of the phases), dense.
double DenseContraction(const std::vector<std::shared_ptr<const StaticTopology>>& phases,
                        bool symmetric) {
  const int n = phases.front()->size();
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(n, n);
  for (const auto& p : phases) {
    Eigen::MatrixXd w = Eigen::MatrixXd::Zero(n, n);
    for (int i = 0; i < n; ++i) {
      for (const Neighbor& e : p->rows()[i]) w(i, e.id) = e.weight;
    }
    m = w * m;
  }
  m.array() -= 1.0 / n;
  if (symmetric && phases.size() == 1) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(m, Eigen::EigenvaluesOnly);
    return es.eigenvalues().cwiseAbs().maxCoeff();
  }
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(m);
  return svd.singularValues()(0);
}

using Phases = std::vector<std::shared_ptr<const StaticTopology>>;

// Degrees, connectivity and diameter of the union of the period's graphs; also whether every
// phase is symmetric and doubly stochastic.
void AnalyzeStructure(const Phases& phases, int n, const AnalysisOptions& options,
                      TopologyAnalysis* a) {
  Graph u{n, true, {}};
  a->symmetric = true;
  a->doubly_stochastic = true;
  for (const auto& p : phases) {
    for (int i = 0; i < n; ++i) {
      for (int j : p->InNeighbors(i, 1)) u.edges.push_back({j, i});
    }
    a->symmetric &= p->symmetric();
    a->doubly_stochastic &= InspectWeights(p->rows()).doubly_stochastic();
  }
  u.Normalize();
  a->links = static_cast<int64_t>(u.edges.size());
  const auto in = u.InAdjacency(), out = u.OutAdjacency();
  auto stats = [n](const std::vector<std::vector<int>>& adj) {
    DegreeStats s{std::numeric_limits<int>::max(), 0, 0};
    for (const auto& l : adj) {
      s.min = std::min<int>(s.min, l.size());
      s.max = std::max<int>(s.max, l.size());
      s.mean += l.size();
    }
    s.mean /= n;
    return s;
  };
  a->in_degree = stats(in);
  a->out_degree = stats(out);
  a->components = static_cast<int>(WeakComponents(n, in, out).size());
  const auto from0 = BfsDistances(out, 0), to0 = BfsDistances(in, 0);
  a->strongly_connected = std::none_of(from0.begin(), from0.end(), [](int d) { return d < 0; }) &&
                          std::none_of(to0.begin(), to0.end(), [](int d) { return d < 0; });
  if (!a->strongly_connected) return;
  // All-pairs BFS while it is cheap; past the work cap, BFS from evenly spread sources gives a
  // lower bound (reported as such).
  const bool all = static_cast<int64_t>(n) * (a->links + n) <= options.diameter_work;
  const int sources = all ? n : std::min(n, 32);
  a->diameter_exact = all;
  a->diameter = 0;
  for (int k = 0; k < sources; ++k) {
    const int s = all ? k : static_cast<int>((static_cast<int64_t>(k) * n) / sources);
    const auto d = BfsDistances(out, s);
    a->diameter = std::max(a->diameter, *std::max_element(d.begin(), d.end()));
  }
}

// ||W_P ... W_1 - J||_2 by Lanczos on the deflated operator: W itself when it is static and
// symmetric, else M^T M (whose largest eigenvalue is the squared norm).
void LanczosContraction(const Phases& phases, int n, bool sym_static,
                        const AnalysisOptions& options, TopologyAnalysis* a) {
  Extremes e;
  if (sym_static) {
    const StaticTopology& w = *phases.front();
    e = Lanczos(
        n, [&](const Vec& x, Vec* y) { Apply(w, x, y); }, options);
    a->contraction = std::max(std::abs(e.min), std::abs(e.max));
  } else {
    // sigma_max(M - J)^2 = lambda_max((M - J)^T (M - J)); M kills nothing but M - J kills 1.
    Vec tmp(n);
    e = Lanczos(
        n,
        [&](const Vec& x, Vec* y) {
          Vec cur = x;
          for (const auto& p : phases) {
            Apply(*p, cur, &tmp);
            cur = tmp;
          }
          Deflate(&cur);
          for (auto it = phases.rbegin(); it != phases.rend(); ++it) {
            ApplyTransposed(**it, cur, &tmp);
            cur = tmp;
          }
          *y = cur;
        },
        options);
    a->contraction = std::sqrt(std::max(0.0, e.max));
  }
  a->method = "lanczos (" + std::to_string(e.iterations) + " iterations)";
}

// Contraction over one period, second eigenvalue and spectral gap (NaN without doubly
// stochastic weights).
void AnalyzeSpectrum(const Phases& phases, int n, const AnalysisOptions& options,
                     TopologyAnalysis* a) {
  if (!a->doubly_stochastic) {
    a->second_eigenvalue = a->contraction = a->spectral_gap = std::nan("");
    a->method = "n/a (weights not doubly stochastic)";
    return;
  }
  const bool sym_static = a->symmetric && a->period == 1;
  if (n <= options.dense_limit) {
    a->contraction = DenseContraction(phases, sym_static);
    a->method = "dense";
  } else {
    LanczosContraction(phases, n, sym_static, options, a);
  }
  // A schedule's per-round second eigenvalue is not reported: the period's contraction is what
  // governs it.
  a->second_eigenvalue = a->period == 1 ? a->contraction : std::nan("");
  a->spectral_gap = 1.0 - std::pow(a->contraction, 1.0 / a->period);
}

}  // namespace

Result<TopologyAnalysis> AnalyzeTopology(const std::shared_ptr<const Topology>& topology,
                                         const AnalysisOptions& options) {
  if (!topology || topology->size() < 1) return InvalidArgument("no topology to analyse");
  TopologyAnalysis a;
  const int n = topology->size();
  a.nodes = n;
  a.period = topology->period();
  Phases phases;
  for (int r = 1; r <= a.period; ++r) {
    auto p = PhaseAt(topology, r);
    if (!p) return InvalidArgument("round " + std::to_string(r) + " of the topology is malformed");
    phases.push_back(std::move(p));
  }
  AnalyzeStructure(phases, n, options, &a);
  if (options.spectral) AnalyzeSpectrum(phases, n, options, &a);
  return a;
}

Result<double> SpectralGap(const std::shared_ptr<const Topology>& topology,
                           const AnalysisOptions& options) {
  HEARSAY_ASSIGN_OR_RETURN(TopologyAnalysis a, AnalyzeTopology(topology, options));
  if (std::isnan(a.spectral_gap)) {
    return InvalidArgument(
        "the spectral gap needs doubly stochastic weights (these are "
        "column-stochastic only: push-sum)");
  }
  return a.spectral_gap;
}

}  // namespace hearsay
