#include "runtime/launch/launcher.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/logging.h"
#include "runtime/emulator/link_emulator.h"
#include "runtime/launch/addresses.h"
#include "runtime/launch/faults.h"
#include "runtime/launch/hosts_file.h"
#include "runtime/launch/inproc_runner.h"
#include "runtime/launch/process.h"
#include "runtime/launch/progress.h"
#include "runtime/launch/remote.h"
#include "runtime/launch/report.h"
#include "runtime/peer/checkpoint.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/peer.h"
#include "runtime/sim/replay.h"
#include "runtime/sim/simulator.h"
#include "runtime/transport/inproc/inproc_transport.h"
#include "topology/units.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

void ShowProgress(const LaunchOptions& o, const std::string& line, bool final_line) {
  if (!o.progress) return;
  if (o.progress_is_tty) {
    *o.progress << "\r\033[K" << line << (final_line ? "\n" : "") << std::flush;
  } else if (final_line) {
    *o.progress << line << '\n' << std::flush;
  }
}

// Removes an earlier run's outputs from its folder. A resumed run keeps the peers' metrics,
// snapshots and checkpoints (the peers keep the rounds up to the checkpoint and rewrite the
// rest); the launcher's own files are written again either way.
Status ClearRunDir(const std::string& dir, bool resuming) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable(dir + ": cannot create folder: " + ec.message());
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const bool peer_file = name.rfind("peer_", 0) == 0 || name.rfind("snap_", 0) == 0 ||
                           name.rfind(".data_index_", 0) == 0;
    if ((peer_file && !resuming) || name == "eval.jsonl" || name == "eval_time.jsonl" ||
        name == "peers.csv" || name == "faults.jsonl" || name == "addresses.yaml") {
      fs::remove(e.path(), ec);
    }
  }
  if (!resuming) fs::remove_all(CheckpointDir(dir), ec);
  return Status::Ok();
}

// --resume: the round each selected run continues from (0 = from the start), checked before
// anything starts: every peer's checkpoint of that round is readable and of this run.
Result<std::map<std::string, int64_t>> ResumeRounds(const Experiment& exp,
                                                    const std::vector<const RunConfig*>& runs,
                                                    const std::string& out_dir) {
  std::map<std::string, int64_t> rounds;
  bool any = false;
  for (const RunConfig* run : runs) {
    const int n = run->topology->size();
    const std::string run_dir = out_dir + "/" + run->name;
    const std::vector<int64_t> common = CommonCheckpointRounds(run_dir, n);
    rounds[run->name] = common.empty() ? 0 : common.back();
    if (common.empty()) continue;
    if (exp.transport == TransportKind::kSim) {
      return InvalidArgument("--resume: run '" + run->name +
                             "' is simulated; simulated runs do not resume (run them again)");
    }
    if (!run->faults.empty()) {
      return InvalidArgument("--resume: run '" + run->name +
                             "' has a fault schedule; resuming one is not supported");
    }
    const uint64_t fp = CheckpointFingerprint(*run, *run->topology);
    for (int i = 0; i < n; ++i) {
      Result<ByteBuffer> c = ReadCheckpoint(run_dir, i, common.back(), fp);
      if (!c.ok()) return InvalidArgument("--resume: " + c.status().message());
    }
    any = true;
  }
  if (!any) {
    return InvalidArgument("--resume " + out_dir +
                           ": no run of the experiment has a checkpoint of every peer there "
                           "(runs write them with checkpoint_every: N)");
  }
  return rounds;
}

