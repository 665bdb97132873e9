// RunFiles: what one peer writes into its run folder (docs/experiment_format.md "Outputs").
//
//   peer_<id>.jsonl        one JSON line per round (RoundRecord + wire bytes)
//   snap_r<t>_p<id>.f32    model after End(t) at evaluation rounds   (raw little-endian float32)
//   snap_t<k>_p<id>.f32    model at k * eval_every_s seconds         (time-grid evaluation)
//   peer_<id>.final.f32    the model the peer ends with
//   peer_<id>.replay       async runs: which messages each End absorbed (the replay log)
//
// Lines and log records are buffered and appended in blocks (the file is opened, appended and
// closed per block, so thousands of simulated peers never hold thousands of descriptors); a
// block is written when it passes 64 KiB, when `flush_every_s` of run time passed since the last
// one (live progress for the launcher), and by Flush(); the first two leave the newest round's
// line for the next block, since the core writes that round's snapshot just after it (a peer
// killed in between must not leave a line without its snapshot). Snapshots are written at once.
//
// Replay log format (little-endian): the 8 bytes "HSRPLY1\n", then one record per End:
//   varint round, varint count, count x (varint sender * 8 + kind, varint round)
// (kind: the MessageKind absorbed -- gossip, or an AD-PSGD average request or reply).
// (varint: LEB128, unsigned). Thread-safety: none; one driver thread per peer.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include "common/status.h"
#include "runtime/peer/peer_core.h"

namespace hearsay {

class RunFiles {
 public:
  // Creates out_dir if needed and truncates this peer's files. `replay_log`: also write
  // peer_<id>.replay. `flush_every_s` <= 0: flush by size only.
  // resume_round > 0 (a run resumed from its checkpoint of that round): the metrics lines of
  // rounds up to resume_round are kept and later ones dropped, and the wire-byte counters go on
  // from the last kept line.
  static Result<std::unique_ptr<RunFiles>> Open(const std::string& out_dir, int peer,
                                                bool replay_log, double flush_every_s,
                                                int64_t resume_round = 0);
  ~RunFiles();

  Status WriteRound(const RoundRecord& r, uint64_t bytes_sent, uint64_t bytes_received);
  Status WriteSnapshot(const SnapshotKey& key, std::span<const float> x);
  Status WriteApplied(int64_t round, std::span<const MessageId> applied);
  Status Flush();
  // Flushes the metrics lines, then writes the checkpoint (checkpoint.h) with `fingerprint` on a
  // background thread, so training goes on meanwhile; waits first for the previous one (at most
  // one state in flight) and returns its error, if any. Takes *state and leaves there the buffer
  // the previous checkpoint was written from (cleared), for the caller to reuse. Flush() waits
  // for the write in flight too.
  Status WriteCheckpoint(int64_t round, uint64_t fingerprint, ByteBuffer* state);

  static std::string SnapshotPath(const std::string& dir, const SnapshotKey& key, int peer);
  static std::string MetricsPath(const std::string& dir, int peer);
  static std::string ReplayPath(const std::string& dir, int peer);

 private:
  RunFiles(std::string dir, int peer, bool replay_log, double flush_every_s);
  Status Append(const std::string& path, std::string* buffer);

  std::string dir_;
  int peer_;
  bool replay_log_;
  double flush_every_s_;
  double last_flush_s_ = 0;
  std::string metrics_;                                     // pending JSON lines
  std::string replay_;                                      // pending log records
  uint64_t bytes_sent_base_ = 0, bytes_received_base_ = 0;  // resumed: counters so far
  Status WaitForCheckpoint();
  Status FlushLines();             // the pending metrics lines and log records
  std::thread checkpoint_writer_;  // the checkpoint being written, if any
  ByteBuffer checkpoint_state_;    // its state (the writer thread reads it)
  Status checkpoint_status_;       // its result (set by that thread before it ends)
};

// Reads a replay log written by RunFiles (errors name the file and the byte offset).
Result<ReplaySchedule> ReadReplayLog(const std::string& path);

}  // namespace hearsay
