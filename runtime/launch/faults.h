// Peer failures as the launcher sees them: which runs survive a dead peer, the outcome of each
// peer, and the executor of a run's fault schedule (`faults:`, docs/faults.md).
//
// A run survives a dead peer when its algorithm drops dead neighbours (D-PSGD, DCD, ECD, CHOCO)
// and liveness is on (`heartbeat` > 0): the launcher then lets the other peers finish, and the
// run succeeds when at least one peer finished; its summary says how many (`peers_alive`) and
// OUT/<run>/peers.csv says what became of each peer.
//
// FaultRunner fires `kill` (SIGKILL) and `pause` (SIGSTOP, SIGCONT `for` seconds later) at their
// time (`at:`, seconds since the peers were started) or round (`at_round: R`, as soon as the
// launcher reads that the peer completed round R) against the peer processes of a TCP run, or
// the peer threads of an in-process run (flags their loops poll: a killed peer stops without a
// goodbye, its links closed; a paused one does nothing), and records each action in
// OUT/<run>/faults.jsonl. `partition` and `link_down` are executed by the
// network emulator of every peer (the run's topology carries them as link events, added when
// the experiment loads), in TCP, in-process and simulated runs alike; the runner records when
// it sees them start and end. `restart` starts a killed peer again and `join` a late joiner
// (not started with the run); both join the running run by a state transfer. The simulator
// executes kill, pause, restart and join itself, in virtual time (runtime/sim/simulator.h). A
// fault that cannot run is refused before anything starts (CheckFaults): nothing in a schedule
// is silently ignored.
// Thread-safety: one owner thread (the launcher's polling loop).
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "runtime/launch/process.h"
#include "runtime/launch/progress.h"
#include "runtime/peer/run_config.h"

namespace hearsay {

// True when the run's peers go on without a dead neighbour (see above).
bool SurvivesDeadPeers(const RunConfig& run);
// Peer i had completed a round when it ended (its metrics file has a line): a failure after that
// is a dead peer its neighbours can go on without; one before is a run that could not start.
bool ReportedARound(const std::string& run_dir, int i);

// The schedule can be executed for this run and transport; else a one-line InvalidArgument
// naming `source`:line of the first fault that cannot.
Status CheckFaults(const RunConfig& run, TransportKind transport, const std::string& source);

struct PeerOutcome {
  enum class State {
    kFinished,
    kFailed,
    kKilled,
    kAbsent
  };  // kAbsent: a late joiner that
      // never joined
  State state = State::kFinished;
  std::string reason;  // kFailed / kKilled: why (exit code and last log line, the fault's line)
};
// "finished" | "failed" | "killed" | "absent"
const char* PeerOutcomeName(PeerOutcome::State state);

// Writes run_dir/peers.csv: peer,status,reason (RFC 4180).
Status WritePeerOutcomes(const std::string& run_dir, const std::vector<PeerOutcome>& outcomes);

// What the fault schedule does to a peer: processes get signals (ProcessControl), in-process
// peers flags their loop polls (runtime/peer/peer.h PeerOptions::kill / pause).
class PeerControl {
 public:
  virtual ~PeerControl() = default;
  virtual bool Gone(int peer) = 0;  // already ended: nothing to do
  virtual void Kill(int peer) = 0;  // no goodbye: its neighbours see its links break
  virtual void Pause(int peer) = 0;
  virtual void Resume(int peer) = 0;
  // Starts a killed peer again; it rejoins the run. False: not possible here.
  virtual bool Restart(int peer) { return false; }
  // Starts a late joiner (`join:`), not started with the run; it joins it. False: not possible.
  virtual bool Join(int peer) { return false; }
};

class ProcessControl final : public PeerControl {
 public:
  // `restart` starts peer i's process again, or for the first time (a late joiner), with
  // --rejoin; false if it could not.
  ProcessControl(std::vector<ChildProcess>* peers, std::function<bool(int)> restart,
                 std::function<bool(int)> join)
      : peers_(peers), restart_(std::move(restart)), join_(std::move(join)) {}
  bool Gone(int peer) override { return (*peers_)[peer].Poll().has_value(); }
  void Kill(int peer) override { (*peers_)[peer].Kill(); }
  void Pause(int peer) override;
  void Resume(int peer) override;
  bool Restart(int peer) override { return restart_ && restart_(peer); }
  bool Join(int peer) override { return join_ && join_(peer); }

 private:
  std::vector<ChildProcess>* peers_;
  std::function<bool(int)> restart_, join_;
};

// `hearsay launch --chaos RATE`: a seeded schedule of random kills, each followed by a restart of
// the same peer, appended to the run's faults. Kills arrive as a Poisson process of RATE per
// minute of run time over the first 90% of `duration:`, each of a random peer that is up, with
// at most a quarter of the peers (at least one) down at once; each peer stays down for a random
// 5-15% of the duration. Generated entries have line 0. Errors: a run not bounded by `duration:`,
// or whose peers cannot restart (all-reduce: CheckFaults then says why).
Status AddChaos(RunConfig* run, double kills_per_minute, uint64_t seed);
// "killed by the fault schedule (line L)", or "killed by --chaos" for a generated entry.
std::string KilledReason(const FaultSpec& f);
// What to add to a kill's reason when the peer was killed before it completed its first round
// (a scheduled kill that came too early): when, why the run stops, and what to change.
std::string KilledBeforeItStarted(TimePoint started);
// The outcome of late joiner `peer` when the run ended before its `join:` fired.
PeerOutcome NeverJoined(const RunConfig& run, int peer);

class FaultRunner {
 public:
  FaultRunner(const RunConfig& run, std::string run_dir);
  ~FaultRunner();
  FaultRunner(const FaultRunner&) = delete;
  FaultRunner& operator=(const FaultRunner&) = delete;

  // Fires what is due at `elapsed_s` seconds since the peers started, given their progress.
  void Step(double elapsed_s, const ProgressTracker& progress, PeerControl& peers);
  // Resumes every peer this runner paused (the run is ending).
  void ResumeAll(PeerControl& peers);
  // After the peers ended: records the partitions and link cuts (executed by the peers'
  // emulators) whose start or end the last rounds reached but no Step saw -- a short run may end
  // between two polls. Acts on no peer.
  void RecordNetworkFaults(double elapsed_s, const ProgressTracker& progress);
  // Peer `i` was killed by the schedule; why ("" if not).
  const std::string& killed(int i) const { return killed_[i]; }
  // Peer `i` joins late and has not joined (yet).
  bool not_joined(int i) const { return not_joined_[i] != 0; }

 private:
  void Record(double t, const char* action, int peer, int line);
  // Records network fault k's start and end as they fall due (Step and RecordNetworkFaults).
  void StepNetwork(size_t k, double elapsed_s, const ProgressTracker& progress);

  std::vector<FaultSpec> faults_;
  std::vector<char> fired_;          // per fault
  std::vector<double> resume_at_;    // per peer: when to SIGCONT (< 0: not paused)
  std::vector<std::string> killed_;  // per peer
  std::vector<char> not_joined_;     // per peer: a late joiner that has not joined yet
  std::FILE* log_ = nullptr;         // run_dir/faults.jsonl
};

}  // namespace hearsay
