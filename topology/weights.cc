#include "topology/weights.h"

#include <algorithm>
#include <cmath>

#include "topology/units.h"

namespace hearsay {

Result<WeightRule> ParseWeightRule(std::string_view name) {
  if (name == "uniform") return WeightRule::kUniform;
  if (name == "metropolis") return WeightRule::kMetropolis;
  if (name == "max-degree" || name == "max_degree") return WeightRule::kMaxDegree;
  if (name == "explicit") return WeightRule::kExplicit;
  return InvalidArgument("unknown weight rule '" + std::string(name) +
                         "'; valid rules: uniform, metropolis, max-degree, explicit");
}

const char* WeightRuleName(WeightRule rule) {
  switch (rule) {
    case WeightRule::kUniform:
      return "uniform";
    case WeightRule::kMetropolis:
      return "metropolis";
    case WeightRule::kMaxDegree:
      return "max-degree";
    case WeightRule::kExplicit:
      return "explicit";
  }
  return "?";
}

Result<WeightRows> ComputeWeights(const Graph& graph, WeightRule rule) {
  const int n = graph.n;
  const auto in = graph.InAdjacency();
  WeightRows rows(n);
  if (rule == WeightRule::kExplicit) {
    return InvalidArgument("explicit weights come from the file's `matrix:`, not from a rule");
  }
  if (graph.directed) {
    if (rule != WeightRule::kUniform) {
      return InvalidArgument(std::string(WeightRuleName(rule)) +
                             " weights need an undirected graph; a directed graph takes "
                             "`uniform` (column-stochastic, push-sum style) or `explicit`");
    }
    const auto out = graph.OutAdjacency();
    for (int i = 0; i < n; ++i) {
      std::vector<int> ids = in[i];
      ids.insert(std::lower_bound(ids.begin(), ids.end(), i), i);
      for (int j : ids) rows[i].push_back({j, 1.0 / (out[j].size() + 1.0)});
    }
    return rows;
  }
  size_t dmin = n, dmax = 0;
  for (const auto& a : in) {
    dmin = std::min(dmin, a.size());
    dmax = std::max(dmax, a.size());
  }
  if (rule == WeightRule::kUniform && dmin != dmax) {
    return InvalidArgument("uniform weights need a regular graph, but degrees range from " +
                           std::to_string(dmin) + " to " + std::to_string(dmax) +
                           "; use `weights: metropolis` or `weights: max-degree`");
  }
  for (int i = 0; i < n; ++i) {
    double off = 0;
    std::vector<Neighbor>& row = rows[i];
    for (int j : in[i]) {
      double w = 0;
      switch (rule) {
        case WeightRule::kUniform:
          w = 1.0 / (dmax + 1.0);
          break;
        case WeightRule::kMetropolis:
          w = 1.0 / (1.0 + std::max(in[i].size(), in[j].size()));
          break;
        case WeightRule::kMaxDegree:
          w = 1.0 / (dmax + 1.0);
          break;
        case WeightRule::kExplicit:
          break;
      }
      row.push_back({j, w});
      off += w;
    }
    const double self = rule == WeightRule::kUniform ? 1.0 / (dmax + 1.0) : 1.0 - off;
    row.insert(std::lower_bound(row.begin(), row.end(), i,
                                [](const Neighbor& a, int id) { return a.id < id; }),
               Neighbor{i, self});
  }
  return rows;
}

WeightProperties InspectWeights(const WeightRows& rows) {
  WeightProperties p;
  const int n = static_cast<int>(rows.size());
  std::vector<double> col(n, 0.0);
  p.rows_sum_to_one = true;
  for (const auto& row : rows) {
    double s = 0;
    for (const Neighbor& e : row) {
      s += e.weight;
      col[e.id] += e.weight;
    }
    if (std::abs(s - 1.0) > kWeightTolerance) p.rows_sum_to_one = false;
  }
  p.columns_sum_to_one = true;
  for (double c : col) {
    if (std::abs(c - 1.0) > kWeightTolerance) p.columns_sum_to_one = false;
  }
  p.symmetric = true;
  for (int i = 0; i < n && p.symmetric; ++i) {
    for (const Neighbor& e : rows[i]) {
      const auto& other = rows[e.id];
      auto it = std::lower_bound(other.begin(), other.end(), i,
                                 [](const Neighbor& a, int id) { return a.id < id; });
      const double back = (it != other.end() && it->id == i) ? it->weight : 0.0;
      if (std::abs(back - e.weight) > kWeightTolerance) {
        p.symmetric = false;
        break;
      }
    }
  }
  return p;
}

Status ValidateWeights(const WeightRows& rows, bool directed) {
  const int n = static_cast<int>(rows.size());
  std::vector<double> col(n, 0.0);
  std::vector<double> rowsum(n, 0.0);
  for (int i = 0; i < n; ++i) {
    for (const Neighbor& e : rows[i]) {
      if (!std::isfinite(e.weight) || e.weight < 0) {
        return InvalidArgument("weight W[" + std::to_string(i) + "][" + std::to_string(e.id) +
                               "] = " + FormatDouble(e.weight) + "; weights must be non-negative");
      }
      rowsum[i] += e.weight;
      col[e.id] += e.weight;
    }
  }
  if (!directed) {
    for (int i = 0; i < n; ++i) {
      if (std::abs(rowsum[i] - 1.0) > kWeightTolerance) {
        return InvalidArgument("row " + std::to_string(i) + " of weights sums to " +
                               FormatDouble(rowsum[i]) + "; rows must sum to 1 (within 1e-9)");
      }
    }
    for (int i = 0; i < n; ++i) {
      for (const Neighbor& e : rows[i]) {
        const auto& other = rows[e.id];
        auto it = std::lower_bound(other.begin(), other.end(), i,
                                   [](const Neighbor& a, int id) { return a.id < id; });
        const double back = (it != other.end() && it->id == i) ? it->weight : 0.0;
        if (std::abs(back - e.weight) > kWeightTolerance) {
          return InvalidArgument("weights are not symmetric: W[" + std::to_string(i) + "][" +
                                 std::to_string(e.id) + "] = " + FormatDouble(e.weight) +
                                 " but W[" + std::to_string(e.id) + "][" + std::to_string(i) +
                                 "] = " + FormatDouble(back) +
                                 "; an undirected graph needs a symmetric matrix (or set "
                                 "`directed: true`)");
        }
      }
    }
  }
  for (int j = 0; j < n; ++j) {
    if (std::abs(col[j] - 1.0) > kWeightTolerance) {
      return InvalidArgument(
          "column " + std::to_string(j) + " of weights sums to " + FormatDouble(col[j]) +
          "; columns must sum to 1 (within 1e-9)" +
          (directed ? " (a directed graph needs column-stochastic weights)" : ""));
    }
  }
  return Status::Ok();
}

std::vector<double> DenseWeights(const WeightRows& rows) {
  const size_t n = rows.size();
  std::vector<double> m(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    for (const Neighbor& e : rows[i]) m[i * n + e.id] = e.weight;
  }
  return m;
}

WeightRows SparseWeights(const std::vector<std::vector<double>>& matrix) {
  WeightRows rows(matrix.size());
  for (size_t i = 0; i < matrix.size(); ++i) {
    for (size_t j = 0; j < matrix[i].size(); ++j) {
      if (matrix[i][j] != 0 || i == j) {
        rows[i].push_back({static_cast<int>(j), matrix[i][j]});
      }
    }
  }
  return rows;
}

}  // namespace hearsay
