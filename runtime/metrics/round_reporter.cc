#include "runtime/metrics/round_reporter.h"

#include <fmt/format.h>

#include "common/logging.h"
#include "runtime/peer/run_config.h"

namespace hearsay {

RoundReporter::RoundReporter(int64_t rounds, double duration_s, PeerMetrics* metrics,
                             double progress_every_s)
    : rounds_(rounds),
      duration_s_(duration_s),
      metrics_(metrics),
      progress_every_s_(progress_every_s) {}

std::string RoundReporter::ProgressLine(const RoundRecord& r, const TransportStats& wire) const {
  const double span = r.wall_s - last_line_s_;
  const double rate = span > 0 ? static_cast<double>(r.round - last_line_round_) / span : 0;
  const std::string bound = rounds_ == kUnlimitedRounds
                                ? fmt::format(" ({:.0f}/{:.0f} s)", r.wall_s, duration_s_)
                                : fmt::format("/{}", rounds_);
  const double busy = compute_s_ + wait_s_;
  std::string line = fmt::format(
      "round {}{} ({:.1f} rounds/s)  local loss {:.4g}  sent {:.2f} MB  received {:.2f} MB",
      r.round, bound, rate, r.loss, wire.bytes_sent / 1e6, wire.bytes_received / 1e6);
  if (busy > 0) {
    line += fmt::format("  compute {:.0f}% wait {:.0f}%", 100 * compute_s_ / busy,
                        100 * wait_s_ / busy);
  }
  if (!r.staleness.empty()) line += fmt::format("  staleness max {}", r.max_staleness);
  return line;
}

void RoundReporter::OnRound(const RoundRecord& r, const TransportStats& wire) {
  compute_s_ += r.compute_s;
  wait_s_ += r.wait_s;
  if (metrics_) metrics_->OnRound(r, wire);
  if (LogEnabled(LogLevel::kDebug)) {
    std::string stale;
    for (const auto& [neighbor, behind] : r.staleness) {
      stale += fmt::format("{}{}:{}", stale.empty() ? " staleness " : ",", neighbor, behind);
    }
    HEARSAY_LOG_DEBUG(
        "round {} at {:.3f} s: loss {:.6g} lr {:.4g} compute {:.4f} s wait {:.4f} s overlap "
        "{:.4f} s payload {} B (wire {} B sent, {} B received){}",
        r.round, r.wall_s, r.loss, r.lr, r.compute_s, r.wait_s, r.overlap_s, r.payload_bytes_sent,
        wire.bytes_sent, wire.bytes_received, stale);
  }
  if (progress_every_s_ > 0 && r.wall_s - last_line_s_ >= progress_every_s_) {
    HEARSAY_LOG_INFO("{}", ProgressLine(r, wire));
    last_line_s_ = r.wall_s;
    last_line_round_ = r.round;
  }
}

}  // namespace hearsay
