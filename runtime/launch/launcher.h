// Launcher: runs every run of an experiment, one after another, and gathers the results.
//
// With transport "tcp" it spawns one `hearsay peer` process per node (children stop with the
// launcher: Ctrl-C, or any child's failure, stops all of them; no orphans). With "inproc" it runs
// the peers as threads of this process over the in-process transport. Either way traffic goes
// through the network emulator (unless the run says `emulate: false`), peers write their metrics
// and snapshots into OUT/<run>/, and the launcher evaluates the average model at every evaluation
// round, prints live progress and a final table, and writes OUT/summary.csv and OUT/curves.csv.
//
// Threading: Launch() blocks the calling thread; in-process peers run on threads it owns.
#pragma once

#include <atomic>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/launch/evaluate.h"

namespace hearsay {

struct LaunchOptions {
  std::string experiment_path;
  std::string transport = "tcp";            // tcp | inproc
  std::string out_dir;                      // "" = the experiment's `output:`
  std::vector<std::string> runs;            // only these runs ("" = all)
  std::string peer_binary;                  // tcp: the `hearsay` executable to spawn
  std::string log_level = "warn";           // peers' log level
  const std::atomic<bool>* stop = nullptr;  // Ctrl-C
  std::ostream* progress = nullptr;         // live progress and the final table (null = quiet)
  bool progress_is_tty = false;             // rewrite one progress line in place
};

// Runs the experiment. Returns the summaries of all runs (also written to summary.csv), or the
// first error (naming the run and peer).
Result<std::vector<RunSummary>> Launch(const LaunchOptions& options);

}  // namespace hearsay
