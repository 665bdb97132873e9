// Mixing-weight rules (ALGORITHMS.md "Topologies and mixing weights") and the validator that
// every topology -- generated, read from a file, or explicit -- passes before it is used.
//
//   uniform     undirected: W_ij = 1/(deg+1) (needs a regular graph, else an error says to use
//               metropolis or max-degree). directed: W_ij = 1/(outdeg_j + 1) for j -> i and
//               j = i, i.e. every node splits its value evenly over itself and its out-
//               neighbours: column-stochastic (push-sum); doubly stochastic on regular graphs.
//   metropolis  W_ij = 1/(1 + max(d_i, d_j)), W_ii = 1 - row sum (undirected only).
//   max-degree  W_ij = 1/(1 + d_max), W_ii = 1 - d_i/(1 + d_max) >= 1/(1 + d_max) > 0: lazy, the
//               self weight is never 0 (undirected only).
//   explicit    the file's `matrix:`.
//
// Validation (tolerance 1e-9): finite, non-negative; undirected graphs need a symmetric matrix
// whose rows sum to 1 (hence doubly stochastic); directed graphs need columns summing to 1; when
// their rows also sum to 1 the matrix is doubly stochastic, else it is flagged column-stochastic
// (push-sum style algorithms only). Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "topology/graph.h"
#include "topology/static_topology.h"

namespace hearsay {

inline constexpr double kWeightTolerance = 1e-9;

enum class WeightRule { kUniform, kMetropolis, kMaxDegree, kExplicit };

// "uniform" | "metropolis" | "max-degree" | "explicit"; the error lists the valid names.
Result<WeightRule> ParseWeightRule(std::string_view name);
const char* WeightRuleName(WeightRule rule);

// W for `graph` by `rule` (not kExplicit). Errors: uniform on an irregular undirected graph,
// metropolis / max-degree on a directed graph.
Result<WeightRows> ComputeWeights(const Graph& graph, WeightRule rule);

struct WeightProperties {
  bool rows_sum_to_one = false;
  bool columns_sum_to_one = false;
  bool symmetric = false;
  bool doubly_stochastic() const { return rows_sum_to_one && columns_sum_to_one; }
};
WeightProperties InspectWeights(const WeightRows& rows);

// The validator described above; messages name the row or column and what it sums to, e.g.
// "row 3 of weights sums to 0.98; rows must sum to 1 (within 1e-9)".
Status ValidateWeights(const WeightRows& rows, bool directed);

// Dense n x n matrix (row major) from rows / rows from a dense matrix (zeros dropped except the
// diagonal). For small graphs, tests and explicit matrices.
std::vector<double> DenseWeights(const WeightRows& rows);
WeightRows SparseWeights(const std::vector<std::vector<double>>& matrix);

}  // namespace hearsay
