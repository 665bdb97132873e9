// Replay: re-executes a recorded asynchronous run in one process and checks that it ends with
// the very same models (issue 10 "Replay"; docs/simulator.md).
//
// An async run's peers record, before each End, which messages (sender, round) they absorbed
// (RunFiles' peer_<id>.replay). Given the run's configuration, replay drives every peer's
// PeerCore through the simulator with those schedules instead of the link model: each End
// absorbs exactly what the recorded End absorbed, in the same order, and the run stops at each
// peer's recorded last round. Since everything else is a pure function of the seeds, the final
// models are bit-identical to the recorded peer_<id>.final.f32 -- the report says so, or names
// every peer that differs and by how much.
// Thread-safety: reentrant; blocks the calling thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/workload.h"

namespace hearsay {

struct ReplayPeerResult {
  int peer = 0;
  int64_t rounds = 0;      // rounds replayed
  bool identical = false;  // the final model matches the recorded one bit for bit
  int64_t differing = 0;   // parameters that differ
  double max_abs_diff = 0;
};

struct ReplayReport {
  std::vector<ReplayPeerResult> peers;
  double real_seconds = 0;
  bool all_identical() const;
};

// `run_dir` holds the recorded run (peer_<id>.replay and peer_<id>.final.f32 for every peer).
// Errors: no log (a synchronous run, or not a run folder), a truncated or foreign log, a missing
// final model, a log that does not fit this configuration (its replay stalls or fails).
Result<ReplayReport> ReplayRecordedRun(const RunConfig& run,
                                       std::shared_ptr<const TopologySpec> topology,
                                       const std::string& run_dir);

// The run folder's run.json (written by the launcher): the experiment file and run name.
struct RunIdentity {
  std::string experiment;
  std::string run;
};
Status WriteRunIdentity(const std::string& run_dir, const RunIdentity& id);
Result<RunIdentity> ReadRunIdentity(const std::string& run_dir);

}  // namespace hearsay
