// RoundReporter: what the daemon driver (runtime/peer/peer.h) does with each round's record
// besides writing it to the run folder: it feeds the peer's metrics (when served), logs one debug
// line per round (`--log-level debug`), and one info progress line every `progress_every_s` of
// run time, e.g.
//   round 120/1000 (41.2 rounds/s)  local loss 0.4321  sent 1.20 MB  received 1.18 MB
//   compute 62% wait 35%  staleness max 0
// so a daemon whose output goes to a file or a job log is not silent.
//
// ReportingSink is how the driver plugs it in: a CoreSink decorator that forwards everything to
// the sink it wraps and, after each round is recorded, hands the record and the transport's
// totals to the reporter.
//
// Ownership: `metrics` (may be null) must outlive the reporter; the sink's references must outlive
// it. Thread-safety: one driver thread.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/metrics/peer_metrics.h"
#include "runtime/peer/peer_core.h"
#include "runtime/transport/transport.h"

namespace hearsay {

class RoundReporter {
 public:
  // `rounds`: the run's bound (kUnlimitedRounds when `duration_s` bounds it).
  // `progress_every_s` <= 0: no progress lines.
  RoundReporter(int64_t rounds, double duration_s, PeerMetrics* metrics, double progress_every_s);

  void OnRound(const RoundRecord& r, const TransportStats& wire);

  // The progress line for `r` (also used by tests).
  std::string ProgressLine(const RoundRecord& r, const TransportStats& wire) const;

 private:
  int64_t rounds_;
  double duration_s_;
  PeerMetrics* metrics_;
  double progress_every_s_;
  // Totals since the start and at the last progress line (for the rate and the shares).
  double compute_s_ = 0, wait_s_ = 0;
  double last_line_s_ = 0;
  int64_t last_line_round_ = 0;
};

class ReportingSink final : public CoreSink {
 public:
  ReportingSink(CoreSink& inner, const Transport& transport, RoundReporter& reporter)
      : inner_(inner), transport_(transport), reporter_(reporter) {}
  Status Send(Message msg) override { return inner_.Send(std::move(msg)); }
  Status OnRound(const RoundRecord& r) override {
    Status s = inner_.OnRound(r);
    reporter_.OnRound(r, transport_.stats());
    return s;
  }
  Status OnSnapshot(const SnapshotKey& key, std::span<const float> x, double now) override {
    return inner_.OnSnapshot(key, x, now);
  }
  Status OnApplied(int64_t round, std::span<const MessageId> applied) override {
    return inner_.OnApplied(round, applied);
  }
  Status OnCheckpoint(int64_t round, ByteBuffer* state) override {
    return inner_.OnCheckpoint(round, state);
  }
  bool SharesPayloads() const override { return inner_.SharesPayloads(); }
  std::shared_ptr<const ByteBuffer> SharePayload(ByteBuffer b) override {
    return inner_.SharePayload(std::move(b));
  }
  void Recycle(ByteBuffer buffer) override { inner_.Recycle(std::move(buffer)); }

 private:
  CoreSink& inner_;
  const Transport& transport_;
  RoundReporter& reporter_;
};

}  // namespace hearsay
