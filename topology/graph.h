// Graph: the edge set of a gossip graph before weights are chosen, plus the graph algorithms the
// validator and the analysis share (components, strong connectivity, BFS distances).
//
// Nodes are 0..n-1. An undirected graph stores each edge once with u < v; a directed graph
// stores (from, to) pairs: `from` sends to `to`, so `from` is an in-neighbour of `to` and
// W[to][from] > 0. Edges are sorted and free of duplicates and self-loops after Normalize().
// Thread-safety: a value type.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hearsay {

struct Graph {
  int n = 0;
  bool directed = false;
  std::vector<std::pair<int, int>> edges;

  // Sorts, drops self-loops and duplicates (and orients undirected edges u < v).
  void Normalize();
  // Neighbours j != i that i receives from (ascending); for undirected graphs: all neighbours.
  std::vector<std::vector<int>> InAdjacency() const;
  // Neighbours j != i that i sends to (ascending).
  std::vector<std::vector<int>> OutAdjacency() const;
  bool operator==(const Graph&) const = default;
};

// Connected components of the graph with edge directions ignored, each sorted, ordered by
// their smallest node.
std::vector<std::vector<int>> WeakComponents(int n, const std::vector<std::vector<int>>& adj_in,
                                             const std::vector<std::vector<int>>& adj_out);
// BFS hop distances from `source` along `adj` (-1 where unreachable).
std::vector<int> BfsDistances(const std::vector<std::vector<int>>& adj, int source);
// "{0, 1, 2, 3}" -- or "{0, 1, ..., 99} (100 nodes)" for long lists.
std::string FormatNodeSet(const std::vector<int>& nodes);

}  // namespace hearsay
