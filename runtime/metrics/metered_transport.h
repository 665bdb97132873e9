// MeteredTransport: a Transport decorator that counts each message a peer sends and receives in
// its PeerMetrics (per directed edge and message kind) and forwards everything else unchanged.
// `hearsay peer --metrics-port` wraps its TCP transport (already wrapped by the emulator) in it.
//
// Ownership: owns the wrapped transport; `metrics` must outlive it. Thread-safety: as the
// wrapped transport (the counters take the registry's lock).
#pragma once

#include <memory>

#include "runtime/metrics/peer_metrics.h"
#include "runtime/transport/transport.h"

namespace hearsay {

class MeteredTransport final : public Transport {
 public:
  MeteredTransport(std::unique_ptr<Transport> inner, PeerMetrics* metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  Status Start(TimePoint deadline) override { return inner_->Start(deadline); }
  Status Send(Message msg) override {
    metrics_->OnSent(msg);
    return inner_->Send(std::move(msg));
  }
  Result<Message> Receive(TimePoint deadline) override {
    Result<Message> r = inner_->Receive(deadline);
    if (r.ok()) metrics_->OnReceived(*r);
    return r;
  }
  Status Shutdown(TimePoint deadline) override { return inner_->Shutdown(deadline); }
  TransportStats stats() const override { return inner_->stats(); }
  void Recycle(ByteBuffer buffer) override { inner_->Recycle(std::move(buffer)); }
  ByteBuffer AcquireBuffer(size_t bytes) override { return inner_->AcquireBuffer(bytes); }
  bool SharesPayloads() const override { return inner_->SharesPayloads(); }
  std::shared_ptr<const ByteBuffer> SharePayload(ByteBuffer b) override {
    return inner_->SharePayload(std::move(b));
  }

 private:
  std::unique_ptr<Transport> inner_;
  PeerMetrics* metrics_;
};

}  // namespace hearsay
