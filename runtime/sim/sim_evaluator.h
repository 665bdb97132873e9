// SimEvaluator: the simulator's evaluation of the average model at each snapshot key, with the
// launcher's arithmetic (runtime/launch/evaluate.h): it collects the peers' snapshots per key and
// evaluates once every peer expected at that key has reported -- all of them, but a killed peer
// only until it died, and a restarted one only from the round it rejoined at.
// Internal to runtime/sim (simulator.cc). Thread-safety: none; the simulation's thread.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "runtime/peer/peer_core.h"
#include "runtime/peer/workload.h"
#include "runtime/sim/simulator.h"

namespace hearsay {

// Collects snapshots per key and evaluates the average model once every peer has reported it,
// with the launcher's arithmetic (average in double, in peer order).
class SimEvaluator {
 public:
  SimEvaluator(const Workload& workload, int n) : workload_(workload), n_(n) {}

  void Add(const SnapshotKey& key, int peer, std::span<const float> x, double now,
           uint64_t bytes_sent) {
    const std::pair<int, int64_t> k{static_cast<int>(key.kind), key.index};
    Pending& p = pending_[k];
    if (p.models.empty()) p.models.resize(n_);
    if (!p.models[peer].empty()) return;
    p.models[peer].assign(x.begin(), x.end());
    p.wall = std::max(p.wall, now);
    p.bytes += static_cast<double>(bytes_sent);
    ++p.count;
    MaybeEvaluate(k);
  }

  // A killed peer reports no more snapshots: keys wait only for the others (the launcher's
  // evaluation of real runs does the same -- the dead peer counts until it died).
  // A restarted peer's first round after its rejoin: it is expected again from that round on.
  void Rejoined(int peer, int64_t round) {
    if (!killed_.erase(peer)) return;
    rejoined_at_[peer] = round;
  }

  void Killed(int peer) {
    killed_.insert(peer);
    std::vector<std::pair<int, int64_t>> keys;
    for (const auto& [k, p] : pending_) keys.push_back(k);
    for (const auto& k : keys) MaybeEvaluate(k);
  }

  std::vector<SimEvalPoint> Take() {
    std::sort(done_.begin(), done_.end(), [](const SimEvalPoint& a, const SimEvalPoint& b) {
      if (a.key.kind != b.key.kind) return a.key.kind < b.key.kind;
      return a.key.index < b.key.index;
    });
    return std::move(done_);
  }

 private:
  struct Pending {
    std::vector<std::vector<float>> models;
    int count = 0;
    double wall = 0, bytes = 0;
  };

  void MaybeEvaluate(const std::pair<int, int64_t>& k) {
    auto it = pending_.find(k);
    if (it == pending_.end()) return;
    int expected = n_;
    for (int peer : killed_) expected -= it->second.models[peer].empty() ? 1 : 0;
    for (const auto& [peer, round] : rejoined_at_) {
      const bool before =
          k.first == static_cast<int>(SnapshotKey::Kind::kRound) && k.second < round;
      if (before && !killed_.count(peer) && it->second.models[peer].empty()) --expected;
    }
    if (it->second.count < expected || it->second.count == 0) return;
    done_.push_back(Evaluate({static_cast<SnapshotKey::Kind>(k.first), k.second}, it->second));
    pending_.erase(it);
  }

  SimEvalPoint Evaluate(SnapshotKey key, const Pending& p) const {
    const Model& model = *workload_.model;
    const size_t d = model.num_params();
    std::vector<double> sum(d, 0.0);
    for (const auto& x : p.models) {
      for (size_t k = 0; k < x.size(); ++k) sum[k] += x[k];
    }
    const int m = p.count;  // the peers that reported (all but the killed ones)
    std::vector<float> avg(d);
    for (size_t k = 0; k < d; ++k) avg[k] = static_cast<float>(sum[k] / m);
    double consensus = 0;
    for (const auto& x : p.models) {
      for (size_t k = 0; k < x.size(); ++k) {
        const double diff = static_cast<double>(x[k]) - avg[k];
        consensus += diff * diff;
      }
    }
    SimEvalPoint e;
    e.key = key;
    e.wall_s = p.wall;
    e.mb_sent_per_peer = p.bytes / 1e6 / m;
    e.consensus = consensus / m;
    e.train_loss = model.Loss(avg, workload_.train.AsBatch());
    e.test_loss = model.Loss(avg, workload_.test.AsBatch());
    e.accuracy = model.Accuracy(avg, workload_.test.AsBatch());
    return e;
  }

  const Workload& workload_;
  const int n_;
  std::map<std::pair<int, int64_t>, Pending> pending_;
  std::vector<SimEvalPoint> done_;
  std::set<int> killed_;
  std::map<int, int64_t> rejoined_at_;  // restarted peers: the first round they report again
};

}  // namespace hearsay
