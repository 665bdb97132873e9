#include "runtime/peer/run_files.h"

#include <charconv>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "runtime/peer/checkpoint.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBlockBytes = 64 * 1024;
constexpr char kReplayMagic[] = "HSRPLY1\n";

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// JSON has no NaN or infinity: a diverged loss is written as null.
// Shortest round-trip text (std::to_chars: no format string to parse, no iterator buffer; a
// metrics line is written every round).
void PutNumber(std::string* out, double v) {
  if (std::isfinite(v)) {
    char buf[32];
    out->append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  } else {
    out->append("null");
  }
}

template <typename Int>
void PutInt(std::string* out, Int v) {
  char buf[24];
  out->append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

}  // namespace

RunFiles::RunFiles(std::string dir, int peer, bool replay_log, double flush_every_s)
    : dir_(std::move(dir)), peer_(peer), replay_log_(replay_log), flush_every_s_(flush_every_s) {}

RunFiles::~RunFiles() { (void)Flush(); }

std::string RunFiles::MetricsPath(const std::string& dir, int peer) {
  return dir + "/peer_" + std::to_string(peer) + ".jsonl";
}

std::string RunFiles::ReplayPath(const std::string& dir, int peer) {
  return dir + "/peer_" + std::to_string(peer) + ".replay";
}

std::string RunFiles::SnapshotPath(const std::string& dir, const SnapshotKey& key, int peer) {
  switch (key.kind) {
    case SnapshotKey::Kind::kRound:
      return dir + "/snap_r" + std::to_string(key.index) + "_p" + std::to_string(peer) + ".f32";
    case SnapshotKey::Kind::kTime:
      return dir + "/snap_t" + std::to_string(key.index) + "_p" + std::to_string(peer) + ".f32";
    case SnapshotKey::Kind::kFinal:
      break;
  }
  return dir + "/peer_" + std::to_string(peer) + ".final.f32";
}

// The number after "key": in a metrics line (0 when absent).
static uint64_t JsonField(const std::string& line, const std::string& key) {
  const size_t at = line.find("\"" + key + "\":");
  if (at == std::string::npos) return 0;
  return std::strtoull(line.c_str() + at + key.size() + 3, nullptr, 10);
}

Result<std::unique_ptr<RunFiles>> RunFiles::Open(const std::string& out_dir, int peer,
                                                 bool replay_log, double flush_every_s,
                                                 int64_t resume_round) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Unavailable(out_dir + ": cannot create folder: " + ec.message());
  std::unique_ptr<RunFiles> f(new RunFiles(out_dir, peer, replay_log, flush_every_s));
  if (resume_round > 0) {
    // Keep the lines of rounds up to the checkpoint (the resumed peer writes the later ones).
    std::ifstream in(MetricsPath(out_dir, peer));
    std::string line, kept;
    while (std::getline(in, line)) {
      if (static_cast<int64_t>(JsonField(line, "round")) > resume_round) break;
      kept += line + "\n";
      f->bytes_sent_base_ = JsonField(line, "bytes_sent");
      f->bytes_received_base_ = JsonField(line, "bytes_received");
    }
    in.close();
    std::ofstream m(MetricsPath(out_dir, peer), std::ios::trunc);
    m << kept;
    if (!m) return Unavailable(MetricsPath(out_dir, peer) + ": cannot write metrics");
  } else {
    std::ofstream m(MetricsPath(out_dir, peer), std::ios::trunc);
    if (!m) return Unavailable(MetricsPath(out_dir, peer) + ": cannot write metrics");
  }
  if (replay_log) {
    std::ofstream r(ReplayPath(out_dir, peer), std::ios::trunc | std::ios::binary);
    r.write(kReplayMagic, 8);
    if (!r) return Unavailable(ReplayPath(out_dir, peer) + ": cannot write the replay log");
  } else {
    fs::remove(ReplayPath(out_dir, peer), ec);  // a stale log of an earlier async run
  }
  return f;
}

