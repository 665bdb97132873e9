// RunInProc: the peers of one run in this process over the in-process transport, through the
// network emulator when the run says so (`hearsay launch --transport inproc`). The peers run on
// a few worker threads (PeerPool, peer_pool.h), not a thread each.
//
// The fault schedule acts on the peers (faults.h PeerControl): kill and pause through flags each
// peer's Pump reads; restart starts a killed peer anew on a fresh endpoint of the in-process hub,
// and the peer rejoins the run by a state transfer from its neighbours (docs/faults.md "Restart
// and rejoin").
// Threading: blocks the calling thread, which polls progress and runs the fault schedule; every
// peer ends in a Status, whatever escapes it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/launch/faults.h"
#include "runtime/launch/progress.h"
#include "runtime/peer/run_config.h"
#include "runtime/peer/workload.h"

namespace hearsay {

// `hearsay launch --threads`: 0 (the default) or a positive count with transport inproc; else
// InvalidArgument naming the flag.
Status CheckInProcThreads(int threads, TransportKind transport);

// Returns the run's status (Ok when the survivors finished a run that survives dead peers; else
// the root cause: the first peer that failed) and fills outcomes (one per peer). `stop`: Ctrl-C;
// `show_progress` is called every poll. `threads`: worker threads (0: DefaultInProcThreads).
Status RunInProc(const RunConfig& run, std::shared_ptr<const Workload> workload,
                 const std::string& run_dir, int64_t resume_round, const std::atomic<bool>* stop,
                 ProgressTracker* tracker, const std::function<void()>& show_progress,
                 std::vector<PeerOutcome>* outcomes, int threads = 0);

}  // namespace hearsay
