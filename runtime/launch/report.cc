#include "runtime/launch/report.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/launch/csv.h"

#include "runtime/sim/replay.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

bool HasPeerFiles(const std::string& run_dir) {
  std::error_code ec;
  return fs::exists(run_dir + "/peer_0.jsonl", ec);
}

// The experiment a run folder of DIR names in its run.json (the first one found, by name).
Result<std::string> ExperimentFromRunFolders(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> folders;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory(ec)) folders.push_back(e.path().string());
  }
  if (ec) return NotFound(dir + ": cannot read the folder: " + ec.message());
  std::sort(folders.begin(), folders.end());
  for (const std::string& f : folders) {
    auto id = ReadRunIdentity(f);
    if (id.ok()) return id->experiment;
  }
  return InvalidArgument(dir +
                         ": no run folder names its experiment (run.json); give --experiment");
}

}  // namespace

RunSummary MakeRunSummary(const Experiment& exp, const RunConfig& run, const std::string& run_dir,
                          const std::vector<PeerOutcome>& outcomes, std::vector<EvalPoint> curve,
                          std::vector<EvalPoint> time_curve, const RunMetrics* given) {
  const int n = run.topology->size();
  const RunMetrics read = given ? RunMetrics() : ReadRunMetrics(run_dir, n);
  const RunMetrics& metrics = given ? *given : read;
  RunSummary sum;
  sum.run = run.name;
  sum.algorithm = AlgorithmName(run.algorithm);
  sum.compressor = CompressorLabel(run);
  sum.transport = TransportName(exp.transport);
  sum.simulated = exp.transport == TransportKind::kSim;
  sum.peers = n;
  for (const PeerOutcome& out : outcomes) {
    sum.peers_alive += out.state == PeerOutcome::State::kFinished ? 1 : 0;
  }
  const RunStaleness staleness = StalenessOf(metrics);
  sum.max_staleness = staleness.max;
  sum.mean_staleness = staleness.mean;
  sum.rounds = curve.back().round;
  sum.grid_values = run.grid_values;
  sum.final_point = curve.back();
  sum.target_loss = run.target_loss;
  for (const EvalPoint& p : curve) {
    if (std::isnan(run.target_loss) || p.round == 0 || !(p.train_loss <= run.target_loss)) continue;
    sum.time_to_target_s = p.wall_s;
    sum.rounds_to_target = p.round;
    sum.mb_to_target = p.mb_sent_per_peer;
    break;
  }
  // Goodput and rejoin times, from the peers' metrics.
  int64_t most = 0, total = 0;
  for (int i = 0; i < n && i < static_cast<int>(metrics.size()); ++i) {
    total += static_cast<int64_t>(metrics[i].size());
    if (!metrics[i].empty()) most = std::max(most, metrics[i].rbegin()->first);
  }
  if (most > 0) sum.goodput = static_cast<double>(total) / (static_cast<double>(n) * most);
  double rejoin_sum = 0;
  int rejoins = 0;
  for (const FaultSpec& f : run.faults) {
    if (f.kind != FaultSpec::Kind::kRestart || f.at_s < 0) continue;
    for (const auto& [round, m] : metrics[f.peers[0]]) {
      if (m.wall_s < f.at_s) continue;
      rejoin_sum += m.wall_s - f.at_s;
      ++rejoins;
      break;
    }
  }
  if (rejoins > 0) sum.mean_rejoin_s = rejoin_sum / rejoins;
  sum.curve = std::move(curve);
  sum.time_curve = std::move(time_curve);
  return sum;
}

Result<RunSummary> SummarizeRunFolder(const Experiment& exp, const RunConfig& run,
                                      const Workload& workload, const std::string& run_dir,
                                      const std::vector<PeerOutcome>& outcomes) {
  // A simulated run left its curves, not snapshots: take them as they are.
  bool simulated = false;
  std::vector<EvalPoint> recorded, recorded_time;
  HEARSAY_RETURN_IF_ERROR(ReadSimulatedCurves(run_dir, &simulated, &recorded, &recorded_time));
  if (simulated) {
    RunSummary sum =
        MakeRunSummary(exp, run, run_dir, outcomes, std::move(recorded), std::move(recorded_time));
    sum.simulated = true;
    sum.transport = TransportName(TransportKind::kSim);
    return sum;
  }
  const int n = run.topology->size();
  std::vector<char> alive(n);
  for (int i = 0; i < n; ++i) alive[i] = outcomes[i].state == PeerOutcome::State::kFinished;
  const RunMetrics metrics = ReadRunMetrics(run_dir, n);  // once, for all of the below
  HEARSAY_ASSIGN_OR_RETURN(
      std::vector<EvalPoint> curve,
      EvaluateRun(workload, run_dir, n, run.seed, run.rounds, run.eval_every, &alive, &metrics));
  HEARSAY_ASSIGN_OR_RETURN(std::vector<EvalPoint> time_curve,
                           EvaluateTimeGrid(workload, run_dir, n, run.eval_every_s, &alive));
  return MakeRunSummary(exp, run, run_dir, outcomes, std::move(curve), std::move(time_curve),
                        &metrics);
}

