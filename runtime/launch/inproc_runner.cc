#include "runtime/launch/inproc_runner.h"

#include <chrono>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "runtime/emulator/link_emulator.h"
#include "runtime/launch/peer_pool.h"
#include "runtime/launch/results.h"
#include "runtime/peer/peer.h"
#include "runtime/transport/inproc/inproc_transport.h"

namespace hearsay {
namespace {

// The fault schedule's hands on in-process peers: flags their loops poll, and a restart hook.
class InProcControl final : public PeerControl {
 public:
  InProcControl(int n, std::function<bool(int)> restart, std::function<bool(int)> join)
      : kill_(n), pause_(n), ended_(n), restart_(std::move(restart)), join_(std::move(join)) {}
  bool Gone(int peer) override { return ended_[peer].load(); }
  void Kill(int peer) override { kill_[peer] = true; }
  void Pause(int peer) override { pause_[peer] = true; }
  void Resume(int peer) override { pause_[peer] = false; }
  bool Restart(int peer) override {
    // The killed peer ends within a poll (200 ms) of its flag: wait for its endpoint to close.
    for (int k = 0; k < 1000 && !ended_[peer].load(); ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!ended_[peer].load()) return false;
    kill_[peer] = false;
    pause_[peer] = false;
    ended_[peer] = false;
    return restart_(peer);
  }
  bool Join(int peer) override { return join_(peer); }
  const std::atomic<bool>* kill_flag(int peer) const { return &kill_[peer]; }
  const std::atomic<bool>* pause_flag(int peer) const { return &pause_[peer]; }
  void Ended(int peer) { ended_[peer] = true; }

 private:
  std::vector<std::atomic<bool>> kill_, pause_, ended_;
  std::function<bool(int)> restart_, join_;
};

}  // namespace

Status CheckInProcThreads(int threads, TransportKind transport) {
  if (threads == 0) return Status::Ok();
  if (transport != TransportKind::kInproc) {
    return InvalidArgument("--threads " + std::to_string(threads) +
                           " sets how many threads run in-process peers: it needs transport "
                           "inproc, not " +
                           std::string(TransportName(transport)));
  }
  if (threads < 0) {
    return InvalidArgument("--threads " + std::to_string(threads) + ": give 1 or more");
  }
  return Status::Ok();
}

Status RunInProc(const RunConfig& run, std::shared_ptr<const Workload> workload,
                 const std::string& run_dir, int64_t resume_round, const std::atomic<bool>* stop,
                 ProgressTracker* tracker, const std::function<void()>& show_progress,
                 std::vector<PeerOutcome>* outcomes, int threads) {
  const int n = run.topology->size();
  const bool survive = SurvivesDeadPeers(run);
  InProcHub hub(n);
  std::atomic<bool> stop_all{false};
  std::mutex mu;  // guards first_failure, results
  int first_failure = -1;
  std::vector<Status> results(n);
  std::atomic<int> running{0};
  const TimePoint epoch = Now();  // one time origin for every peer (time-grid snapshots)
  // start(i, rejoin, reopen): a restart reopens the killed peer's endpoint; a late joiner
  // (`join:`) rejoins on its first one.
  std::function<bool(int, bool, bool)> start;
  InProcControl control(
      n, [&](int peer) { return start(peer, true, true); },
      [&](int peer) { return start(peer, true, false); });
  // Declared after what the peers' `done` touches: destroyed (its threads joined) first.
  PeerPool pool(n, threads > 0 ? threads : DefaultInProcThreads(n));
  start = [&](int i, bool rejoin, bool reopen) {
    std::unique_ptr<Transport> t = reopen ? hub.Reopen(i) : hub.Endpoint(i);
    if (!t) return false;
    // Nothing to emulate on an ideal network (TopologySpec::IdealNetwork): no emulator thread.
    if (run.emulate && !run.topology->IdealNetwork()) {
      t = MakeEmulatedTransport(std::move(t), run.topology, i, run.seed);
    }
    PeerOptions po = PeerOptions::For(i, run, workload);
    po.out_dir = run_dir;
    po.stop = &stop_all;
    po.epoch = epoch;
    po.resume_round = resume_round;
    po.rejoin = rejoin;
    po.kill = control.kill_flag(i);
    po.pause = control.pause_flag(i);
    ++running;
    // A peer ends in a Status, whatever escapes it (the pool's guarantee): its siblings then
    // stop cleanly.
    pool.Start(i, std::make_unique<Peer>(std::move(po)), std::move(t),
               [&, i](Status result, const Peer&) {
                 {
                   std::lock_guard<std::mutex> guard(mu);
                   results[i] = result;
                   if (!result.ok()) {
                     // The first peer to fail is the root cause; its siblings fail because of it.
                     if (first_failure < 0) first_failure = i;
                     // A peer that dies mid-run is dropped by its neighbours, who go on without it.
                     if (!survive || !ReportedARound(run_dir, i)) stop_all = true;
                   }
                 }
                 control.Ended(i);
                 --running;
               });
    return true;
  };
  for (int i = 0; i < n; ++i) {
    if (!JoinsLate(run, i)) start(i, false, false);  // a late joiner starts at its `join:`
  }
  // Watch for Ctrl-C while the peers run, and execute the fault schedule.
  FaultRunner faults(run, run_dir);
  while (running.load() > 0) {
    if (stop && stop->load()) stop_all = true;
    tracker->Poll();
    if (!stop_all) faults.Step(SecondsSince(epoch), *tracker, control);
    show_progress();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  faults.ResumeAll(control);
  // The peers' last lines are on disk now: a short run may have reached a partition's rounds
  // between two polls.
  tracker->Poll();
  if (!stop_all) faults.RecordNetworkFaults(SecondsSince(epoch), *tracker);
  // Ctrl-C: whatever the peers said on the way out, the run was interrupted.
  if (stop && stop->load()) return Cancelled("interrupted");
  outcomes->assign(n, PeerOutcome{});
  int finished_ok = 0;
  bool started_up = !stop_all;  // no peer failed before its first round
  for (int i = 0; i < n; ++i) {
    if (faults.not_joined(i)) {
      (*outcomes)[i] = NeverJoined(run, i);
    } else if (results[i].ok()) {
      ++finished_ok;
    } else if (!faults.killed(i).empty()) {
      (*outcomes)[i] = {PeerOutcome::State::kKilled, faults.killed(i)};
    } else {
      (*outcomes)[i] = {PeerOutcome::State::kFailed, results[i].ToString()};
    }
  }
  // A peer whose training diverged makes the run a diverged result, whatever the others did.
  if (first_failure >= 0 && DivergedRound(results[first_failure]) >= 0) {
    return results[first_failure];
  }
  for (const Status& s : results) {
    if (DivergedRound(s) >= 0) return s;
  }
  if (survive && started_up && finished_ok > 0) return Status::Ok();  // the survivors' run
  // Else the root cause: the first peer that failed (not a sibling stopped because of it).
  if (first_failure >= 0 && results[first_failure].code() != StatusCode::kCancelled) {
    return results[first_failure];
  }
  for (const Status& s : results) {
    if (!s.ok() && s.code() != StatusCode::kCancelled) return s;
  }
  for (const Status& s : results) {
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace hearsay
