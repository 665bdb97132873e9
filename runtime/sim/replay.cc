#include "runtime/sim/replay.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "runtime/peer/peer_core.h"
#include "runtime/peer/run_files.h"
#include "runtime/sim/simulator.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

Result<std::vector<float>> ReadFloats(const std::string& path, size_t d) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return NotFound(path + ": missing final model of the recorded run");
  const auto size = static_cast<size_t>(f.tellg());
  if (size != d * sizeof(float)) {
    return Corruption(path + ": " + std::to_string(size) + " bytes, expected " +
                      std::to_string(d * sizeof(float)));
  }
  std::vector<float> x(d);
  f.seekg(0);
  f.read(reinterpret_cast<char*>(x.data()), static_cast<std::streamsize>(size));
  return x;
}

}  // namespace

bool ReplayReport::all_identical() const {
  for (const auto& p : peers) {
    if (!p.identical) return false;
  }
  return !peers.empty();
}

Result<ReplayReport> ReplayRecordedRun(const RunConfig& run,
                                       std::shared_ptr<const TopologySpec> topology,
                                       const std::string& run_dir) {
  if (!fs::is_directory(run_dir)) return NotFound(run_dir + ": not a folder");
  const int n = topology->size();
  if (!fs::exists(RunFiles::ReplayPath(run_dir, 0))) {
    return InvalidArgument(run_dir + ": no replay log (" + RunFiles::ReplayPath(run_dir, 0) +
                           "); only asynchronous runs (mode: async) record one -- a synchronous "
                           "run is reproduced by running it again");
  }
  if (!RecordsReplayLog(run)) {
    return InvalidArgument("run '" + run.name + "' is synchronous; replay needs an async run");
  }
  for (const FaultSpec& f : run.faults) {
    if (f.kind == FaultSpec::Kind::kKill || f.kind == FaultSpec::Kind::kRestart ||
        f.kind == FaultSpec::Kind::kJoin) {
      return InvalidArgument(
          "run '" + run.name + "' has a `" + FaultKindName(f.kind) +
          "` fault: a replay reproduces runs whose peers all ran from the start to the end "
          "(pauses, partitions and link events replay; a killed peer's last messages and a "
          "rejoining peer's state transfer are not in the logs)");
    }
  }
  std::vector<ReplaySchedule> schedules;
  for (int i = 0; i < n; ++i) {
    HEARSAY_ASSIGN_OR_RETURN(ReplaySchedule s, ReadReplayLog(RunFiles::ReplayPath(run_dir, i)));
    if (s.empty()) {
      return Corruption(RunFiles::ReplayPath(run_dir, i) +
                        ": the log records no round (a peer killed early loses the log it had "
                        "not written yet; runs with killed peers are not replayable)");
    }
    if (s.begin()->first > 1) {
      // A restarted peer's log starts afresh at its rejoin round, a late joiner's at its first.
      return InvalidArgument(RunFiles::ReplayPath(run_dir, i) + ": the log starts at round " +
                             std::to_string(s.begin()->first) + ": peer " + std::to_string(i) +
                             " restarted or joined the run late and took its state from its "
                             "neighbours; a replay re-executes a run from its start and cannot "
                             "reproduce that state transfer (runs with `restart:` or `join:` "
                             "faults are not replayable)");
    }
    schedules.push_back(std::move(s));
  }
  SimOptions so;
  so.run = run;
  so.topology = std::move(topology);
  so.replay = &schedules;
  so.keep_snapshots = false;
  so.compute_time_s = 1e-3;  // virtual time is irrelevant to a replay
  Result<SimResult> sim = Simulate(so);
  if (!sim.ok()) return sim.status().WithPrefix("replay of " + run_dir);
  ReplayReport report;
  report.real_seconds = sim->real_seconds;
  for (int i = 0; i < n; ++i) {
    const std::vector<float>& got = sim->final_models[i];
    HEARSAY_ASSIGN_OR_RETURN(
        std::vector<float> want,
        ReadFloats(RunFiles::SnapshotPath(run_dir, SnapshotKey{SnapshotKey::Kind::kFinal, 0}, i),
                   got.size()));
    ReplayPeerResult p;
    p.peer = i;
    p.rounds = sim->final_rounds[i];
    p.identical = std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0;
    for (size_t k = 0; k < got.size(); ++k) {
      if (std::memcmp(&got[k], &want[k], sizeof(float)) != 0) {
        ++p.differing;
        const double diff = std::fabs(static_cast<double>(got[k]) - want[k]);
        p.max_abs_diff = std::isnan(diff) ? INFINITY : std::max(p.max_abs_diff, diff);
      }
    }
    report.peers.push_back(p);
  }
  return report;
}

Status WriteRunIdentity(const std::string& run_dir, const RunIdentity& id) {
  std::error_code ec;
  const std::string abs = fs::absolute(id.experiment, ec).string();
  nlohmann::json j = {{"experiment", ec ? id.experiment : abs}, {"run", id.run}};
  std::ofstream f(run_dir + "/run.json", std::ios::trunc);
  f << j.dump(2) << '\n';
  if (!f) return Unavailable(run_dir + "/run.json: cannot write");
  return Status::Ok();
}

Result<RunIdentity> ReadRunIdentity(const std::string& run_dir) {
  const std::string path = run_dir + "/run.json";
  std::ifstream f(path);
  if (!f) {
    return NotFound(path +
                    ": missing (not a run folder written by `hearsay launch`?); give "
                    "--experiment and --run");
  }
  const auto j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("experiment") || !j.contains("run") ||
      !j["experiment"].is_string() || !j["run"].is_string()) {
    return Corruption(path + ": expected {\"experiment\": ..., \"run\": ...}");
  }
  return RunIdentity{j["experiment"].get<std::string>(), j["run"].get<std::string>()};
}

}  // namespace hearsay
