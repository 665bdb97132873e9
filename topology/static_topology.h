// StaticTopology: a fixed mixing matrix W stored by rows (the Topology for static graphs), and
// ScheduleTopology: a periodic sequence of them (graph sequences, one-peer exponential).
//
// W is sparse: row i lists (j, W_ij) for j in N[i] (i itself included), ascending j. Both
// classes are immutable after construction; every method is const and thread-safe. A
// ScheduleTopology shares its phases (shared_ptr<const StaticTopology>).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "topology/topology.h"

namespace hearsay {

// Row i of W: (j, W_ij) for every j with W_ij > 0 and for j = i, ascending j.
using WeightRows = std::vector<std::vector<Neighbor>>;

class StaticTopology final : public Topology {
 public:
  // Checks shape only (ids in range, ascending, i present in row i, finite non-negative
  // weights); stochasticity is the weights validator's job (weights.h).
  static Result<std::shared_ptr<const StaticTopology>> Create(WeightRows rows);

  int size() const override { return static_cast<int>(rows_.size()); }
  const std::vector<Neighbor>& Row(int i, int64_t round) const override { return rows_[i]; }
  const std::vector<int>& OutNeighbors(int i, int64_t round) const override { return out_[i]; }
  const std::vector<int>& InNeighbors(int i, int64_t round) const override { return in_[i]; }
  std::string Fingerprint() const override;

  const WeightRows& rows() const { return rows_; }
  // W_ij (0 when j is not in row i). O(log degree).
  double Weight(int i, int j) const;
  // True when W_ij == W_ji for all i, j (exactly).
  bool symmetric() const { return symmetric_; }
  // Number of (i, j) pairs with i != j in W (directed links).
  int64_t link_count() const { return links_; }

 private:
  explicit StaticTopology(WeightRows rows);
  WeightRows rows_;
  std::vector<std::vector<int>> in_, out_;
  bool symmetric_ = true;
  int64_t links_ = 0;
};

class ScheduleTopology final : public Topology {
 public:
  // Round t (1-based) uses phases[(t - 1) % phases.size()]. All phases must have the same size;
  // at least one phase.
  static Result<std::shared_ptr<const ScheduleTopology>> Create(
      std::vector<std::shared_ptr<const StaticTopology>> phases);

  int size() const override { return phases_.front()->size(); }
  const std::vector<Neighbor>& Row(int i, int64_t round) const override {
    return Phase(round).Row(i, round);
  }
  const std::vector<int>& OutNeighbors(int i, int64_t round) const override {
    return Phase(round).OutNeighbors(i, round);
  }
  const std::vector<int>& InNeighbors(int i, int64_t round) const override {
    return Phase(round).InNeighbors(i, round);
  }
  int period() const override { return static_cast<int>(phases_.size()); }
  std::string Fingerprint() const override;

  // The static graph used at round t (1-based; rounds < 1 are treated as round 1).
  const StaticTopology& Phase(int64_t round) const;
  const std::vector<std::shared_ptr<const StaticTopology>>& phases() const { return phases_; }

 private:
  explicit ScheduleTopology(std::vector<std::shared_ptr<const StaticTopology>> phases)
      : phases_(std::move(phases)) {}
  std::vector<std::shared_ptr<const StaticTopology>> phases_;
};

// The static graph a Topology uses at `round` (works for both classes above; for another
// Topology implementation, a StaticTopology copy of that round's rows).
std::shared_ptr<const StaticTopology> PhaseAt(const std::shared_ptr<const Topology>& topology,
                                              int64_t round);

}  // namespace hearsay
