#include "runtime/launch/evaluate.h"

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string_view>

#include "runtime/launch/metrics_line.h"
#include "runtime/peer/run_config.h"

namespace hearsay {
namespace {

Status ReadModel(const std::string& path, size_t d, std::vector<float>* x) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return NotFound(path + ": missing model snapshot");
  const auto size = static_cast<size_t>(f.tellg());
  if (size != d * sizeof(float)) {
    return Corruption(path + ": " + std::to_string(size) + " bytes, expected " +
                      std::to_string(d * sizeof(float)) + " (" + std::to_string(d) +
                      " float32 parameters)");
  }
  x->resize(d);
  f.seekg(0);
  f.read(reinterpret_cast<char*>(x->data()), static_cast<std::streamsize>(size));
  return Status::Ok();
}

// A number field; null (a non-finite value the writer could not express) and absent read as
// `fallback`.
double Number(const nlohmann::json& j, const char* key, double fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

void Evaluate(const Workload& workload, std::span<const float> x, EvalPoint* p) {
  const Model& model = *workload.model;
  p->train_loss = model.Loss(x, workload.train.AsBatch());
  p->test_loss = model.Loss(x, workload.test.AsBatch());
  p->accuracy = model.Accuracy(x, workload.test.AsBatch());
}

}  // namespace

namespace {

// The fast path (metrics_line.h) for lines as hearsay writes them; anything else goes to the
// JSON parser.
bool ParseOwnMetricsLine(std::string_view line, int64_t* round, RoundMetrics* m) {
  return IsOwnMetricsLine(line) && MetricsField<int64_t>(line, "round", 0, round) &&
         MetricsField<double>(line, "wall_s", 0, &m->wall_s) &&
         MetricsField<double>(line, "bytes_sent", 0, &m->bytes_sent) &&
         MetricsField<double>(line, "max_staleness", 0, &m->max_staleness) &&
         MetricsField<double>(line, "mean_staleness", 0, &m->mean_staleness);
}

}  // namespace

std::map<int64_t, RoundMetrics> ReadPeerMetrics(const std::string& run_dir, int peer) {
  std::map<int64_t, RoundMetrics> out;
  const auto take = [&](std::string_view line) {
    int64_t r = 0;
    RoundMetrics m;
    if (ParseOwnMetricsLine(line, &r, &m)) {
      out.insert_or_assign(out.end(), r, m);  // rounds come in order: O(1) with the hint
      return;
    }
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return;
    auto round = j.find("round");
    if (round == j.end() || !round->is_number_integer()) return;
    out[round->get<int64_t>()] = {Number(j, "wall_s", 0), Number(j, "bytes_sent", 0),
                                  Number(j, "max_staleness", 0), Number(j, "mean_staleness", 0)};
  };
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(
      std::fopen((run_dir + "/peer_" + std::to_string(peer) + ".jsonl").c_str(), "rb"),
      &std::fclose);
  if (!file) return out;
  std::FILE* f = file.get();
  // In blocks (a line per round: the launcher reads every peer's file after a run); a line cut
  // by a block's end is finished by the next block.
  constexpr size_t kBlock = 1 << 18;
  std::string buf(kBlock, '\0');
  size_t kept = 0;  // bytes of a partial line at the front of buf
  while (true) {
    if (buf.size() < kept + kBlock) buf.resize(kept + kBlock);
    const size_t got = std::fread(buf.data() + kept, 1, kBlock, f);
    const size_t end = kept + got;
    size_t pos = 0;
    while (const void* nl = std::memchr(buf.data() + pos, '\n', end - pos)) {
      const size_t at = static_cast<const char*>(nl) - buf.data();
      take(std::string_view(buf.data() + pos, at - pos));
      pos = at + 1;
    }
    kept = end - pos;
    if (got == 0) {
      if (kept > 0) take(std::string_view(buf.data() + pos, kept));  // no newline at the end
      break;
    }
    std::memmove(buf.data(), buf.data() + pos, kept);
  }
  return out;
}

RunMetrics ReadRunMetrics(const std::string& run_dir, int num_peers) {
  RunMetrics metrics(num_peers);
  for (int i = 0; i < num_peers; ++i) metrics[i] = ReadPeerMetrics(run_dir, i);
  return metrics;
}

RunStaleness StalenessOf(const RunMetrics& metrics) {
  RunStaleness s;
  double sum = 0;
  int64_t count = 0;
  for (const auto& peer : metrics) {
    for (const auto& [round, m] : peer) {
      s.max = std::max(s.max, static_cast<int64_t>(m.max_staleness));
      sum += m.mean_staleness;
      ++count;
    }
  }
  s.mean = count ? sum / static_cast<double>(count) : 0.0;
  return s;
}

EvalPoint EvaluateInitialModel(const Workload& workload, uint64_t seed) {
  std::vector<float> x0(workload.model->num_params());
  workload.model->Init(seed, x0);
  EvalPoint p;
  Evaluate(workload, x0, &p);
  return p;
}

namespace {

// The average of the models in `paths` (one per peer, in peer-id order), evaluated.
Result<EvalPoint> EvaluateModels(const Workload& workload, const std::vector<std::string>& paths) {
  const int num_peers = static_cast<int>(paths.size());
  const size_t d = workload.model->num_params();
  std::vector<std::vector<float>> xs(num_peers);
  std::vector<double> sum(d, 0.0);
  for (int i = 0; i < num_peers; ++i) {
    HEARSAY_RETURN_IF_ERROR(ReadModel(paths[i], d, &xs[i]));
    for (size_t k = 0; k < d; ++k) sum[k] += xs[i][k];
  }
  std::vector<float> avg(d);
  for (size_t k = 0; k < d; ++k) avg[k] = static_cast<float>(sum[k] / num_peers);
  double consensus = 0;
  for (int i = 0; i < num_peers; ++i) {
    for (size_t k = 0; k < d; ++k) {
      const double diff = static_cast<double>(xs[i][k]) - avg[k];
      consensus += diff * diff;
    }
  }
  EvalPoint p;
  p.consensus = consensus / num_peers;
  Evaluate(workload, avg, &p);
  return p;
}

}  // namespace

Result<EvalPoint> EvaluateRound(const Workload& workload, const std::string& run_dir,
                                const std::vector<std::map<int64_t, RoundMetrics>>& metrics,
                                int64_t round, const std::vector<char>* alive) {
  const int num_peers = static_cast<int>(metrics.size());
  std::vector<std::string> paths;
  std::vector<int> peers;
  for (int i = 0; i < num_peers; ++i) {
    std::string path =
        run_dir + "/snap_r" + std::to_string(round) + "_p" + std::to_string(i) + ".f32";
    // A peer that did not run this round -- dead by then, or dead at the time and restarted
    // later (its metrics have no line of it) -- is not averaged in; one that ran it must have
    // left its model.
    std::error_code ec;
    const bool ran = metrics[i].count(round) > 0 && !(alive && !(*alive)[i]);
    if (!ran && !std::filesystem::exists(path, ec)) continue;
    paths.push_back(std::move(path));
    peers.push_back(i);
  }
  if (paths.empty())
    return NotFound(run_dir + ": no peer left a model of round " + std::to_string(round));
  HEARSAY_ASSIGN_OR_RETURN(EvalPoint p, EvaluateModels(workload, paths));
  p.round = round;
  double mb = 0;
  for (int i : peers) {
    auto m = metrics[i].find(round);
    if (m == metrics[i].end()) continue;
    p.wall_s = std::max(p.wall_s, m->second.wall_s);
    mb += m->second.bytes_sent / 1e6;
  }
  p.mb_sent_per_peer = mb / static_cast<double>(peers.size());
  return p;
}

Status WriteTimeCurve(const std::string& run_dir, const std::vector<EvalPoint>& points) {
  std::ofstream out(run_dir + "/eval_time.jsonl", std::ios::trunc);
  for (const EvalPoint& p : points) {
    nlohmann::json j = {{"time_s", p.wall_s},
                        {"train_loss", p.train_loss},
                        {"test_loss", p.test_loss},
                        {"accuracy", p.accuracy},
                        {"consensus_distance", p.consensus}};
    out << j.dump() << '\n';
  }
  if (!out) return Unavailable(run_dir + "/eval_time.jsonl: cannot write");
  return Status::Ok();
}

Result<std::vector<EvalPoint>> EvaluateTimeGrid(const Workload& workload,
                                                const std::string& run_dir, int num_peers,
                                                double eval_every_s,
                                                const std::vector<char>* alive) {
  std::vector<EvalPoint> points;
  if (eval_every_s <= 0) return points;
  for (int64_t k = 1;; ++k) {
    std::vector<std::string> paths;
    bool complete = true;
    for (int i = 0; i < num_peers && complete; ++i) {
      std::string path =
          run_dir + "/snap_t" + std::to_string(k) + "_p" + std::to_string(i) + ".f32";
      std::error_code ec;
      if (std::filesystem::exists(path, ec)) {
        paths.push_back(std::move(path));
      } else if (!alive || (*alive)[i]) {
        complete = false;  // a live peer had finished before this grid time
      }
    }
    if (!complete || paths.empty()) break;
    HEARSAY_ASSIGN_OR_RETURN(EvalPoint p, EvaluateModels(workload, paths));
    p.wall_s = static_cast<double>(k) * eval_every_s;
    points.push_back(p);
  }
  if (!points.empty()) HEARSAY_RETURN_IF_ERROR(WriteTimeCurve(run_dir, points));
  return points;
}

Result<std::vector<EvalPoint>> EvaluateRun(const Workload& workload, const std::string& run_dir,
                                           int num_peers, uint64_t seed, int64_t rounds,
                                           int64_t eval_every, const std::vector<char>* alive,
                                           const RunMetrics* given) {
  const RunMetrics read = given ? RunMetrics() : ReadRunMetrics(run_dir, num_peers);
  const RunMetrics& metrics = given ? *given : read;
  int64_t last = std::numeric_limits<int64_t>::max();
  for (int i = 0; i < num_peers; ++i) {
    if (alive && !(*alive)[i]) continue;
    last = std::min(last, metrics[i].empty() ? int64_t{0} : metrics[i].rbegin()->first);
  }
  // Bounded by its duration: no round limit, or one that the time ran out before (a run with
  // both `rounds` and `duration:`, some live peer short of `rounds`).
  const bool by_time = rounds == kUnlimitedRounds || last < rounds;
  if (!by_time) last = rounds;
  std::vector<EvalPoint> curve = {EvaluateInitialModel(workload, seed)};
  for (int64_t k = 1; last > 0 && k <= (last - 1) / eval_every; ++k) {  // k * eval_every < last
    HEARSAY_ASSIGN_OR_RETURN(EvalPoint p,
                             EvaluateRound(workload, run_dir, metrics, k * eval_every, alive));
    curve.push_back(p);
  }
  if (last > 0 && !by_time) {
    HEARSAY_ASSIGN_OR_RETURN(EvalPoint p, EvaluateRound(workload, run_dir, metrics, last, alive));
    curve.push_back(p);
  } else if (last > 0) {
    // A run bounded by its duration: peers stop wherever the time runs out, so the last point is
    // their final models, labelled with the last round every peer completed.
    std::vector<std::string> paths;
    double mb = 0;
    EvalPoint p;
    for (int i = 0; i < num_peers; ++i) {
      if (alive && !(*alive)[i]) continue;
      paths.push_back(run_dir + "/peer_" + std::to_string(i) + ".final.f32");
      p.wall_s = std::max(p.wall_s, metrics[i].rbegin()->second.wall_s);
      mb += metrics[i].rbegin()->second.bytes_sent / 1e6;
    }
    const double wall_s = p.wall_s;
    HEARSAY_ASSIGN_OR_RETURN(p, EvaluateModels(workload, paths));
    p.round = last;
    p.wall_s = wall_s;
    p.mb_sent_per_peer = mb / static_cast<double>(paths.size());
    curve.push_back(p);
  }
  HEARSAY_RETURN_IF_ERROR(WriteRoundCurve(run_dir, curve, /*simulated=*/false));
  return curve;
}

namespace {

// The points of one curve file as Write{Round,Time}Curve wrote them (`time_key`: the key of
// wall_s); `first_simulated`: whether its first line carries "simulated": true.
Status ReadCurveFile(const std::string& path, const char* time_key, std::vector<EvalPoint>* out,
                     bool* first_simulated) {
  std::ifstream f(path, std::ios::binary);
  std::string line;
  for (int n = 1; std::getline(f, line); ++n) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    auto number = [&](const char* key) { return j.is_object() ? Number(j, key, NAN) : NAN; };
    if (n == 1 && first_simulated) {
      auto s = j.is_object() ? j.find("simulated") : j.end();
      *first_simulated = s != j.end() && s->is_boolean() && s->get<bool>();
      if (!*first_simulated) return Status::Ok();  // a real run's: evaluated again from snapshots
    }
    if (!j.is_object() || !std::isfinite(number(time_key))) {
      return Corruption(path + ":" + std::to_string(n) + ": not a point of an evaluation curve");
    }
    EvalPoint p;
    p.round = static_cast<int64_t>(std::isfinite(number("round")) ? number("round") : 0);
    p.wall_s = number(time_key);
    p.mb_sent_per_peer = std::isfinite(number("mb_sent_per_peer")) ? number("mb_sent_per_peer") : 0;
    p.train_loss = number("train_loss");
    p.test_loss = number("test_loss");
    p.accuracy = number("accuracy");
    p.consensus = number("consensus_distance");
    out->push_back(p);
  }
  return Status::Ok();
}

}  // namespace