Status RunFiles::Append(const std::string& path, std::string* buffer) {
  if (buffer->empty()) return Status::Ok();
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (f == nullptr) return Unavailable(path + ": cannot append");
  const size_t n = std::fwrite(buffer->data(), 1, buffer->size(), f);
  const int closed = std::fclose(f);
  if (n != buffer->size() || closed != 0) return Unavailable(path + ": write failed (disk full?)");
  buffer->clear();
  return Status::Ok();
}

Status RunFiles::WriteCheckpoint(int64_t round, uint64_t fingerprint, ByteBuffer* state) {
  HEARSAY_RETURN_IF_ERROR(Append(MetricsPath(dir_, peer_), &metrics_));
  HEARSAY_RETURN_IF_ERROR(WaitForCheckpoint());
  checkpoint_state_.swap(*state);  // the previous state's buffer goes back to the caller
  state->clear();
  checkpoint_writer_ = std::thread([this, round, fingerprint] {
    // A thread body ends in a Status, whatever escapes.
    try {
      checkpoint_status_ =
          hearsay::WriteCheckpoint(dir_, peer_, round, fingerprint, checkpoint_state_);
    } catch (const std::exception& e) {
      checkpoint_status_ = Internal("peer " + std::to_string(peer_) + " checkpoint: " + e.what());
    } catch (...) {
      checkpoint_status_ = Internal("peer " + std::to_string(peer_) + " checkpoint failed");
    }
  });
  return Status::Ok();
}

Status RunFiles::WaitForCheckpoint() {
  if (checkpoint_writer_.joinable()) checkpoint_writer_.join();
  Status s = checkpoint_status_;
  checkpoint_status_ = Status::Ok();
  return s;
}

Status RunFiles::Flush() {
  HEARSAY_RETURN_IF_ERROR(WaitForCheckpoint());
  return FlushLines();
}

Status RunFiles::FlushLines() {
  HEARSAY_RETURN_IF_ERROR(Append(MetricsPath(dir_, peer_), &metrics_));
  if (replay_log_) HEARSAY_RETURN_IF_ERROR(Append(ReplayPath(dir_, peer_), &replay_));
  return Status::Ok();
}

Status RunFiles::WriteRound(const RoundRecord& r, uint64_t bytes_sent, uint64_t bytes_received) {
  std::string& s = metrics_;
  const size_t before = s.size();  // the lines of earlier rounds
  s.append("{\"peer\":");
  PutInt(&s, r.peer);
  s.append(",\"round\":");
  PutInt(&s, r.round);
  s.append(",\"wall_s\":");
  PutNumber(&s, r.wall_s);
  s.append(",\"loss\":");
  PutNumber(&s, r.loss);
  s.append(",\"lr\":");
  PutNumber(&s, r.lr);
  s.append(",\"inner_steps\":");
  PutInt(&s, r.inner_steps);
  s.append(",\"payload_bytes_sent\":");
  PutInt(&s, r.payload_bytes_sent);
  s.append(",\"bytes_sent\":");
  PutInt(&s, bytes_sent + bytes_sent_base_);
  s.append(",\"bytes_received\":");
  PutInt(&s, bytes_received + bytes_received_base_);
  s.append(",\"compute_s\":");
  PutNumber(&s, r.compute_s);
  s.append(",\"wait_s\":");
  PutNumber(&s, r.wait_s);
  s.append(",\"overlap_s\":");
  PutNumber(&s, r.overlap_s);
  if (!r.staleness.empty()) {
    s.append(",\"staleness\":{");
    for (size_t k = 0; k < r.staleness.size(); ++k) {
      if (k) s.push_back(',');
      s.push_back('"');
      PutInt(&s, r.staleness[k].first);
      s.append("\":");
      PutInt(&s, r.staleness[k].second);
    }
    s.push_back('}');
  }
  s.append(",\"max_staleness\":");
  PutInt(&s, r.max_staleness);
  s.append(",\"mean_staleness\":");
  PutNumber(&s, r.mean_staleness);
  s.append("}\n");
  // A block goes out without this round's line, which stays buffered: the core writes the round's
  // snapshot right after it (MaybeSnapshotRound), so a peer killed at any moment never leaves a
  // line on disk whose snapshot is missing -- the evaluation needs the model of every round a
  // peer reported.
  if (before > 0 && (s.size() >= kBlockBytes ||
                     (flush_every_s_ > 0 && r.wall_s - last_flush_s_ >= flush_every_s_))) {
    last_flush_s_ = r.wall_s;
    std::string line = s.substr(before);
    s.resize(before);
    Status st = FlushLines();
    s += line;  // after the lines FlushLines kept if it failed
    return st;
  }
  return Status::Ok();
}

