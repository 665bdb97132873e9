#include "topology/graph.h"

#include <algorithm>
#include <deque>

namespace hearsay {

void Graph::Normalize() {
  std::vector<std::pair<int, int>> out;
  out.reserve(edges.size());
  for (auto [u, v] : edges) {
    if (u == v) continue;
    if (!directed && u > v) std::swap(u, v);
    out.emplace_back(u, v);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  edges = std::move(out);
}

std::vector<std::vector<int>> Graph::InAdjacency() const {
  std::vector<std::vector<int>> adj(n);
  for (auto [u, v] : edges) {
    adj[v].push_back(u);
    if (!directed) adj[u].push_back(v);
  }
  for (auto& a : adj) {
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
  }
  return adj;
}

std::vector<std::vector<int>> Graph::OutAdjacency() const {
  std::vector<std::vector<int>> adj(n);
  for (auto [u, v] : edges) {
    adj[u].push_back(v);
    if (!directed) adj[v].push_back(u);
  }
  for (auto& a : adj) {
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
  }
  return adj;
}

std::vector<std::vector<int>> WeakComponents(int n, const std::vector<std::vector<int>>& adj_in,
                                             const std::vector<std::vector<int>>& adj_out) {
  std::vector<int> comp(n, -1);
  std::vector<std::vector<int>> result;
  for (int s = 0; s < n; ++s) {
    if (comp[s] >= 0) continue;
    const int c = static_cast<int>(result.size());
    result.emplace_back();
    std::deque<int> queue{s};
    comp[s] = c;
    while (!queue.empty()) {
      int u = queue.front();
      queue.pop_front();
      result[c].push_back(u);
      for (const auto* adj : {&adj_in, &adj_out}) {
        for (int v : (*adj)[u]) {
          if (comp[v] < 0) {
            comp[v] = c;
            queue.push_back(v);
          }
        }
      }
    }
    std::sort(result[c].begin(), result[c].end());
  }
  return result;
}

std::vector<int> BfsDistances(const std::vector<std::vector<int>>& adj, int source) {
  std::vector<int> dist(adj.size(), -1);
  std::vector<int> queue;
  queue.reserve(adj.size());
  queue.push_back(source);
  dist[source] = 0;
  for (size_t head = 0; head < queue.size(); ++head) {
    int u = queue[head];
    for (int v : adj[u]) {
      if (dist[v] < 0) {
        dist[v] = dist[u] + 1;
        queue.push_back(v);
      }
    }
  }
  return dist;
}

std::string FormatNodeSet(const std::vector<int>& nodes) {
  constexpr size_t kShow = 8;
  std::string s = "{";
  for (size_t i = 0; i < nodes.size() && i < kShow; ++i) {
    if (i) s += ", ";
    s += std::to_string(nodes[i]);
  }
  if (nodes.size() > kShow) {
    s +=
        ", ..., " + std::to_string(nodes.back()) + "} (" + std::to_string(nodes.size()) + " nodes)";
  } else {
    s += "}";
  }
  return s;
}

}  // namespace hearsay