// Runs one run in the discrete-event simulator (virtual time) and evaluates it in memory; round
// 0 is the shared initial model, as for real runs.
Result<std::vector<EvalPoint>> RunSim(const LaunchOptions& o, const RunConfig& run,
                                      std::shared_ptr<const Workload> workload,
                                      const std::string& run_dir,
                                      std::vector<EvalPoint>* time_curve,
                                      std::vector<PeerOutcome>* outcomes) {
  SimOptions so;
  so.run = run;
  so.topology = run.topology;
  so.workload = workload;
  so.out_dir = run_dir;
  so.stop = o.stop;
  HEARSAY_ASSIGN_OR_RETURN(SimResult r, Simulate(so));
  for (int peer : r.never_joined) (*outcomes)[peer] = NeverJoined(run, peer);
  for (int peer : r.killed) {
    for (const FaultSpec& f : run.faults) {
      if (f.kind == FaultSpec::Kind::kKill && f.peers[0] == peer) {
        (*outcomes)[peer] = {PeerOutcome::State::kKilled, KilledReason(f)};
      }
    }
  }
  std::vector<EvalPoint> curve = {EvaluateInitialModel(*workload, run.seed)};
  for (const SimEvalPoint& e : r.evals) {
    if (e.key.kind == SnapshotKey::Kind::kTime) {
      EvalPoint p;
      p.wall_s = static_cast<double>(e.key.index) * run.eval_every_s;
      p.train_loss = e.train_loss;
      p.test_loss = e.test_loss;
      p.accuracy = e.accuracy;
      p.consensus = e.consensus;
      time_curve->push_back(p);
    }
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
  }
  if (curve.size() == 1)
    return Internal("run '" + run.name + "': the simulation evaluated nothing");
  HEARSAY_RETURN_IF_ERROR(WriteRoundCurve(run_dir, curve, /*simulated=*/true));
  if (!time_curve->empty()) HEARSAY_RETURN_IF_ERROR(WriteTimeCurve(run_dir, *time_curve));
  return curve;
}

// The last non-empty line of a peer's log (its error, usually).
std::string LastLogLine(const std::string& path) {
  std::string tail;
  std::ifstream log(path);
  for (std::string line; std::getline(log, line);) {
    if (!line.empty()) tail = line;
  }
  return tail;
}

// Copies back the run folder of every host whose peers' files are not visible here (OUT not
// shared between the hosts).
Status GatherRunFolders(const std::string& ssh, const HostsFile& hosts,
                        const std::vector<int>& placement, const std::string& run_dir,
                        const std::string& remote_dir) {
  std::error_code ec;
  for (size_t h = 0; h < hosts.hosts.size(); ++h) {
    bool missing = false;
    for (size_t i = 0; i < placement.size(); ++i) {
      missing |= placement[i] == static_cast<int>(h) &&
                 !fs::exists(run_dir + "/peer_" + std::to_string(i) + ".jsonl", ec);
    }
    if (!missing) continue;
    HEARSAY_RETURN_IF_ERROR(
        PullFolder(ssh, hosts.hosts[h].destination, remote_dir, run_dir + "/ssh.log"));
  }
  return Status::Ok();
}

