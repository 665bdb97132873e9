#include "runtime/peer/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/regular_file.h"

namespace hearsay {
namespace {

constexpr char kMagic[8] = {'H', 'S', 'C', 'K', 'P', 'T', '1', '\n'};
constexpr size_t kHeaderBytes = 8 + 4 + 8 + 8 + 8;
constexpr uint64_t kMaxCheckpointBytes = uint64_t{64} << 30;  // 64 GiB

uint64_t Fnv(std::string_view s, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// FNV-1a over 8-byte words (then the tail bytes): a checksum against torn or damaged files,
// fast enough for models of hundreds of MB.
uint64_t Checksum(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  size_t k = 0;
  for (; k + 8 <= bytes.size(); k += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + k, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; k < bytes.size(); ++k) h = (h ^ bytes[k]) * 0x100000001b3ull;
  return h;
}

// Parses "p<id>_r<round>.ckpt".
bool ParseName(const std::string& name, int* peer, int64_t* round) {
  long long r = 0;
  int p = 0;
  char tail = 0;
  if (std::sscanf(name.c_str(), "p%d_r%lld.ckp%c", &p, &r, &tail) != 3 || tail != 't') return false;
  if (name != "p" + std::to_string(p) + "_r" + std::to_string(r) + ".ckpt") return false;
  *peer = p;
  *round = r;
  return true;
}

}  // namespace

uint64_t CheckpointFingerprint(const RunConfig& run, const TopologySpec& topology) {
  std::string s = AlgorithmLabel(run);
  s += "|codec=" + run.compressor + "|model=" + run.model.kind;
  for (int h : run.model.hidden) s += "," + std::to_string(h);
  s += "|data=" + run.data.kind + ":" + run.data.path;
  s += "|seed=" + std::to_string(run.seed) + "|batch=" + std::to_string(run.batch_size);
  s += "|opt=" + run.optimizer.kind + "|H=" + std::to_string(run.local_steps);
  s += "|outer=" + run.outer_optimizer.kind + std::to_string(run.outer_optimizer.lr);
  s += "|lr1=" + std::to_string(run.lr.At(1)) + "|gamma=" + std::to_string(run.consensus_step);
  // The graph and its weights, not the addresses: a resumed run may get other ports or hosts.
  s += "|graph=" + topology.graph->Fingerprint();
  return Fnv(s);
}

std::string CheckpointDir(const std::string& run_dir) { return run_dir + "/checkpoints"; }

std::string CheckpointPath(const std::string& run_dir, int peer, int64_t round) {
  return CheckpointDir(run_dir) + "/p" + std::to_string(peer) + "_r" + std::to_string(round) +
         ".ckpt";
}

Status WriteCheckpoint(const std::string& run_dir, int peer, int64_t round, uint64_t fingerprint,
                       std::span<const uint8_t> state) {
  namespace fs = std::filesystem;
  const std::string dir = CheckpointDir(run_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal(dir + ": cannot create the checkpoint folder: " + ec.message());
  uint8_t head[kHeaderBytes];
  const auto peer32 = static_cast<uint32_t>(peer);
  const uint64_t length = state.size();
  std::memcpy(head, kMagic, 8);
  std::memcpy(head + 8, &peer32, 4);
  std::memcpy(head + 12, &round, 8);
  std::memcpy(head + 20, &fingerprint, 8);
  std::memcpy(head + 28, &length, 8);
  const uint64_t sum = Checksum(state);
  const std::string path = CheckpointPath(run_dir, peer, round);
  const std::string tmp = path + ".tmp";
  {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return Internal(tmp + ": cannot write: " + std::strerror(errno));
    bool ok = std::fwrite(head, 1, sizeof(head), f) == sizeof(head) &&
              std::fwrite(state.data(), 1, state.size(), f) == state.size() &&
              std::fwrite(&sum, 1, sizeof(sum), f) == sizeof(sum);
    ok = std::fflush(f) == 0 && ok;
    ok = std::fclose(f) == 0 && ok;
    if (!ok) {
      fs::remove(tmp, ec);
      return Internal(tmp + ": write failed (disk full?)");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) return Internal(path + ": cannot rename the checkpoint into place: " + ec.message());
  // Keep the newest kCheckpointsKept of this peer.
  std::set<int64_t> rounds;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    int p = 0;
    int64_t r = 0;
    if (ParseName(e.path().filename().string(), &p, &r) && p == peer) rounds.insert(r);
  }
  while (rounds.size() > static_cast<size_t>(kCheckpointsKept)) {
    fs::remove(CheckpointPath(run_dir, peer, *rounds.begin()), ec);
    rounds.erase(rounds.begin());
  }
  return Status::Ok();
}

Result<ByteBuffer> ReadCheckpoint(const std::string& run_dir, int peer, int64_t round,
                                  uint64_t fingerprint) {
  const std::string path = CheckpointPath(run_dir, peer, round);
  HEARSAY_ASSIGN_OR_RETURN(std::string bytes,
                           ReadRegularFile(path, kMaxCheckpointBytes, "checkpoint"));
  auto bad = [&](const std::string& why) { return Corruption(path + ": " + why); };
  if (bytes.size() < kHeaderBytes + 8 || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return bad("not a hearsay checkpoint");
  }
  ByteReader r(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  std::span<const uint8_t> magic;
  uint32_t p = 0;
  int64_t rd = 0;
  uint64_t fp = 0, len = 0, sum = 0;
  (void)r.ReadSpan(8, &magic);
  (void)(r.ReadPod(&p) && r.ReadPod(&rd) && r.ReadPod(&fp) && r.ReadPod(&len));
  if (p != static_cast<uint32_t>(peer) || rd != round) {
    return bad("holds peer " + std::to_string(p) + " round " + std::to_string(rd));
  }
  if (fp != fingerprint) {
    return bad(
        "written by another experiment (its topology, algorithm, codec, model or seed differ)");
  }
  if (len != bytes.size() - kHeaderBytes - 8) return bad("truncated or padded");
  std::span<const uint8_t> state;
  (void)(r.ReadSpan(len, &state) && r.ReadPod(&sum));
  if (sum != Checksum(state)) return bad("checksum mismatch (the file is damaged)");
  return ByteBuffer(state.begin(), state.end());
}

std::vector<int64_t> CommonCheckpointRounds(const std::string& run_dir, int n) {
  namespace fs = std::filesystem;
  std::map<int64_t, std::set<int>> peers_at;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(CheckpointDir(run_dir), ec)) {
    int p = 0;
    int64_t r = 0;
    if (ParseName(e.path().filename().string(), &p, &r) && p >= 0 && p < n) {
      peers_at[r].insert(p);
    }
  }
  std::vector<int64_t> out;
  for (const auto& [r, ps] : peers_at) {
    if (static_cast<int>(ps.size()) == n) out.push_back(r);
  }
  return out;
}

}  // namespace hearsay
