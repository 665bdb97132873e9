#include "topology/static_topology.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace hearsay {
namespace {

// FNV-1a 64 over raw bytes: the fingerprint must be identical on every host (IEEE doubles,
// little-endian x86/arm hosts; weights are hashed by their bit patterns).
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void Add(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  }
  template <typename T>
  void AddValue(T v) {
    Add(&v, sizeof(v));
  }
};

std::string Hex(uint64_t v) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[i] = kDigits[v & 15];
  return s;
}

}  // namespace

Result<std::shared_ptr<const StaticTopology>> StaticTopology::Create(WeightRows rows) {
  const int n = static_cast<int>(rows.size());
  if (n == 0) return InvalidArgument("a topology needs at least one node");
  for (int i = 0; i < n; ++i) {
    bool has_self = false;
    for (size_t k = 0; k < rows[i].size(); ++k) {
      const Neighbor& e = rows[i][k];
      if (e.id < 0 || e.id >= n) {
        return InvalidArgument("row " + std::to_string(i) + " of weights names node " +
                               std::to_string(e.id) + " (nodes are 0.." + std::to_string(n - 1) +
                               ")");
      }
      if (k > 0 && rows[i][k - 1].id >= e.id) {
        return InvalidArgument("row " + std::to_string(i) +
                               " of weights is not in ascending node order");
      }
      if (!std::isfinite(e.weight) || e.weight < 0) {
        return InvalidArgument("weight W[" + std::to_string(i) + "][" + std::to_string(e.id) +
                               "] = " + std::to_string(e.weight) +
                               "; weights must be finite and non-negative");
      }
      has_self |= e.id == i;
    }
    if (!has_self)
      rows[i].insert(std::lower_bound(rows[i].begin(), rows[i].end(), i,
                                      [](const Neighbor& a, int id) { return a.id < id; }),
                     Neighbor{i, 0.0});
  }
  return std::shared_ptr<const StaticTopology>(new StaticTopology(std::move(rows)));
}

StaticTopology::StaticTopology(WeightRows rows) : rows_(std::move(rows)) {
  const int n = size();
  in_.resize(n);
  out_.resize(n);
  for (int i = 0; i < n; ++i) {
    for (const Neighbor& e : rows_[i]) {
      if (e.id == i) continue;
      in_[i].push_back(e.id);
      out_[e.id].push_back(i);  // i sorted ascending by construction of the loop
      ++links_;
    }
  }
  for (int i = 0; i < n && symmetric_; ++i) {
    for (const Neighbor& e : rows_[i]) {
      if (Weight(e.id, i) != e.weight) {
        symmetric_ = false;
        break;
      }
    }
  }
}

double StaticTopology::Weight(int i, int j) const {
  const auto& row = rows_[i];
  auto it = std::lower_bound(row.begin(), row.end(), j,
                             [](const Neighbor& a, int id) { return a.id < id; });
  return (it != row.end() && it->id == j) ? it->weight : 0.0;
}

std::string StaticTopology::Fingerprint() const {
  Fnv f;
  for (int i = 0; i < size(); ++i) {
    f.AddValue<int32_t>(i);
    for (const Neighbor& e : rows_[i]) {
      f.AddValue<int32_t>(e.id);
      f.AddValue<double>(e.weight);
    }
  }
  return "static n=" + std::to_string(size()) + " links=" + std::to_string(links_) +
         " w=" + Hex(f.h);
}

Result<std::shared_ptr<const ScheduleTopology>> ScheduleTopology::Create(
    std::vector<std::shared_ptr<const StaticTopology>> phases) {
  if (phases.empty()) return InvalidArgument("a graph sequence needs at least one graph");
  for (size_t k = 0; k < phases.size(); ++k) {
    if (!phases[k])
      return InvalidArgument("graph " + std::to_string(k) + " of the sequence is empty");
    if (phases[k]->size() != phases[0]->size()) {
      return InvalidArgument("graph " + std::to_string(k) + " of the sequence has " +
                             std::to_string(phases[k]->size()) + " nodes but graph 0 has " +
                             std::to_string(phases[0]->size()) +
                             "; every graph of a sequence has the same nodes");
    }
  }
  return std::shared_ptr<const ScheduleTopology>(new ScheduleTopology(std::move(phases)));
}

const StaticTopology& ScheduleTopology::Phase(int64_t round) const {
  const int64_t p = static_cast<int64_t>(phases_.size());
  const int64_t t = round < 1 ? 0 : (round - 1) % p;
  return *phases_[t];
}

std::string ScheduleTopology::Fingerprint() const {
  std::string s = "schedule period=" + std::to_string(phases_.size());
  for (const auto& p : phases_) s += " [" + p->Fingerprint() + "]";
  return s;
}

std::shared_ptr<const StaticTopology> PhaseAt(const std::shared_ptr<const Topology>& topology,
                                              int64_t round) {
  if (auto st = std::dynamic_pointer_cast<const StaticTopology>(topology)) return st;
  if (const auto* s = dynamic_cast<const ScheduleTopology*>(topology.get())) {
    return s->phases()[(round < 1 ? 0 : (round - 1) % s->period())];
  }
  WeightRows rows(topology->size());
  for (int i = 0; i < topology->size(); ++i) rows[i] = topology->Row(i, round);
  auto r = StaticTopology::Create(std::move(rows));
  return r.ok() ? r.value() : nullptr;
}

}  // namespace hearsay
