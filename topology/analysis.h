// Analysis of a gossip topology: degrees, connectivity, diameter, spectral gap and, for
// time-varying schedules, the contraction factor over one period.
//
// Definitions (J = 11^T / n, the averaging matrix):
//   second_eigenvalue  ||W - J||_2 for a static W. For symmetric doubly stochastic W this is
//                      max_{k>1} |lambda_k(W)|, so spectral_gap = 1 - max_{k>1}|lambda_k| as in
//                      ALGORITHMS.md; for a non-symmetric doubly stochastic W it is the largest
//                      singular value of W - J (the per-round contraction of the disagreement).
//   contraction        ||W_P ... W_2 W_1 - J||_2 over one period P (static: P = 1).
//   spectral_gap       1 - contraction^(1/P): the per-round gap (static: 1 - second_eigenvalue).
// The spectral quantities need doubly stochastic weights; for push-sum (column-stochastic only)
// weights they are NaN.
//
// Method: n <= dense_limit uses dense Eigen eigen/singular value decompositions (accurate to
// ~1e-13). Larger graphs use Lanczos on the deflated operator (W - J, or M^T M for products and
// non-symmetric W) with sparse products, so 4096 nodes take well under a second for sparse
// graphs. Lanczos runs until the extreme Ritz value changes by less than `tolerance` between
// checkpoints (or max_iterations). Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "topology/topology.h"

namespace hearsay {

struct AnalysisOptions {
  int dense_limit = 256;                // n at or below: dense decompositions
  double tolerance = 1e-12;             // Lanczos stopping tolerance on the extreme eigenvalue
  int max_iterations = 40000;           // Lanczos iteration cap
  bool spectral = true;                 // compute the spectral quantities
  int64_t diameter_work = 300'000'000;  // BFS work cap (n * links); above it: sampled sources
};

struct DegreeStats {
  int min = 0;
  int max = 0;
  double mean = 0;
};

struct TopologyAnalysis {
  int nodes = 0;
  int period = 1;
  int64_t links = 0;      // directed links (j -> i, j != i) used in some round
  DegreeStats in_degree;  // per node, over the union of the period's graphs
  DegreeStats out_degree;
  int components = 0;  // weakly connected components of the union
  bool strongly_connected = false;
  int diameter = -1;               // hops in the union graph; -1 when not strongly connected
  bool diameter_exact = true;      // false: a lower bound from sampled BFS sources
  bool symmetric = false;          // every round's W is symmetric
  bool doubly_stochastic = false;  // every round's W
  double second_eigenvalue = 0;    // see the header comment (NaN when not doubly stochastic)
  double contraction = 0;
  double spectral_gap = 0;
  std::string method;  // "dense" or "lanczos (k iterations)"
};

Result<TopologyAnalysis> AnalyzeTopology(const std::shared_ptr<const Topology>& topology,
                                         const AnalysisOptions& options = {});

// Shortcut: the spectral gap (per round) alone.
Result<double> SpectralGap(const std::shared_ptr<const Topology>& topology,
                           const AnalysisOptions& options = {});

}  // namespace hearsay
