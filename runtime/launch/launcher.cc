#include "runtime/launch/launcher.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "runtime/emulator/link_emulator.h"
#include "runtime/launch/plot.h"
#include "runtime/launch/process.h"
#include "runtime/peer/peer.h"
#include "runtime/sim/replay.h"
#include "runtime/sim/simulator.h"
#include "runtime/transport/inproc/inproc_transport.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

// Follows the peers' metrics files to show progress without re-reading them.
class ProgressTracker {
 public:
  ProgressTracker(std::string run_dir, int n) : run_dir_(std::move(run_dir)), peers_(n) {}

  void Poll() {
    for (size_t i = 0; i < peers_.size(); ++i) {
      std::ifstream f(run_dir_ + "/peer_" + std::to_string(i) + ".jsonl");
      if (!f) continue;
      f.seekg(peers_[i].offset);
      std::string line;
      while (std::getline(f, line)) {
        if (f.eof()) break;  // partial line: read again next time
        peers_[i].offset += static_cast<std::streamoff>(line.size() + 1);
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_object()) continue;
        peers_[i].round = j.value("round", int64_t{0});
        peers_[i].loss = j.value("loss", 0.0);
        peers_[i].mb = j.value("bytes_sent", 0.0) / 1e6;
        peers_[i].wall = j.value("wall_s", 0.0);
      }
    }
  }

  std::string Line(const std::string& run, int64_t rounds) const {
    int64_t slowest = INT64_MAX, fastest = 0;
    int slow_peer = 0;
    double loss = 0, mb = 0, wall = 0;
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i].round < slowest) {
        slowest = peers_[i].round;
        slow_peer = static_cast<int>(i);
      }
      fastest = std::max(fastest, peers_[i].round);
      loss += peers_[i].loss / peers_.size();
      mb += peers_[i].mb / peers_.size();
      wall = std::max(wall, peers_[i].wall);
    }
    std::ostringstream s;
    s << "[" << run << "] round " << slowest << "/" << rounds;
    if (fastest > slowest) s << " (peer " << slow_peer << " slowest; fastest at " << fastest << ")";
    s << std::fixed << std::setprecision(4) << "  local loss " << loss << std::setprecision(2)
      << "  " << mb << " MB/peer  " << std::setprecision(1) << wall << " s";
    return s.str();
  }

 private:
  struct PeerProgress {
    std::streamoff offset = 0;
    int64_t round = 0;
    double loss = 0, mb = 0, wall = 0;
  };
  std::string run_dir_;
  std::vector<PeerProgress> peers_;
};

void ShowProgress(const LaunchOptions& o, const std::string& line, bool final_line) {
  if (!o.progress) return;
  if (o.progress_is_tty) {
    *o.progress << "\r\033[K" << line << (final_line ? "\n" : "") << std::flush;
  } else if (final_line) {
    *o.progress << line << '\n' << std::flush;
  }
}

Status ClearRunDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable(dir + ": cannot create folder: " + ec.message());
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("peer_", 0) == 0 || name.rfind("snap_", 0) == 0 || name == "eval.jsonl") {
      fs::remove(e.path(), ec);
    }
  }
  return Status::Ok();
}