std::vector<PeerOutcome> ReadPeerOutcomes(const std::string& run_dir, int num_peers) {
  std::vector<PeerOutcome> outcomes(num_peers);
  std::ifstream f(run_dir + "/peers.csv", std::ios::binary);
  if (f) {
    std::stringstream text;
    text << f.rdbuf();
    auto table = ParseCsv(text.str(), run_dir + "/peers.csv");
    const int peer = table.ok() ? table->Column("peer") : -1;
    const int status = table.ok() ? table->Column("status") : -1;
    const int reason = table.ok() ? table->Column("reason") : -1;
    if (peer >= 0 && status >= 0 && reason >= 0) {
      for (const auto& row : table->rows) {
        const int i = std::atoi(row[peer].c_str());
        if (i < 0 || i >= num_peers) continue;
        const std::string& st = row[status];
        outcomes[i].state = st == "finished" ? PeerOutcome::State::kFinished
                            : st == "killed" ? PeerOutcome::State::kKilled
                            : st == "absent" ? PeerOutcome::State::kAbsent
                                             : PeerOutcome::State::kFailed;
        outcomes[i].reason = row[reason];
      }
      return outcomes;
    }
  }
  // Peers started by other means: the final model is the last thing a finishing peer writes.
  std::error_code ec;
  for (int i = 0; i < num_peers; ++i) {
    if (!fs::exists(run_dir + "/peer_" + std::to_string(i) + ".final.f32", ec)) {
      outcomes[i] = {PeerOutcome::State::kFailed, "left no final model"};
    }
  }
  return outcomes;
}

Result<std::vector<RunSummary>> BuildReport(const ReportOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.dir, ec)) return NotFound(o.dir + ": not a folder");
  std::string experiment_path = o.experiment_path;
  if (experiment_path.empty()) {
    HEARSAY_ASSIGN_OR_RETURN(experiment_path, ExperimentFromRunFolders(o.dir));
  }
  HEARSAY_ASSIGN_OR_RETURN(Experiment exp, LoadExperiment(experiment_path));
  std::vector<const RunConfig*> selected;
  for (const std::string& name : o.runs) {
    const RunConfig* run = exp.FindRun(name);
    if (!run) {
      std::string valid;
      for (const auto& r : exp.runs) valid += (valid.empty() ? "" : ", ") + r.name;
      return InvalidArgument(experiment_path + ": no run named '" + name + "' (runs: " + valid +
                             ")");
    }
    if (!HasPeerFiles(o.dir + "/" + name)) {
      return NotFound(o.dir + "/" + name + ": no peer files (peer_0.jsonl)");
    }
    if (std::find(selected.begin(), selected.end(), run) == selected.end()) {
      selected.push_back(run);
    }
  }
  if (o.runs.empty()) {
    for (const RunConfig& r : exp.runs) {
      if (HasPeerFiles(o.dir + "/" + r.name)) selected.push_back(&r);
    }
  }
  if (selected.empty()) {
    return NotFound(o.dir + ": no run of " + experiment_path +
                    " has peer files here (DIR/<run>/peer_0.jsonl)");
  }
  std::vector<RunSummary> summaries;
  for (const RunConfig* run : selected) {
    HEARSAY_ASSIGN_OR_RETURN(Workload w, BuildWorkload(*run, run->topology->size()));
    const std::string run_dir = o.dir + "/" + run->name;
    auto sum =
        SummarizeRunFolder(exp, *run, w, run_dir, ReadPeerOutcomes(run_dir, run->topology->size()));
    if (!sum.ok()) return sum.status().WithPrefix("run '" + run->name + "'");
    summaries.push_back(std::move(sum).value());
  }
  HEARSAY_RETURN_IF_ERROR(WriteResults(summaries, o.dir, /*keep_others=*/!o.runs.empty()));
  if (o.progress) PrintSummaryTable(summaries, *o.progress);
  return summaries;
}

}  // namespace hearsay