Status ReadSimulatedCurves(const std::string& run_dir, bool* simulated,
                           std::vector<EvalPoint>* curve, std::vector<EvalPoint>* time_curve) {
  *simulated = false;
  std::vector<EvalPoint> points, time_points;
  HEARSAY_RETURN_IF_ERROR(ReadCurveFile(run_dir + "/eval.jsonl", "wall_s", &points, simulated));
  if (!*simulated) return Status::Ok();
  if (points.empty() || points.front().round != 0) {
    return Corruption(run_dir + "/eval.jsonl: a simulated run's curve must start at round 0");
  }
  HEARSAY_RETURN_IF_ERROR(
      ReadCurveFile(run_dir + "/eval_time.jsonl", "time_s", &time_points, nullptr));
  *curve = std::move(points);
  *time_curve = std::move(time_points);
  return Status::Ok();
}

Status WriteRoundCurve(const std::string& run_dir, const std::vector<EvalPoint>& curve,
                       bool simulated) {
  std::ofstream out(run_dir + "/eval.jsonl", std::ios::trunc);
  for (const EvalPoint& p : curve) {
    nlohmann::json j = {{"round", p.round},
                        {"wall_s", p.wall_s},
                        {"mb_sent_per_peer", p.mb_sent_per_peer},
                        {"train_loss", p.train_loss},
                        {"test_loss", p.test_loss},
                        {"accuracy", p.accuracy},
                        {"consensus_distance", p.consensus}};
    if (simulated) j["simulated"] = true;
    out << j.dump() << '\n';
  }
  if (!out) return Unavailable(run_dir + "/eval.jsonl: cannot write");
  return Status::Ok();
}

}  // namespace hearsay