Status RunFiles::WriteApplied(int64_t round, std::span<const MessageId> applied) {
  PutVarint(&replay_, static_cast<uint64_t>(round));
  PutVarint(&replay_, applied.size());
  for (const MessageId& m : applied) {
    // Sender and kind in one varint: from * 8 + kind.
    PutVarint(&replay_, static_cast<uint64_t>(m.from) * 8 + static_cast<uint8_t>(m.kind));
    PutVarint(&replay_, static_cast<uint64_t>(m.round));
  }
  if (replay_.size() >= kBlockBytes) return Append(ReplayPath(dir_, peer_), &replay_);
  return Status::Ok();
}

Status RunFiles::WriteSnapshot(const SnapshotKey& key, std::span<const float> x) {
  // Written under a temporary name and renamed into place: a peer killed mid-write (the fault
  // schedule, kill -9) leaves no torn snapshot for the launcher's evaluation to trip over.
  const std::string path = SnapshotPath(dir_, key, peer_);
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Unavailable(path + ": cannot write model");
  const size_t n = std::fwrite(x.data(), sizeof(float), x.size(), f);
  const int closed = std::fclose(f);
  if (n != x.size() || closed != 0) return Unavailable(path + ": write failed (disk full?)");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Unavailable(path + ": cannot rename the snapshot into place");
  }
  return Status::Ok();
}

Result<ReplaySchedule> ReadReplayLog(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound(path + ": no replay log (only asynchronous runs record one)");
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8 || bytes.compare(0, 8, kReplayMagic) != 0) {
    return Corruption(path + ": not a hearsay replay log (bad magic)");
  }
  size_t pos = 8;
  auto varint = [&](uint64_t* v) -> Status {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= bytes.size()) {
        return Corruption(path + ": truncated record at byte " + std::to_string(pos));
      }
      const auto b = static_cast<uint8_t>(bytes[pos++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return Status::Ok();
    }
    return Corruption(path + ": bad varint at byte " + std::to_string(pos));
  };
  ReplaySchedule schedule;
  constexpr uint64_t kMaxCount = 1u << 20;
  while (pos < bytes.size()) {
    const size_t at = pos;
    uint64_t round = 0, count = 0;
    HEARSAY_RETURN_IF_ERROR(varint(&round));
    HEARSAY_RETURN_IF_ERROR(varint(&count));
    if (count > kMaxCount || round > (1ull << 62)) {
      return Corruption(path + ": implausible record at byte " + std::to_string(at));
    }
    std::vector<MessageId>& ids = schedule[static_cast<int64_t>(round)];
    if (!ids.empty()) {
      return Corruption(path + ": round " + std::to_string(round) + " recorded twice");
    }
    for (uint64_t k = 0; k < count; ++k) {
      uint64_t from = 0, r = 0;
      HEARSAY_RETURN_IF_ERROR(varint(&from));
      HEARSAY_RETURN_IF_ERROR(varint(&r));
      if (from > (1ull << 33) || r > (1ull << 62)) {
        return Corruption(path + ": implausible record at byte " + std::to_string(at));
      }
      const auto kind = static_cast<MessageKind>(from % 8);
      if (kind != MessageKind::kGossip && kind != MessageKind::kAvgRequest &&
          kind != MessageKind::kAvgReply && kind != MessageKind::kDone &&
          kind != MessageKind::kFailed && kind != MessageKind::kHeartbeat) {
        return Corruption(path + ": unknown message kind in the record at byte " +
                          std::to_string(at));
      }
      ids.push_back(MessageId{static_cast<int32_t>(from / 8), static_cast<int64_t>(r), kind});
    }
  }
  return schedule;
}

}  // namespace hearsay