// Runs the peers of one run as `hearsay peer` processes, here or over ssh on `hosts`. A peer
// that fails (or is killed, by the fault schedule or from outside) stops its siblings unless the
// run survives dead peers; then they finish without it, and the run succeeds if at least one did.
Status RunProcesses(const LaunchOptions& o, const Experiment& exp, const RunConfig& run,
                    const std::string& run_dir, int64_t resume_round, const HostsFile* hosts,
                    ProgressTracker* tracker, std::vector<PeerOutcome>* outcomes) {
  const int n = run.topology->size();
  const bool survive = SurvivesDeadPeers(run);
  TopologySpec chosen = *run.topology;
  std::vector<int> placement;
  if (hosts) {
    HEARSAY_ASSIGN_OR_RETURN(placement, hosts->Place(n));
    for (int i = 0; i < n; ++i) chosen.nodes[i].host = hosts->hosts[placement[i]].host;
  }
  // `base_port: auto`: free ports on this host, held until the run ends so that a concurrent
  // launch cannot pick them, and recorded in the run folder for the peers (and the user).
  PortReservation ports;
  std::vector<std::string> address_args;
  const bool auto_ports = std::any_of(chosen.nodes.begin(), chosen.nodes.end(),
                                      [](const NodeSpec& s) { return s.port == 0; });
  if (auto_ports || hosts) {
    HEARSAY_ASSIGN_OR_RETURN(ports, PortReservation::Reserve(&chosen));
    const std::string book = run_dir + "/addresses.yaml";
    HEARSAY_RETURN_IF_ERROR(WriteAddressBook(book, chosen, run.name));
    address_args = {"--addresses", book};
  }
  std::string ssh;
  std::error_code ec;
  const std::string cwd = fs::current_path(ec).string();
  const std::string remote_dir = fs::absolute(run_dir, ec).string();  // ssh starts in $HOME
  if (hosts) {
    HEARSAY_ASSIGN_OR_RETURN(ssh, FindOnPath(o.ssh));
    // Every host needs the address book before its peers start (OUT may not be shared).
    for (size_t h = 0; h < hosts->hosts.size(); ++h) {
      if (std::find(placement.begin(), placement.end(), static_cast<int>(h)) == placement.end()) {
        continue;
      }
      HEARSAY_RETURN_IF_ERROR(PushFile(ssh, hosts->hosts[h].destination,
                                       remote_dir + "/addresses.yaml", run_dir + "/ssh.log")
                                  .WithPrefix("run '" + run.name + "'"));
    }
  }
  // Peer i's process; `rejoin`: a restart (fault schedule, --chaos) joining the running run (its
  // run time counts from the run's start, so `duration:` and the time grid end with the
  // others'). Its log is appended to.
  TimePoint started = Now();
  auto spawn = [&](int i, bool rejoin) -> Result<ChildProcess> {
    std::vector<std::string> argv = {
        o.peer_binary, "peer",   "--experiment", exp.source, "--id",        std::to_string(i),
        "--run",       run.name, "--out",        run_dir,    "--log-level", o.log_level};
    argv.insert(argv.end(), address_args.begin(), address_args.end());
    if (resume_round > 0 && !rejoin) {
      argv.insert(argv.end(), {"--resume-round", std::to_string(resume_round)});
    }
    if (rejoin) {
      argv.insert(argv.end(),
                  {"--rejoin", "--elapsed", fmt::format("{:.6f}", SecondsSince(started))});
    }
    if (hosts) argv = SshArgv(ssh, hosts->hosts[placement[i]].destination, cwd, argv);
    return ChildProcess::Spawn(argv, run_dir + "/peer_" + std::to_string(i) + ".log");
  };
  std::vector<ChildProcess> children(n);
  for (int i = 0; i < n; ++i) {
    if (JoinsLate(run, i)) continue;  // started by its `join:` fault
    auto child = spawn(i, false);
    if (!child.ok()) return child.status().WithPrefix("run '" + run.name + "'");
    children[i] = std::move(child).value();
  }
  started = Now();
  FaultRunner faults(run, run_dir);
  outcomes->assign(n, PeerOutcome{});
  std::vector<char> ended(n, 0);
  const auto start_again = [&](int i, const char* what) {
    auto child = spawn(i, true);
    if (!child.ok()) {
      HEARSAY_LOG_WARN("run '{}': cannot {} peer {}: {}", run.name, what, i,
                       child.status().message());
      return false;
    }
    children[i] = std::move(child).value();
    ended[i] = 0;
    (*outcomes)[i] = PeerOutcome{};
    return true;
  };
  ProcessControl control(
      &children,
      [&](int i) {
        // Only a peer whose killed process has been reaped (it is no longer running).
        return children[i].Poll().has_value() && start_again(i, "restart");
      },
      [&](int i) { return start_again(i, "start the late joiner"); });
  Status failure;
  Status diverged;  // the first peer that exited saying its training diverged
  bool stopping = false;
  bool started_up = true;  // no peer failed before its first round
  TimePoint kill_at{};
  while (true) {
    bool all_done = true;
    for (int i = 0; i < n; ++i) {
      if (faults.not_joined(i)) continue;  // a late joiner not started (yet)
      std::optional<int> code = children[i].Poll();
      if (!code) {
        all_done = false;
        continue;
      }
      if (ended[i]) continue;
      ended[i] = 1;
      if (*code == 0) continue;
      const std::string log = run_dir + "/peer_" + std::to_string(i) + ".log";
      PeerOutcome& out = (*outcomes)[i];
      if (!faults.killed(i).empty()) {
        out = {PeerOutcome::State::kKilled, faults.killed(i)};
      } else {
        const std::string tail = LastLogLine(log);
        out = {PeerOutcome::State::kFailed,
               "exited with code " + std::to_string(*code) + (tail.empty() ? "" : ": " + tail)};
        // A peer that diverged exits 2 ("run failed") and says so on its last line. Its
        // neighbours may exit too, seeing its links close, and be polled first: the divergence
        // is still the root cause, and the run a diverged result as in-process.
        if (*code == 2 && diverged.ok() && DivergedRound(Aborted(tail)) >= 0) {
          diverged = Aborted(tail);
        }
      }
      if (stopping) continue;  // stopped by the launcher: not a cause
      const bool got_going = ReportedARound(run_dir, i);
      if (!got_going) started_up = false;
      HEARSAY_LOG_WARN("run '{}': peer {} {} (log: {}){}", run.name, i, out.reason, log,
                       survive && got_going ? "; the others go on without it" : "");
      if (failure.ok() && out.state == PeerOutcome::State::kFailed) {
        failure = Unavailable("run '" + run.name + "': peer " + std::to_string(i) + " " +
                              out.reason + " (log: " + log + ")");
      } else if (failure.ok()) {
        failure = Unavailable("run '" + run.name + "': peer " + std::to_string(i) + " " +
                              out.reason + (got_going ? "" : KilledBeforeItStarted(started)));
      }
    }
    if (all_done) break;
    const bool interrupted = o.stop && o.stop->load();
    if (((!failure.ok() && !(survive && started_up)) || interrupted) && !stopping) {
      stopping = true;
      if (interrupted) failure = Cancelled("interrupted");
      faults.ResumeAll(control);
      for (auto& c : children) c.Terminate();
      kill_at = DeadlineIn(5);
    }
    if (stopping && Now() > kill_at) {
      for (auto& c : children) c.Kill();
    }
    tracker->Poll();
    if (!stopping) faults.Step(SecondsSince(started), *tracker, control);
    ShowProgress(o, tracker->Line(run.name, run.rounds, run.duration_s), false);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The peers' last lines are on disk now: a short run may have reached a partition's rounds
  // between two polls.
  tracker->Poll();
  if (!stopping) faults.RecordNetworkFaults(SecondsSince(started), *tracker);
  for (int i = 0; i < n; ++i) {
    if (faults.not_joined(i)) (*outcomes)[i] = NeverJoined(run, i);
  }
  // Ctrl-C reaches the children too (one process group): their exits are not the cause.
  if (o.stop && o.stop->load()) return Cancelled("interrupted");
  if (!diverged.ok()) return diverged;
  int finished_ok = 0;
  for (const PeerOutcome& out : *outcomes) {
    finished_ok += out.state == PeerOutcome::State::kFinished ? 1 : 0;
  }
  Status result = failure;
  if (survive && started_up && finished_ok > 0) result = Status::Ok();  // the survivors' run
  if (!hosts || !result.ok()) return result;
  return GatherRunFolders(ssh, *hosts, placement, run_dir, remote_dir)
      .WithPrefix("run '" + run.name + "'");
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc | std::ios::binary);
  f << text;
  if (!f) return Unavailable(path + ": cannot write");
  return Status::Ok();
}

