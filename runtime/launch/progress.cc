#include "runtime/launch/progress.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "runtime/peer/run_config.h"
#include "topology/units.h"

namespace hearsay {
namespace {

// A numeric field; null (how JSON writes NaN and infinities) and other types read as NaN.
double NumberOrNan(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

}  // namespace

ProgressTracker::ProgressTracker(std::string run_dir, int num_peers)
    : run_dir_(std::move(run_dir)), peers_(num_peers) {}

void ProgressTracker::Poll() {
  for (size_t i = 0; i < peers_.size(); ++i) {
    std::ifstream f(run_dir_ + "/peer_" + std::to_string(i) + ".jsonl");
    if (!f) continue;
    f.seekg(peers_[i].offset);
    std::string line;
    while (std::getline(f, line)) {
      if (f.eof()) break;  // partial line: read again next time
      peers_[i].offset += static_cast<std::streamoff>(line.size() + 1);
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) continue;
      auto round = j.find("round");
      if (round == j.end() || !round->is_number_integer()) continue;
      PeerProgress& p = peers_[i];
      p.reported = true;
      p.round = round->get<int64_t>();
      p.loss = NumberOrNan(j, "loss");
      p.mb = NumberOrNan(j, "bytes_sent") / 1e6;
      p.wall = NumberOrNan(j, "wall_s");
    }
  }
}

int ProgressTracker::reported() const {
  int n = 0;
  for (const auto& p : peers_) n += p.reported ? 1 : 0;
  return n;
}

std::string ProgressTracker::Line(const std::string& run, int64_t rounds, double duration_s) const {
  int64_t slowest = INT64_MAX, fastest = 0;
  int slow_peer = 0;
  double loss = 0, mb = 0, wall = 0;
  const int n = reported();
  for (size_t i = 0; i < peers_.size(); ++i) {
    const PeerProgress& p = peers_[i];
    // A peer that has not reported is at round 0 and is the slowest, but adds no loss or bytes.
    const int64_t round = p.reported ? p.round : 0;
    if (round < slowest) {
      slowest = round;
      slow_peer = static_cast<int>(i);
    }
    fastest = std::max(fastest, round);
    if (!p.reported) continue;
    loss += p.loss / n;
    mb += p.mb / n;
    if (p.wall > wall) wall = p.wall;
  }
  std::ostringstream s;
  s << "[" << run << "] round " << (peers_.empty() ? 0 : slowest);
  if (rounds == kUnlimitedRounds) {
    s << " (until " << FormatDuration(duration_s) << ")";
  } else {
    s << "/" << rounds;
  }
  if (fastest > slowest) s << " (peer " << slow_peer << " slowest; fastest at " << fastest << ")";
  if (n == 0) {
    s << "  waiting for the peers' first round";
    return s.str();
  }
  if (n < static_cast<int>(peers_.size())) s << "  " << n << "/" << peers_.size() << " reporting";
  s << std::fixed << std::setprecision(4) << "  local loss " << loss << std::setprecision(2) << "  "
    << mb << " MB/peer  " << std::setprecision(1) << wall << " s";
  return s.str();
}

}  // namespace hearsay
