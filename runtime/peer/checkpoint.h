// Checkpoint files (docs/faults.md "Checkpoints and resume"): a peer's whole state after a round,
// written every run.checkpoint_every rounds, read back by `hearsay launch --resume OUT`.
//
//   OUT/<run>/checkpoints/p<id>_r<round>.ckpt
//
// Layout (little-endian): the 8 bytes "HSCKPT1\n", u32 peer, i64 round, u64 run fingerprint,
// u64 state length, the state (PeerCore::SaveState), u64 checksum of the state. A file is written
// to a temporary name, flushed and renamed, so a crash mid-write never leaves a torn checkpoint;
// each peer keeps its last `kCheckpointsKept` files. The fingerprint ties a checkpoint to its
// run (graph and weights, algorithm and codec, model, data, seed, optimizers, batch size; not
// the addresses, which may change between a run and its resumption): resuming
// another experiment's checkpoints is refused before anything starts.
// Thread-safety: functions only; each peer writes its own files.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/byte_buffer.h"
#include "common/status.h"
#include "runtime/peer/run_config.h"
#include "topology/topology_spec.h"

namespace hearsay {

inline constexpr int kCheckpointsKept = 2;

// The run's identity for checkpoints (vector sizes are checked again when the state is read).
uint64_t CheckpointFingerprint(const RunConfig& run, const TopologySpec& topology);

std::string CheckpointDir(const std::string& run_dir);
std::string CheckpointPath(const std::string& run_dir, int peer, int64_t round);

// Writes atomically, then removes this peer's checkpoints older than the last kCheckpointsKept.
Status WriteCheckpoint(const std::string& run_dir, int peer, int64_t round, uint64_t fingerprint,
                       std::span<const uint8_t> state);

// Reads and verifies a checkpoint of `peer` at `round`: magic, peer, round, fingerprint (another
// experiment's checkpoint is refused, naming the file), length and checksum.
Result<ByteBuffer> ReadCheckpoint(const std::string& run_dir, int peer, int64_t round,
                                  uint64_t fingerprint);

// The rounds for which every peer 0..n-1 has a checkpoint file in run_dir, ascending (empty when
// there are none in common; the folder may not exist).
std::vector<int64_t> CommonCheckpointRounds(const std::string& run_dir, int n);

}  // namespace hearsay