// The dry run's report: the resolved configuration, then one line per run it would start.
void PrintPlan(const LaunchOptions& o, const Experiment& exp,
               const std::vector<const RunConfig*>& selected, const std::string& out_dir) {
  std::ostream& os = *o.progress;
  os << ResolvedConfigYaml(exp, selected) << "\n# runs (" << selected.size() << "), transport "
     << TransportName(exp.transport) << ", output " << out_dir << "; dry run: nothing started\n";
  for (const RunConfig* r : selected) {
    os << "#   " << r->name << ": " << AlgorithmLabel(*r) << ", " << r->topology->size()
       << " peers, "
       << (r->rounds == kUnlimitedRounds ? "for " + FormatDuration(r->duration_s)
                                         : std::to_string(r->rounds) + " rounds")
       << ", " << ModeName(r->mode) << "\n";
  }
}

// The summary of a run that diverged at `round`: a result, not an error. Its curve is round 0
// and the evaluation rounds before the divergence whose snapshots every peer wrote (none in the
// simulator, which keeps its evaluations in memory); the final losses are nan, so that no table
// or sort mistakes the run for one that finished.
RunSummary DivergedSummary(const RunConfig& run, const Workload& workload,
                           const std::string& run_dir, bool snapshots, int64_t round,
                           const Status& why) {
  const int n = run.topology->size();
  std::vector<EvalPoint> curve = {EvaluateInitialModel(workload, run.seed)};
  if (snapshots && run.eval_every > 0) {
    std::vector<std::map<int64_t, RoundMetrics>> metrics;
    for (int i = 0; i < n; ++i) metrics.push_back(ReadPeerMetrics(run_dir, i));
    for (int64_t r = run.eval_every; r < round; r += run.eval_every) {
      Result<EvalPoint> p = EvaluateRound(workload, run_dir, metrics, r);
      if (!p.ok()) break;  // a peer stopped before writing this round's snapshot
      curve.push_back(*p);
    }
  }
  RunSummary sum;
  sum.status = "diverged";
  sum.diverged_round = round;
  sum.reason = why.message();
  sum.rounds = round > 0 ? round - 1 : 0;
  sum.final_point = curve.back();
  sum.final_point.round = sum.rounds;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  sum.final_point.train_loss = sum.final_point.test_loss = nan;
  sum.final_point.accuracy = sum.final_point.consensus = nan;
  sum.curve = std::move(curve);
  return sum;
}

