#include "runtime/launch/evaluate.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

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

// The metrics line of `round` in peer_<i>.jsonl, or an empty object.
nlohmann::json MetricsAt(const std::string& run_dir, int peer, int64_t round) {
  std::ifstream f(run_dir + "/peer_" + std::to_string(peer) + ".jsonl");
  std::string line;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.value("round", int64_t{-1}) == round) return j;
  }
  return nlohmann::json::object();
}

std::string Fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

}  // namespace

Result<EvalPoint> EvaluateRound(const Workload& workload, const std::string& run_dir, int num_peers,
                                int64_t round) {
  const Model& model = *workload.model;
  const size_t d = model.num_params();
  std::vector<std::vector<float>> xs(num_peers);
  std::vector<double> sum(d, 0.0);
  EvalPoint p;
  p.round = round;
  double mb = 0;
  for (int i = 0; i < num_peers; ++i) {
    HEARSAY_RETURN_IF_ERROR(
        ReadModel(run_dir + "/snap_r" + std::to_string(round) + "_p" + std::to_string(i) + ".f32",
                  d, &xs[i]));
    for (size_t k = 0; k < d; ++k) sum[k] += xs[i][k];
    const nlohmann::json m = MetricsAt(run_dir, i, round);
    p.wall_s = std::max(p.wall_s, m.value("wall_s", 0.0));
    mb += m.value("bytes_sent", 0.0) / 1e6;
  }
  p.mb_sent_per_peer = mb / num_peers;
  std::vector<float> avg(d);
  for (size_t k = 0; k < d; ++k) avg[k] = static_cast<float>(sum[k] / num_peers);
  double consensus = 0;
  for (int i = 0; i < num_peers; ++i) {
    for (size_t k = 0; k < d; ++k) {
      const double diff = static_cast<double>(xs[i][k]) - avg[k];
      consensus += diff * diff;
    }
  }
  p.consensus = consensus / num_peers;
  p.train_loss = model.Loss(avg, workload.train.AsBatch());
  p.test_loss = model.Loss(avg, workload.test.AsBatch());
  p.accuracy = model.Accuracy(avg, workload.test.AsBatch());
  return p;
}

Result<std::vector<EvalPoint>> EvaluateRun(const Workload& workload, const std::string& run_dir,
                                           int num_peers, int64_t rounds, int64_t eval_every) {
  std::vector<EvalPoint> curve;
  std::ofstream out(run_dir + "/eval.jsonl", std::ios::trunc);
  for (int64_t r = 1; r <= rounds; ++r) {
    if (r % eval_every != 0 && r != rounds) continue;
    HEARSAY_ASSIGN_OR_RETURN(EvalPoint p, EvaluateRound(workload, run_dir, num_peers, r));
    curve.push_back(p);
    nlohmann::json j = {{"round", p.round},
                        {"wall_s", p.wall_s},
                        {"mb_sent_per_peer", p.mb_sent_per_peer},
                        {"train_loss", p.train_loss},
                        {"test_loss", p.test_loss},
                        {"accuracy", p.accuracy},
                        {"consensus_distance", p.consensus}};
    out << j.dump() << '\n';
  }
  if (!out) return Unavailable(run_dir + "/eval.jsonl: cannot write");
  return curve;
}

Status WriteSummaryFiles(const std::vector<RunSummary>& runs, const std::string& out_dir) {
  std::ofstream s(out_dir + "/summary.csv", std::ios::trunc);
  s << "run,algorithm,compressor,rounds,final_loss,test_loss,accuracy,consensus_distance,"
       "mb_sent_per_peer,wall_seconds,transport\n";
  std::ofstream c(out_dir + "/curves.csv", std::ios::trunc);
  c << "run,round,wall_seconds,mb_sent_per_peer,train_loss,test_loss,accuracy,"
       "consensus_distance\n";
  char buf[512];
  for (const RunSummary& r : runs) {
    const EvalPoint& f = r.final_point;
    std::snprintf(buf, sizeof(buf), "%s,%s,%s,%lld,%.9g,%.9g,%.6f,%.6g,%.6f,%.3f,%s\n",
                  r.run.c_str(), r.algorithm.c_str(), r.compressor.c_str(),
                  static_cast<long long>(r.rounds), f.train_loss, f.test_loss, f.accuracy,
                  f.consensus, f.mb_sent_per_peer, f.wall_s, r.transport.c_str());
    s << buf;
    for (const EvalPoint& p : r.curve) {
      std::snprintf(buf, sizeof(buf), "%s,%lld,%.3f,%.6f,%.9g,%.9g,%.6f,%.6g\n", r.run.c_str(),
                    static_cast<long long>(p.round), p.wall_s, p.mb_sent_per_peer, p.train_loss,
                    p.test_loss, p.accuracy, p.consensus);
      c << buf;
    }
  }
  if (!s || !c) return Unavailable(out_dir + ": cannot write summary.csv / curves.csv");
  return Status::Ok();
}

void PrintSummaryTable(const std::vector<RunSummary>& runs, std::ostream& os) {
  const std::vector<std::string> head = {"run",      "algorithm", "compressor", "rounds", "loss",
                                         "test acc", "consensus", "MB/peer",    "wall s"};
  std::vector<std::vector<std::string>> rows;
  for (const RunSummary& r : runs) {
    const EvalPoint& f = r.final_point;
    std::ostringstream cons;
    cons << std::scientific << std::setprecision(2) << f.consensus;
    rows.push_back({r.run, r.algorithm, r.compressor, std::to_string(r.rounds),
                    Fixed(f.train_loss, 4), Fixed(100 * f.accuracy, 1) + "%", cons.str(),
                    Fixed(f.mb_sent_per_peer, 2), Fixed(f.wall_s, 1)});
  }
  std::vector<size_t> w(head.size());
  for (size_t k = 0; k < head.size(); ++k) {
    w[k] = head[k].size();
    for (const auto& row : rows) w[k] = std::max(w[k], row[k].size());
  }
  auto print = [&](const std::vector<std::string>& cells) {
    for (size_t k = 0; k < cells.size(); ++k) {
      os << (k ? "  " : "") << (k < 3 ? std::left : std::right) << std::setw(w[k]) << cells[k];
    }
    os << std::right << '\n';
  };
  print(head);
  size_t total = 0;
  for (size_t x : w) total += x + 2;
  os << std::string(total - 2, '-') << '\n';
  for (const auto& row : rows) print(row);
}

}  // namespace hearsay
