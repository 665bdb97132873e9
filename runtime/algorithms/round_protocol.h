// RoundProtocol: the Begin/Absorb/End bookkeeping of algorithm.h, written once for every
// implementation of Algorithm (GossipAlgorithm on the CPU, CudaGossip on the device).
//
// It only checks and records; the caller runs its update rule between a check and the matching
// commit, so a failed rule leaves the protocol state unchanged as well:
//   Begin(t):     CheckBegin(t) ... LookUpRow(t) ... [rule] ... Open(t, row)
//   Absorb(t, j): pos = CheckAbsorb(t, j) ... [rule] ... Absorbed(pos)
//   End(t):       CheckEnd(t) ... [rule] ... Close()
// The checks are those of algorithm.h. Synchronous protocol (the default): no round open and t
// above the last finished round; j in N[i] = Row(i, t), each j once, in ascending j (ALGORITHMS.md
// invariant 4); End only after every j was absorbed. Asynchronous protocol (`async`): payloads
// may be of any round, but each link's payloads are absorbed in consecutive rounds 1, 2, 3, ...
// (per-link order, nothing lost or repeated: what keeps replicas exact, invariant 2), and End(t)
// only requires the peer's own payload of round t. Violations are FailedPrecondition (order) or
// InvalidArgument (j not in N[i]); messages start with "<name> peer <self>: ", `name` being the
// algorithm's name.
// The row is borrowed from the Topology, which must outlive the open round.
// Thread-safety: none; one peer's compute thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "topology/topology.h"

namespace hearsay {

// Begin's learning-rate check, shared by the implementations: finite and >= 0.
[[nodiscard]] Status CheckLearningRate(const std::string& name, float lr);

class RoundProtocol {
 public:
  // A row of Row(self, t) with self's position in it.
  struct RoundRow {
    const std::vector<Neighbor>* row = nullptr;
    size_t self_pos = 0;
  };

  explicit RoundProtocol(int self, bool async = false) : self_(self), async_(async) {}

  // FailedPrecondition while a round is open or when `round` is not above the last round.
  [[nodiscard]] Status CheckBegin(const std::string& name, int64_t round) const;
  // Row(self, round) and self's position in it; Internal when the row lacks self.
  [[nodiscard]] Result<RoundRow> LookUpRow(const Topology& topology, int64_t round) const;
  // Opens `round` with `row` (from LookUpRow); nothing is absorbed yet.
  void Open(int64_t round, RoundRow row);

  // The position of `from` in the open round's row, if its payload of `round` may be absorbed now.
  [[nodiscard]] Result<size_t> CheckAbsorb(const std::string& name, int64_t round, int from) const;
  // Records that the payload of `round` at row position `pos` (from CheckAbsorb) was absorbed.
  void Absorbed(size_t pos, int64_t round);
  void Absorbed(size_t pos) { Absorbed(pos, round_); }

  // FailedPrecondition unless `round` is open and every row position was absorbed.
  [[nodiscard]] Status CheckEnd(const std::string& name, int64_t round) const;
  // Closes the open round.
  void Close() { in_round_ = false; }
  // Checkpoints: puts the protocol back after round `round` ended (no round open), with the
  // async per-position last rounds `last` (empty, or one per row position).
  [[nodiscard]] Status Restore(const Topology& topology, int64_t round, std::vector<int64_t> last);
  // Rejoin: the payload expected next from row position `pos` is that of round `last` + 1.
  void SetLastAbsorbed(size_t pos, int64_t last) {
    if (pos < last_.size()) last_[pos] = last;
  }

  int self() const { return self_; }
  // The open (or last) round's row, in ascending peer id; only valid after the first Open.
  const std::vector<Neighbor>& row() const { return *row_.row; }
  size_t self_pos() const { return row_.self_pos; }
  bool in_round() const { return in_round_; }
  bool async() const { return async_; }
  // Async protocol: the last round absorbed from each row position (0 = none yet).
  const std::vector<int64_t>& last_absorbed() const { return last_; }
  // The open round, or the last finished one (0 before the first).
  int64_t round() const { return round_; }

 private:
  std::string Who(const std::string& name) const;  // "<name> peer <self>"
  Result<size_t> CheckAbsorbAsync(const std::string& name, int64_t round, int from) const;

  int self_;
  bool async_;
  RoundRow row_;
  bool in_round_ = false;
  int64_t round_ = 0;
  size_t absorbed_ = 0;        // sync: row positions [0, absorbed_) are done (ascending order)
  std::vector<int64_t> last_;  // async: last round absorbed per row position (static rows)
};

}  // namespace hearsay