// A diverged run's summary: the fields every summary has, then the divergence (status, round,
// reason, nan losses); the launch says so and goes on with the next run.
RunSummary ReportDiverged(const LaunchOptions& o, const Experiment& exp, const RunConfig& run,
                          const std::string& run_dir, const std::vector<PeerOutcome>& outcomes,
                          RunSummary diverged) {
  RunSummary sum = MakeRunSummary(exp, run, run_dir, outcomes, diverged.curve, {});
  sum.status = diverged.status;
  sum.diverged_round = diverged.diverged_round;
  sum.reason = diverged.reason;
  sum.rounds = diverged.rounds;
  sum.final_point = diverged.final_point;
  if (o.progress) {
    *o.progress << "run '" << run.name << "' diverged at round " << sum.diverged_round << ": "
                << sum.reason << "; going on with the next run\n"
                << std::flush;
  }
  return sum;
}

// Runs one run, start to summary. A run whose training diverged (a peer's Aborted status) ends
// in a summary with status "diverged"; every other error is returned.
Result<RunSummary> LaunchRun(const LaunchOptions& o, const Experiment& exp, const RunConfig& run,
                             const std::string& out_dir, int64_t resume_round,
                             const HostsFile* hosts) {
  const int n = run.topology->size();
  const std::string run_dir = out_dir + "/" + run.name;
  HEARSAY_RETURN_IF_ERROR(ClearRunDir(run_dir, resume_round > 0));
  if (resume_round > 0 && o.progress) {
    *o.progress << "run '" << run.name << "': resuming from the checkpoints of round "
                << resume_round << "\n"
                << std::flush;
  }
  HEARSAY_RETURN_IF_ERROR(WriteFile(run_dir + "/config.yaml", ResolvedConfigYaml(exp, {&run})));
  HEARSAY_RETURN_IF_ERROR(WriteRunIdentity(run_dir, RunIdentity{exp.source, run.name}));
  // Over TCP the peer processes read a text data file through the index this build leaves in
  // the run folder, instead of each parsing the whole file.
  HEARSAY_ASSIGN_OR_RETURN(
      Workload w, BuildWorkload(run, n, exp.transport == TransportKind::kTcp ? run_dir : ""));
  auto workload = std::make_shared<const Workload>(std::move(w));
  std::vector<PeerOutcome> outcomes(n);
  if (exp.transport == TransportKind::kSim) {
    std::vector<EvalPoint> time_curve;
    Result<std::vector<EvalPoint>> sim = RunSim(o, run, workload, run_dir, &time_curve, &outcomes);
    if (sim.ok()) {
      HEARSAY_RETURN_IF_ERROR(WritePeerOutcomes(run_dir, outcomes));
      return MakeRunSummary(exp, run, run_dir, outcomes, std::move(sim).value(),
                            std::move(time_curve));
    }
    if (DivergedRound(sim.status()) < 0) return sim.status();
    return ReportDiverged(o, exp, run, run_dir, outcomes,
                          DivergedSummary(run, *workload, run_dir, /*snapshots=*/false,
                                          DivergedRound(sim.status()), sim.status()));
  }
  ProgressTracker tracker(run_dir, n);
  Status s =
      exp.transport == TransportKind::kInproc
          ? RunInProc(
                run, workload, run_dir, resume_round, o.stop, &tracker,
                [&] { ShowProgress(o, tracker.Line(run.name, run.rounds, run.duration_s), false); },
                &outcomes, o.threads)
          : RunProcesses(o, exp, run, run_dir, resume_round, hosts, &tracker, &outcomes);
  tracker.Poll();
  ShowProgress(o, tracker.Line(run.name, run.rounds, run.duration_s), true);
  HEARSAY_RETURN_IF_ERROR(WritePeerOutcomes(run_dir, outcomes));
  // The same evaluation `hearsay report` runs on peers started by other means.
  if (s.ok()) return SummarizeRunFolder(exp, run, *workload, run_dir, outcomes);
  if (DivergedRound(s) < 0) return s;
  return ReportDiverged(
      o, exp, run, run_dir, outcomes,
      DivergedSummary(run, *workload, run_dir, /*snapshots=*/true, DivergedRound(s), s));
}

}  // namespace

