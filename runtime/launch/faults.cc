#include "runtime/launch/faults.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>

#include "runtime/launch/csv.h"

namespace hearsay {

bool SurvivesDeadPeers(const RunConfig& run) {
  // A ring all-reduce needs every peer: it would wait for a dead one until round_timeout
  // (docs/faults.md). AD-PSGD gives up an average whose partner is dead and goes on.
  const bool drops = run.algorithm != AlgorithmKind::kAllreduce;
  return drops && run.heartbeat_s > 0;
}

bool ReportedARound(const std::string& run_dir, int i) {
  std::error_code ec;
  const auto size =
      std::filesystem::file_size(run_dir + "/peer_" + std::to_string(i) + ".jsonl", ec);
  return !ec && size > 0;
}

std::string KilledReason(const FaultSpec& f) {
  return f.line > 0 ? "killed by the fault schedule (line " + std::to_string(f.line) + ")"
                    : "killed by --chaos";
}

std::string KilledBeforeItStarted(TimePoint started) {
  return fmt::format(
      " {:.1f} s after the peers were started, before it completed its first round: a peer lost "
      "before the run got going stops the whole run (its neighbours cannot start without it); "
      "schedule the fault later (`at:` counts from the peers' start, start-up included) or use "
      "`at_round:`",
      SecondsSince(started));
}

PeerOutcome NeverJoined(const RunConfig& run, int peer) {
  int line = 0;
  for (const FaultSpec& f : run.faults) {
    if (f.kind == FaultSpec::Kind::kJoin && f.peers[0] == peer) line = f.line;
  }
  return {PeerOutcome::State::kAbsent,
          "never joined: the run ended before its join (line " + std::to_string(line) + ")"};
}

Status AddChaos(RunConfig* run, double kills_per_minute, uint64_t seed) {
  if (!(kills_per_minute > 0) || !std::isfinite(kills_per_minute)) {
    return InvalidArgument("--chaos " + std::to_string(kills_per_minute) +
                           ": the rate (kills per minute) must be finite and > 0");
  }
  if (run->duration_s <= 0) {
    return InvalidArgument("--chaos: run '" + run->name +
                           "' is bounded by rounds; chaos runs are bounded by `duration:`");
  }
  const int n = run->topology->size();
  const int max_down = std::max(1, n / 4);
  std::mt19937_64 rng(seed ^ (run->seed * 0x9E3779B97F4A7C15ull));
  std::exponential_distribution<double> gap(kills_per_minute / 60.0);
  std::uniform_real_distribution<double> down(0.05 * run->duration_s, 0.15 * run->duration_s);
  std::vector<double> up_at(n, 0.0);  // when each peer is up again
  for (double t = gap(rng); t < 0.9 * run->duration_s; t += gap(rng)) {
    std::vector<int> up;
    for (int i = 0; i < n; ++i) {
      if (up_at[i] <= t) up.push_back(i);
    }
    if (n - static_cast<int>(up.size()) >= max_down || up.empty()) continue;
    const int victim = up[std::uniform_int_distribution<size_t>(0, up.size() - 1)(rng)];
    const double back = t + down(rng);
    FaultSpec kill;
    kill.kind = FaultSpec::Kind::kKill;
    kill.at_s = t;
    kill.peers = {victim};
    run->faults.push_back(kill);
    up_at[victim] = back;
    if (back < run->duration_s) {
      FaultSpec restart = kill;
      restart.kind = FaultSpec::Kind::kRestart;
      restart.at_s = back;
      run->faults.push_back(restart);
    }
  }
  return Status::Ok();
}

Status CheckFaults(const RunConfig& run, TransportKind transport, const std::string& source) {
  for (const FaultSpec& f : run.faults) {
    // Faults --chaos added have no line: name the flag instead of "file:0".
    const bool chaos = f.line <= 0;
    const std::string where =
        (chaos ? std::string("--chaos") : source + ":" + std::to_string(f.line)) + ": run '" +
        run.name + "': fault '" + FaultKindName(f.kind) + "'";
    const bool network =
        f.kind == FaultSpec::Kind::kPartition || f.kind == FaultSpec::Kind::kLinkDown;
    if (f.kind == FaultSpec::Kind::kRestart) {
      const bool killed_before =
          std::any_of(run.faults.begin(), run.faults.begin() + (&f - run.faults.data()),
                      [&](const FaultSpec& g) {
                        return g.kind == FaultSpec::Kind::kKill && g.peers == f.peers;
                      });
      if (!killed_before) {
        return InvalidArgument(where + ": peer " + std::to_string(f.peers[0]) +
                               " is not killed earlier in the schedule; only a dead peer restarts");
      }
    }
    const bool joins = f.kind == FaultSpec::Kind::kRestart || f.kind == FaultSpec::Kind::kJoin;
    if (joins && (run.algorithm == AlgorithmKind::kAllreduce ||
                  run.device.kind != DeviceKind::kCpu || run.topology->graph->time_varying())) {
      return InvalidArgument(where +
                             ": a rejoin needs dpsgd, dcd, ecd, choco or adpsgd on the CPU over a "
                             "static graph (a state transfer)");
    }
    if (network && !run.emulate) {
      return InvalidArgument(where +
                             " is executed by the network emulator: the run needs "
                             "emulate: true");
    }

    if (!SurvivesDeadPeers(run)) {
      return InvalidArgument(where + ": " + AlgorithmName(run.algorithm) +
                             (run.heartbeat_s > 0 ? " does not go on without a dead peer"
                                                  : " with heartbeat 0 detects no dead peer") +
                             " (docs/faults.md)" +
                             (chaos ? "; leave this run out with --run NAME for the others" : ""));
    }
  }
  return Status::Ok();
}

const char* PeerOutcomeName(PeerOutcome::State state) {
  switch (state) {
    case PeerOutcome::State::kFinished:
      return "finished";
    case PeerOutcome::State::kFailed:
      return "failed";
    case PeerOutcome::State::kKilled:
      return "killed";
    case PeerOutcome::State::kAbsent:
      return "absent";
  }
  return "?";
}

Status WritePeerOutcomes(const std::string& run_dir, const std::vector<PeerOutcome>& outcomes) {
  std::ofstream f(run_dir + "/peers.csv", std::ios::trunc);
  f << CsvRow({"peer", "status", "reason"});
  for (size_t i = 0; i < outcomes.size(); ++i) {
    f << CsvRow({std::to_string(i), PeerOutcomeName(outcomes[i].state), outcomes[i].reason});
  }
  if (!f) return Unavailable(run_dir + "/peers.csv: cannot write");
  return Status::Ok();
}

FaultRunner::FaultRunner(const RunConfig& run, std::string run_dir)
    : faults_(run.faults),
      fired_(run.faults.size(), 0),
      resume_at_(run.topology->size(), -1.0),
      killed_(run.topology->size()),
      not_joined_(run.topology->size(), 0) {
  for (int i = 0; i < run.topology->size(); ++i) not_joined_[i] = JoinsLate(run, i) ? 1 : 0;
  if (!faults_.empty()) log_ = std::fopen((run_dir + "/faults.jsonl").c_str(), "w");
}

FaultRunner::~FaultRunner() {
  if (log_) std::fclose(log_);
}

void FaultRunner::Record(double t, const char* action, int peer, int line) {
  if (!log_) return;
  std::fprintf(log_, "{\"t\":%.3f,\"action\":\"%s\",\"peer\":%d,\"line\":%d}\n", t, action, peer,
               line);
  std::fflush(log_);
}

void ProcessControl::Pause(int peer) { (*peers_)[peer].Signal(SIGSTOP); }
void ProcessControl::Resume(int peer) { (*peers_)[peer].Signal(SIGCONT); }

void FaultRunner::Step(double elapsed_s, const ProgressTracker& progress, PeerControl& peers) {
  for (size_t p = 0; p < resume_at_.size(); ++p) {
    if (resume_at_[p] >= 0 && elapsed_s >= resume_at_[p]) {
      peers.Resume(static_cast<int>(p));
      resume_at_[p] = -1;
      Record(elapsed_s, "resume", static_cast<int>(p), 0);
    }
  }
  for (size_t k = 0; k < faults_.size(); ++k) {
    const FaultSpec& f = faults_[k];
    if (f.kind == FaultSpec::Kind::kPartition || f.kind == FaultSpec::Kind::kLinkDown) {
      StepNetwork(k, elapsed_s, progress);
      continue;
    }
    if (fired_[k] || f.peers.empty()) continue;
    const int peer = f.peers[0];
    // kill and pause fire at the peer's own round; a restart or a join (the peer is not
    // running) at anybody's.
    const bool absent = f.kind == FaultSpec::Kind::kRestart || f.kind == FaultSpec::Kind::kJoin;
    bool reached = progress.round(peer) >= f.at_round;
    for (int i = 0; absent && i < progress.size(); ++i) {
      reached |= progress.round(i) >= f.at_round;
    }
    const bool due = f.at_s >= 0 ? elapsed_s >= f.at_s : reached;
    if (!due) continue;
    fired_[k] = 1;
    if (f.kind == FaultSpec::Kind::kJoin) {
      if (peers.Join(peer)) {
        not_joined_[peer] = 0;
        Record(elapsed_s, "join", peer, f.line);
      }
      continue;
    }
    if (not_joined_[peer]) continue;  // nothing happens to a peer that is not there yet
    if (f.kind == FaultSpec::Kind::kRestart) {
      if (!killed_[peer].empty() && !peers.Gone(peer)) {
        fired_[k] = 0;  // the killed process has not ended yet: try again at the next step
        continue;
      }
      if (!killed_[peer].empty() && peers.Restart(peer)) {
        killed_[peer].clear();
        Record(elapsed_s, "restart", peer, f.line);
      }
      continue;
    }
    if (peers.Gone(peer)) continue;
    if (f.kind == FaultSpec::Kind::kKill) {
      peers.Kill(peer);
      killed_[peer] = KilledReason(f);
      Record(elapsed_s, "kill", peer, f.line);
    } else if (f.kind == FaultSpec::Kind::kPause) {
      peers.Pause(peer);
      resume_at_[peer] = elapsed_s + f.for_s;
      Record(elapsed_s, "pause", peer, f.line);
    }
  }
}

void FaultRunner::StepNetwork(size_t k, double elapsed_s, const ProgressTracker& progress) {
  const FaultSpec& f = faults_[k];
  // Executed by the peers' emulators (topology events); recorded here when the launcher sees it
  // start and end (a round-based one: when the first peer reached the round).
  const char* name = FaultKindName(f.kind);
  const auto reached = [&](int64_t round) {
    for (int i = 0; i < progress.size(); ++i) {
      if (progress.round(i) >= round) return true;
    }
    return false;
  };
  if (fired_[k] == 0 && (f.at_s >= 0 ? elapsed_s >= f.at_s : reached(f.at_round))) {
    fired_[k] = 1;
    Record(elapsed_s, name, -1, f.line);
  }
  const bool ends = f.for_s > 0 || f.until_round > 0;
  if (fired_[k] == 1 && ends &&
      (f.until_round > 0 ? reached(f.until_round) : elapsed_s >= f.at_s + f.for_s)) {
    fired_[k] = 2;
    Record(elapsed_s, "heal", -1, f.line);
  }
}

void FaultRunner::RecordNetworkFaults(double elapsed_s, const ProgressTracker& progress) {
  for (size_t k = 0; k < faults_.size(); ++k) {
    const FaultSpec::Kind kind = faults_[k].kind;
    if (kind == FaultSpec::Kind::kPartition || kind == FaultSpec::Kind::kLinkDown) {
      StepNetwork(k, elapsed_s, progress);
    }
  }
}

void FaultRunner::ResumeAll(PeerControl& peers) {
  for (size_t p = 0; p < resume_at_.size(); ++p) {
    if (resume_at_[p] >= 0) peers.Resume(static_cast<int>(p));
    resume_at_[p] = -1;
  }
}

}  // namespace hearsay
