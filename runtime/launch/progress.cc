#include "runtime/launch/progress.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string_view>

#include "runtime/launch/metrics_line.h"
#include "runtime/peer/run_config.h"
#include "topology/units.h"

namespace hearsay {
namespace {

// A numeric field; null (how JSON writes NaN and infinities) and other types read as NaN.
double NumberOrNan(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

// How much of a metrics file's newest bytes one poll reads at most (a line is about 300 bytes).
constexpr std::streamoff kTailBytes = 1 << 20;

// One line's progress fields: the peers' own lines through the fast path (metrics_line.h), any
// other through the JSON parser. False when it is not a round record.
bool ReadProgressLine(std::string_view line, int64_t* round, double* loss, double* bytes,
                      double* wall) {
  const double nan = std::nan("");
  if (IsOwnMetricsLine(line) && MetricsField<int64_t>(line, "round", 0, round) &&
      MetricsField<double>(line, "loss", nan, loss) &&
      MetricsField<double>(line, "bytes_sent", nan, bytes) &&
      MetricsField<double>(line, "wall_s", nan, wall)) {
    return true;
  }
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto r = j.find("round");
  if (r == j.end() || !r->is_number_integer()) return false;
  *round = r->get<int64_t>();
  *loss = NumberOrNan(j, "loss");
  *bytes = NumberOrNan(j, "bytes_sent");
  *wall = NumberOrNan(j, "wall_s");
  return true;
}

}  // namespace

ProgressTracker::ProgressTracker(std::string run_dir, int num_peers)
    : run_dir_(std::move(run_dir)), peers_(num_peers) {}

void ProgressTracker::Poll() {
  for (size_t i = 0; i < peers_.size(); ++i) {
    PeerProgress& p = peers_[i];
    std::ifstream f(run_dir_ + "/peer_" + std::to_string(i) + ".jsonl", std::ios::binary);
    if (!f) continue;
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    if (size <= p.offset) continue;
    // Only the newest round record matters: read what was appended (at most its last
    // kTailBytes: a launcher that fell far behind skips to the end) and parse its complete lines
    // from the last one back until one is a round record.
    const std::streamoff from = std::max(p.offset, size - kTailBytes);
    const bool cut = from != p.offset;  // the tail starts inside a line: skip that line
    std::string chunk(static_cast<size_t>(size - from), '\0');
    f.seekg(from);
    f.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    chunk.resize(static_cast<size_t>(f.gcount()));
    const size_t last_newline = chunk.rfind('\n');
    if (last_newline == std::string::npos) {
      // A partial line waits for its end (a cut one is dropped: it is older than the tail).
      p.offset = from;
      continue;
    }
    p.offset = from + static_cast<std::streamoff>(last_newline + 1);
    const size_t begin = cut ? chunk.find('\n') + 1 : 0;
    if (begin > last_newline) continue;
    std::string_view lines = std::string_view(chunk).substr(begin, last_newline - begin);
    while (true) {
      const size_t nl = lines.rfind('\n');
      const std::string_view line = nl == std::string_view::npos ? lines : lines.substr(nl + 1);
      int64_t round = 0;
      double loss = 0, bytes = 0, wall = 0;
      if (ReadProgressLine(line, &round, &loss, &bytes, &wall)) {
        p.reported = true;
        p.round = round;
        p.loss = loss;
        p.mb = bytes / 1e6;
        p.wall = wall;
        break;
      }
      if (nl == std::string_view::npos) break;
      lines = lines.substr(0, nl);
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