Result<std::vector<RunSummary>> Launch(const LaunchOptions& o) {
  HEARSAY_ASSIGN_OR_RETURN(Experiment exp, LoadExperiment(o.experiment_path));
  if (o.transport) exp.transport = *o.transport;
  std::vector<const RunConfig*> selected;
  for (const auto& name : o.runs) {
    const RunConfig* run = exp.FindRun(name);
    if (!run) {
      std::string valid;
      for (const auto& r : exp.runs) valid += (valid.empty() ? "" : ", ") + r.name;
      return InvalidArgument(o.experiment_path + ": no run named '" + name + "' (runs: " + valid +
                             ")");
    }
    if (std::find(selected.begin(), selected.end(), run) == selected.end()) {
      selected.push_back(run);
    }
  }
  if (o.runs.empty()) {
    for (const RunConfig& r : exp.runs) selected.push_back(&r);
  }
  if (o.chaos_rate > 0) {
    for (const RunConfig* run : selected) {  // exp.runs is this function's own copy
      HEARSAY_RETURN_IF_ERROR(AddChaos(const_cast<RunConfig*>(run), o.chaos_rate, o.chaos_seed));
    }
  }
  for (const RunConfig* run : selected) {  // before anything starts
    HEARSAY_RETURN_IF_ERROR(CheckFaults(*run, exp.transport, exp.source));
    if (exp.transport == TransportKind::kSim && run->device.kind != DeviceKind::kCpu) {
      return InvalidArgument(exp.source + ": run '" + run->name + "': device " +
                             run->device.ToString() +
                             ": the simulator runs every peer on the CPU; set `device: cpu` to "
                             "simulate this run, or use --transport inproc or tcp to train on "
                             "the GPU");
    }
  }
  HEARSAY_RETURN_IF_ERROR(CheckInProcThreads(o.threads, exp.transport));
  std::optional<HostsFile> hosts;
  if (!o.hosts_file.empty()) {
    if (exp.transport != TransportKind::kTcp) {
      return InvalidArgument(
          "--hosts starts `hearsay peer` processes over ssh: it needs transport "
          "tcp, not " +
          std::string(TransportName(exp.transport)));
    }
    HEARSAY_ASSIGN_OR_RETURN(hosts, LoadHostsFile(o.hosts_file));
    for (const RunConfig* run : selected) {  // too few slots: before anything starts
      HEARSAY_RETURN_IF_ERROR(hosts->Place(run->topology->size()).status());
    }
  }
  exp.output_dir = o.out_dir.empty() ? exp.output_dir : o.out_dir;
  const std::string& out_dir = exp.output_dir;
  if (o.dry_run) {
    if (o.progress) PrintPlan(o, exp, selected, out_dir);
    return std::vector<RunSummary>{};
  }
  std::map<std::string, int64_t> resume_rounds;
  if (o.resume) {
    HEARSAY_ASSIGN_OR_RETURN(resume_rounds, ResumeRounds(exp, selected, out_dir));
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Unavailable(out_dir + ": cannot create output folder: " + ec.message());
  std::vector<const RunConfig*> all;
  for (const RunConfig& r : exp.runs) all.push_back(&r);
  HEARSAY_RETURN_IF_ERROR(WriteFile(out_dir + "/config.yaml", ResolvedConfigYaml(exp, all)));

  std::vector<RunSummary> summaries;
  for (const RunConfig* run : selected) {
    if (o.stop && o.stop->load()) return Cancelled("interrupted");
    Result<RunSummary> result = LaunchRun(
        o, exp, *run, out_dir, o.resume ? resume_rounds[run->name] : 0, hosts ? &*hosts : nullptr);
    if (!result.ok()) {
      // A failed run (not an interrupted one) gets its row, status failed, before the launch
      // stops with the error: summary.csv says which run failed and why.
      if (result.status().code() != StatusCode::kCancelled) {
        RunSummary failed;
        failed.run = run->name;
        failed.algorithm = AlgorithmName(run->algorithm);
        failed.compressor = CompressorLabel(*run);
        failed.transport = TransportName(exp.transport);
        failed.simulated = exp.transport == TransportKind::kSim;
        failed.peers = run->topology->size();
        failed.grid_values = run->grid_values;
        failed.status = "failed";
        failed.reason = result.status().message();
        const double nan = std::numeric_limits<double>::quiet_NaN();
        failed.final_point.train_loss = failed.final_point.test_loss = nan;
        failed.final_point.accuracy = failed.final_point.consensus = nan;
        summaries.push_back(std::move(failed));
        Status written = WriteResults(summaries, out_dir, /*keep_others=*/!o.runs.empty());
        if (!written.ok()) HEARSAY_LOG_WARN("{}", written.message());
      }
      return result.status();
    }
    summaries.push_back(std::move(result).value());
    // After every run, so an interrupted experiment keeps what it finished.
    HEARSAY_RETURN_IF_ERROR(WriteResults(summaries, out_dir, /*keep_others=*/!o.runs.empty()));
  }
  if (o.progress) {
    *o.progress << '\n';
    PrintSummaryTable(summaries, *o.progress);
    *o.progress << "\nresults: " << out_dir << "/summary.csv, " << out_dir << "/curves.csv, plots "
                << out_dir << "/{loss_vs_rounds,loss_vs_time,loss_vs_mb,consensus_vs_rounds}.svg, "
                << (std::filesystem::exists(out_dir + "/time_to_target.svg")
                        ? "time to target " + out_dir + "/time_to_target.svg, "
                        : std::string())
                << "configuration " << out_dir << "/config.yaml, per-peer metrics in " << out_dir
                << "/<run>/\n";
  }
  return summaries;
}

}  // namespace hearsay
