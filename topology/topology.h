// Topology: the gossip graph and its mixing weights (DESIGN.md "Core seams").
//
// For peer i at round t (1-based), Row(i, t) lists (j, W_ij) for every j in N[i] -- the
// in-neighbours of i plus i itself -- in ascending j (ALGORITHMS.md invariant 4: reductions go in
// peer-id order). OutNeighbors(i, t) lists the peers j != i that need i's round-t message
// (W_ji > 0), ascending. Static graphs ignore t; time-varying schedules implement the same
// interface. Thread-safety: immutable after construction; all methods are const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hearsay {

struct Neighbor {
  int id = 0;
  double weight = 0;
  bool operator==(const Neighbor&) const = default;
};

class Topology {
 public:
  virtual ~Topology() = default;

  virtual int size() const = 0;
  // Row i of W at round t, including i itself, ascending id.
  virtual const std::vector<Neighbor>& Row(int i, int64_t round) const = 0;
  // Peers j != i with W_ji > 0 at round t, ascending.
  virtual const std::vector<int>& OutNeighbors(int i, int64_t round) const = 0;
  // Peers j != i with W_ij > 0 at round t, ascending (the ids in Row minus i).
  virtual const std::vector<int>& InNeighbors(int i, int64_t round) const = 0;
  // Number of distinct rounds before the schedule repeats (1 for a static graph).
  virtual int period() const { return 1; }
  bool time_varying() const { return period() > 1; }
  // Stable text fingerprint of the graph and weights (same file -> same string on every host);
  // hashed into the handshake.
  virtual std::string Fingerprint() const = 0;
};

}  // namespace hearsay
