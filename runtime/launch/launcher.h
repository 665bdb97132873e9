// Launcher: runs the runs of an experiment, one after another, and gathers the results.
//
// With transport tcp it spawns one `hearsay peer` process per node (children stop with the
// launcher: Ctrl-C, or any child's failure, stops all of them; no orphans). With inproc it runs
// the peers in this process, on a few worker threads (peer_pool.h), over the in-process
// transport. Either way traffic goes
// through the network emulator (unless the run says `emulate: false`), peers write their metrics
// and snapshots into OUT/<run>/, and the launcher evaluates the average model at round 0 and at
// every evaluation round, prints live progress and a final table, and writes OUT/summary.csv,
// OUT/curves.csv and the plots (runtime/launch/results.h).
//
// Before any peer starts it writes OUT/config.yaml (every run of the experiment, resolved, with
// the hearsay version, build options and commit) and OUT/<run>/config.yaml (that run alone).
// A dry run prints that configuration and the list of runs it would start, and starts nothing.
//
// Threading: Launch() blocks the calling thread; in-process peers run on worker threads it owns.
#pragma once

#include <atomic>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/launch/results.h"
#include "runtime/peer/run_config.h"

namespace hearsay {

struct LaunchOptions {
  std::string experiment_path;
  std::optional<TransportKind> transport;  // overrides the experiment's `transport:`
  std::string out_dir;                     // "" = the experiment's `output:`
  std::vector<std::string> runs;           // only these runs (empty = all); keeps other rows
  std::string peer_binary;                 // tcp: the `hearsay` executable to spawn
  std::string log_level = "warn";          // peers' log level
  // tcp: start the peers on these hosts over ssh (runtime/launch/hosts_file.h, remote.h);
  // "" = all on this machine. `ssh` is the client to run (found on PATH).
  std::string hosts_file;
  std::string ssh = "ssh";
  bool dry_run = false;  // print the resolved config and run list only
  // inproc: the worker threads that run the peers (0: one per CPU core, at most one per peer).
  // InvalidArgument with another transport.
  int threads = 0;
  // Resume the runs in out_dir from their checkpoints (docs/faults.md "Checkpoints and resume").
  // Each run continues from the latest round for which every peer has a checkpoint; runs with
  // none start afresh; InvalidArgument when no selected run has any, or they belong to another
  // experiment (nothing is started then).
  bool resume = false;
  // Random kills and restarts at this many kills per minute, seeded (faults.h AddChaos); 0 = off.
  double chaos_rate = 0;
  uint64_t chaos_seed = 1;
  const std::atomic<bool>* stop = nullptr;  // Ctrl-C
  std::ostream* progress = nullptr;         // live progress and the final table (null = quiet)
  bool progress_is_tty = false;             // rewrite one progress line in place
};

// Runs the experiment. Returns the summaries of the runs it ran (also written to summary.csv;
// none for a dry run), or the first error (naming the run and peer). Bad input (the experiment,
// an unknown run) is InvalidArgument or NotFound, before anything is written. A run that diverged
// (a peer's loss became non-finite) is a result: its summary has status "diverged" and the launch
// goes on. A run that failed otherwise gets a summary.csv row with status "failed", then its
// error is returned.
Result<std::vector<RunSummary>> Launch(const LaunchOptions& options);

}  // namespace hearsay