// Runs the peers of one run as threads over the in-process transport.
Status RunInProc(const LaunchOptions& o, const Experiment& exp, const RunConfig& run,
                 std::shared_ptr<const Workload> workload, const std::string& run_dir,
                 ProgressTracker* tracker) {
  const int n = exp.topology->size();
  InProcHub hub(n);
  std::atomic<bool> stop_all{false};
  std::vector<Status> results(n);
  std::vector<std::thread> threads;
  const TimePoint epoch = Now();
  for (int i = 0; i < n; ++i) {
    std::unique_ptr<Transport> t = hub.Endpoint(i);
    if (run.emulate) t = MakeEmulatedTransport(std::move(t), exp.topology, i, run.seed);
    threads.emplace_back([&, i, t = std::move(t)]() mutable {
      PeerOptions po;
      po.id = i;
      po.run = run;
      po.topology = exp.topology;
      po.workload = workload;
      po.out_dir = run_dir;
      po.stop = &stop_all;
      po.epoch = epoch;
      Peer peer(std::move(po));
      results[i] = peer.Run(*t);
      if (!results[i].ok()) stop_all = true;  // a failed peer stops its siblings
    });
  }
  // Watch for Ctrl-C while the peers run.
  std::atomic<bool> finished{false};
  std::thread joiner([&] {
    for (auto& th : threads) th.join();
    finished = true;
  });
  while (!finished) {
    if (o.stop && o.stop->load()) stop_all = true;
    tracker->Poll();
    ShowProgress(o, tracker->Line(run.name, run.rounds), false);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  joiner.join();
  // Report the root cause: the first failure that is not a sibling's cancellation.
  for (const Status& s : results) {
    if (!s.ok() && s.code() != StatusCode::kCancelled) return s;
  }
  for (const Status& s : results) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Runs one run in the discrete-event simulator (virtual time) and evaluates it in memory.
Result<std::vector<EvalPoint>> RunSim(const LaunchOptions& o, const Experiment& exp,
                                      const RunConfig& run,
                                      std::shared_ptr<const Workload> workload,
                                      const std::string& run_dir, double* virtual_s) {
  SimOptions so;
  so.run = run;
  so.topology = exp.topology;
  so.workload = workload;
  so.out_dir = run_dir;
  so.stop = o.stop;
  HEARSAY_ASSIGN_OR_RETURN(SimResult r, Simulate(so));
  *virtual_s = r.virtual_seconds;
  std::vector<EvalPoint> curve;
  std::ofstream out(run_dir + "/eval.jsonl", std::ios::trunc);
  for (const SimEvalPoint& e : r.evals) {
    if (e.key.kind != SnapshotKey::Kind::kRound) continue;
    EvalPoint p;
    p.round = e.key.index;
    p.wall_s = e.wall_s;
    p.mb_sent_per_peer = e.mb_sent_per_peer;
    p.train_loss = e.train_loss;
    p.test_loss = e.test_loss;
    p.accuracy = e.accuracy;
    p.consensus = e.consensus;
    curve.push_back(p);
    nlohmann::json j = {{"round", p.round},
                        {"wall_s", p.wall_s},
                        {"mb_sent_per_peer", p.mb_sent_per_peer},
                        {"train_loss", p.train_loss},
                        {"test_loss", p.test_loss},
                        {"accuracy", p.accuracy},
                        {"consensus_distance", p.consensus},
                        {"simulated", true}};
    out << j.dump() << '\n';
  }
  if (curve.empty()) return Internal("run '" + run.name + "': the simulation evaluated nothing");
  return curve;
}

// Runs the peers of one run as `hearsay peer` processes.
Status RunProcesses(const LaunchOptions& o, const Experiment& exp, const RunConfig& run,
                    const std::string& run_dir, ProgressTracker* tracker) {
  const int n = exp.topology->size();
  std::vector<ChildProcess> children;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> argv = {
        o.peer_binary, "peer",   "--experiment", exp.source, "--id",        std::to_string(i),
        "--run",       run.name, "--out",        run_dir,    "--log-level", o.log_level};
    auto child = ChildProcess::Spawn(argv, run_dir + "/peer_" + std::to_string(i) + ".log");
    if (!child.ok()) return child.status().WithPrefix("run '" + run.name + "'");
    children.push_back(std::move(child).value());
  }
  Status failure;
  bool stopping = false;
  TimePoint kill_at{};
  while (true) {
    bool all_done = true;
    for (int i = 0; i < n; ++i) {
      std::optional<int> code = children[i].Poll();
      if (!code) {
        all_done = false;
        continue;
      }
      if (*code != 0 && failure.ok() && !stopping) {
        std::string tail;
        std::ifstream log(run_dir + "/peer_" + std::to_string(i) + ".log");
        for (std::string line; std::getline(log, line);) {
          if (!line.empty()) tail = line;
        }
        failure =
            Unavailable("run '" + run.name + "': peer " + std::to_string(i) + " exited with code " +
                        std::to_string(*code) + (tail.empty() ? "" : ": " + tail) +
                        " (log: " + run_dir + "/peer_" + std::to_string(i) + ".log)");
      }
    }
    if (all_done) break;
    const bool interrupted = o.stop && o.stop->load();
    if ((!failure.ok() || interrupted) && !stopping) {
      stopping = true;
      if (interrupted && failure.ok()) failure = Cancelled("interrupted");
      for (auto& c : children) c.Terminate();
      kill_at = DeadlineIn(5);
    }
    if (stopping && Now() > kill_at) {
      for (auto& c : children) c.Kill();
    }
    tracker->Poll();
    ShowProgress(o, tracker->Line(run.name, run.rounds), false);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return failure;
}

}  // namespace

Result<std::vector<RunSummary>> Launch(const LaunchOptions& o) {
  HEARSAY_ASSIGN_OR_RETURN(Experiment exp, LoadExperiment(o.experiment_path));
  if (o.transport != "tcp" && o.transport != "inproc" && o.transport != "sim") {
    return InvalidArgument("transport '" + o.transport + "' is unknown (valid: tcp, inproc, sim)");
  }
  for (const auto& name : o.runs) {
    if (!exp.FindRun(name)) {
      std::string valid;
      for (const auto& r : exp.runs) valid += (valid.empty() ? "" : ", ") + r.name;
      return InvalidArgument(o.experiment_path + ": no run named '" + name + "' (runs: " + valid +
                             ")");
    }
  }
  const std::string out_dir = o.out_dir.empty() ? exp.output_dir : o.out_dir;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Unavailable(out_dir + ": cannot create output folder: " + ec.message());
  const int n = exp.topology->size();

  std::vector<RunSummary> summaries;
  for (const RunConfig& run : exp.runs) {
    if (!o.runs.empty() && std::find(o.runs.begin(), o.runs.end(), run.name) == o.runs.end()) {
      continue;
    }
    if (o.stop && o.stop->load()) return Cancelled("interrupted");
    const std::string run_dir = out_dir + "/" + run.name;
    HEARSAY_RETURN_IF_ERROR(ClearRunDir(run_dir));
    HEARSAY_RETURN_IF_ERROR(WriteRunIdentity(run_dir, RunIdentity{exp.source, run.name}));
    HEARSAY_ASSIGN_OR_RETURN(Workload w, BuildWorkload(run, n));
    auto workload = std::make_shared<const Workload>(std::move(w));
    std::vector<EvalPoint> curve;
    if (o.transport == "sim") {
      double virtual_s = 0;
      HEARSAY_ASSIGN_OR_RETURN(curve, RunSim(o, exp, run, workload, run_dir, &virtual_s));
    } else {
      ProgressTracker tracker(run_dir, n);
      Status s = o.transport == "inproc" ? RunInProc(o, exp, run, workload, run_dir, &tracker)
                                         : RunProcesses(o, exp, run, run_dir, &tracker);
      tracker.Poll();
      ShowProgress(o, tracker.Line(run.name, run.rounds), true);
      if (!s.ok()) return s;
      HEARSAY_ASSIGN_OR_RETURN(curve,
                               EvaluateRun(*workload, run_dir, n, run.rounds, run.eval_every));
    }
    RunSummary sum;
    sum.run = run.name;
    sum.algorithm = run.algorithm;
    sum.compressor = run.algorithm == "dpsgd" ? "fp32" : run.compressor;
    sum.transport = o.transport;
    sum.rounds = run.rounds;
    sum.final_point = curve.back();
    sum.curve = std::move(curve);
    summaries.push_back(std::move(sum));
    HEARSAY_RETURN_IF_ERROR(WriteSummaryFiles(summaries, out_dir));
    HEARSAY_RETURN_IF_ERROR(WritePlots(summaries, out_dir));
  }
  if (o.progress) {
    *o.progress << '\n';
    PrintSummaryTable(summaries, *o.progress);
    *o.progress << "\nresults: " << out_dir << "/summary.csv, " << out_dir << "/curves.csv, plots "
                << out_dir << "/loss_vs_{rounds,time,mb}.svg, per-peer "
                << "metrics in " << out_dir << "/<run>/\n";
  }
  return summaries;
}

}  // namespace hearsay
