// ProgressTracker: live progress of a running run, read from the peers' metrics files.
//
// It follows each peer_<i>.jsonl from where it last stopped (no re-reading), keeps each peer's
// latest round, local loss, megabytes sent and wall time, and formats one line. Only the newest
// round record of what was appended is parsed (at most the last MiB is read), so a poll costs
// the same however many rounds went by. Averages cover
// only the peers that have reported at least once (a peer still starting does not pull the mean
// to zero). A non-finite loss, which the peers write as JSON null, reads as NaN and shows as
// "nan" rather than stopping the launcher.
// Thread-safety: one owner thread.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace hearsay {

class ProgressTracker {
 public:
  ProgressTracker(std::string run_dir, int num_peers);

  // Reads the lines the peers appended since the last call (a partial last line waits).
  void Poll();
  // "[run] round 12/200 (peer 3 slowest; fastest at 14)  local loss 0.4123  1.20 MB/peer  3.4 s"
  // for a run of `rounds` rounds (kUnlimitedRounds: bounded by `duration_s` instead).
  std::string Line(const std::string& run, int64_t rounds, double duration_s) const;

  int reported() const;  // peers that have written at least one line
  int size() const { return static_cast<int>(peers_.size()); }
  // The latest round peer `i` reported (0 before its first line).
  int64_t round(int i) const { return peers_[static_cast<size_t>(i)].round; }

 private:
  struct PeerProgress {
    std::streamoff offset = 0;
    bool reported = false;
    int64_t round = 0;
    double loss = 0, mb = 0, wall = 0;
  };
  std::string run_dir_;
  std::vector<PeerProgress> peers_;
};

}  // namespace hearsay
