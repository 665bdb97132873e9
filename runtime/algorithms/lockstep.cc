#include "runtime/algorithms/lockstep.h"

#include <string>
#include <utility>

namespace hearsay {

std::vector<float> AverageModel(const std::vector<std::vector<float>>& models) {
  if (models.empty()) return {};
  std::vector<double> sum(models[0].size(), 0.0);
  for (const auto& m : models) {
    for (size_t k = 0; k < sum.size(); ++k) sum[k] += m[k];
  }
  std::vector<float> avg(sum.size());
  const double inv = 1.0 / static_cast<double>(models.size());
  for (size_t k = 0; k < sum.size(); ++k) avg[k] = static_cast<float>(sum[k] * inv);
  return avg;
}

double ConsensusDistance(const std::vector<std::vector<float>>& models,
                         const std::vector<float>& average) {
  if (models.empty()) return 0;
  double total = 0;
  for (const auto& m : models) {
    for (size_t k = 0; k < average.size(); ++k) {
      const double e = static_cast<double>(m[k]) - average[k];
      total += e * e;
    }
  }
  return total / static_cast<double>(models.size());
}

Result<LockstepResult> RunLockstep(const LockstepOptions& o) {
  if (o.topology == nullptr) return InvalidArgument("lockstep: no topology");
  if (o.model == nullptr) return InvalidArgument("lockstep: no model");
  const int n = o.topology->size();
  if (static_cast<int>(o.samplers.size()) != n) {
    return InvalidArgument("lockstep: " + std::to_string(o.samplers.size()) + " samplers for " +
                           std::to_string(n) + " peers");
  }
  if (o.rounds < 1) return InvalidArgument("lockstep: rounds must be >= 1");
  HEARSAY_RETURN_IF_ERROR(o.lr.Validate());
  const size_t d = o.model->num_params();
  std::vector<float> x0 = o.x0;
  if (x0.empty()) {
    x0.resize(d);
    o.model->Init(o.init_seed, x0);
  } else if (x0.size() != d) {
    return InvalidArgument("lockstep: x0 has " + std::to_string(x0.size()) +
                           " values; the model has " + std::to_string(d));
  }

  std::vector<std::unique_ptr<Algorithm>> peers;
  for (int i = 0; i < n; ++i) {
    std::unique_ptr<Compressor> codec;
    if (o.algorithm.name != "dpsgd") {
      Result<std::unique_ptr<Compressor>> c =
          o.make_compressor ? o.make_compressor() : MakeCompressor(o.compressor);
      if (!c.ok()) return c.status();
      codec = std::move(c).value();
    }
    HEARSAY_ASSIGN_OR_RETURN(auto alg,
                             MakeAlgorithm(o.algorithm, o.topology, i, x0, std::move(codec)));
    peers.push_back(std::move(alg));
  }
  std::vector<MinibatchSampler> samplers = o.samplers;
  std::vector<ByteBuffer> out(static_cast<size_t>(n));
  std::vector<float> grad(d);
  LockstepResult result;
  result.bytes_sent.assign(static_cast<size_t>(n), 0);
  std::vector<std::vector<float>> models(static_cast<size_t>(n));

  auto evaluate = [&](int64_t t) {
    for (int i = 0; i < n; ++i) {
      const auto p = peers[static_cast<size_t>(i)]->params();
      models[static_cast<size_t>(i)].assign(p.begin(), p.end());
    }
    LockstepRound r;
    r.round = t;
    const std::vector<float> avg = AverageModel(models);
    r.consensus_distance = ConsensusDistance(models, avg);
    if (o.eval != nullptr) {
      const Batch all = o.eval->AsBatch();
      r.loss = o.model->Loss(avg, all);
      r.accuracy = o.model->Accuracy(avg, all);
    }
    result.history.push_back(r);
  };

  for (int64_t t = 1; t <= o.rounds; ++t) {
    const float lr = o.lr.At(t);
    for (int i = 0; i < n; ++i) {
      Algorithm& a = *peers[static_cast<size_t>(i)];
      const Batch batch = samplers[static_cast<size_t>(i)].Next(t);
      o.model->LossAndGradient(a.params(), batch, grad);
      Status s = a.Begin(t, grad, lr, &out[static_cast<size_t>(i)]);
      if (!s.ok()) {
        return s.WithPrefix("lockstep peer " + std::to_string(i) + " round " + std::to_string(t));
      }
      result.bytes_sent[static_cast<size_t>(i)] +=
          out[static_cast<size_t>(i)].size() * o.topology->OutNeighbors(i, t).size();
    }
    for (int i = 0; i < n; ++i) {
      Algorithm& a = *peers[static_cast<size_t>(i)];
      for (const Neighbor& nb : o.topology->Row(i, t)) {
        Status s = a.Absorb(t, nb.id, out[static_cast<size_t>(nb.id)]);
        if (!s.ok()) {
          return s.WithPrefix("lockstep peer " + std::to_string(i) + " round " + std::to_string(t));
        }
      }
      Status s = a.End(t);
      if (!s.ok()) {
        return s.WithPrefix("lockstep peer " + std::to_string(i) + " round " + std::to_string(t));
      }
    }
    if (o.eval_every > 0 && (t % o.eval_every == 0 || t == o.rounds)) evaluate(t);
  }
  if (result.history.empty() || result.history.back().round != o.rounds) evaluate(o.rounds);
  result.models = models;
  result.average = AverageModel(models);
  return result;
}

}  // namespace hearsay
