#include "runtime/emulator/link_emulator.h"

#include <sys/prctl.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/logging.h"
#include "runtime/emulator/link_model.h"
#include "runtime/transport/frame.h"

namespace hearsay {
namespace {

class EmulatedTransport final : public Transport {
 public:
  EmulatedTransport(std::unique_ptr<Transport> inner, std::shared_ptr<const TopologySpec> spec,
                    int self, uint64_t seed)
      : inner_(std::move(inner)),
        spec_(spec),
        self_(self),
        model_(LinkModelConfig::FromSpec(spec, self, seed)),
        ingress_(spec->nodes.at(self).ingress_bps),
        epoch_(Now()) {
    scheduler_ = std::thread([this] { ScheduleLoop(); });
  }

  ~EmulatedTransport() override { (void)Shutdown(Now()); }

  Status Start(TimePoint deadline) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!sent_any_) epoch_ = Now();
    }
    HEARSAY_RETURN_IF_ERROR(inner_->Start(deadline));
    if (spec_->nodes.at(self_).ingress_bps > 0) {
      pump_ = std::thread([this] { PumpLoop(); });
    }
    return Status::Ok();
  }

  Status Send(Message msg) override {
    msg.from = self_;
    const uint64_t wire_bytes = FrameWireBytes(msg);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return Cancelled("peer " + std::to_string(self_) + ": send after shutdown");
      if (thread_error_) return *thread_error_;
      if (send_error_) {
        Status error = std::move(*send_error_);
        send_error_.reset();
        return error;
      }
      sent_any_ = true;
      in_network_bytes_ += wire_bytes;
      ++in_network_messages_;
      const uint64_t id = model_.Submit(VirtualNow(), msg.to, wire_bytes, msg.round);
      pending_.emplace(id, InNetwork{std::move(msg), wire_bytes});
      wake_ = true;
    }
    cv_.notify_all();
    return Status::Ok();
  }

  Result<Message> Receive(TimePoint deadline) override {
    if (!pump_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (Status e = TakeThreadError(); !e.ok()) return e;
      }
      return inner_->Receive(deadline);
    }
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      if (Status e = TakeThreadError(); !e.ok()) return e;
      const TimePoint now = Now();
      if (!held_.empty() && WallTime(held_.front().first) <= now) {
        Result<Message> item = std::move(held_.front().second);
        held_.pop_front();
        return item;
      }
      if (pump_done_ && held_.empty()) {
        return Cancelled("peer " + std::to_string(self_) + ": transport was shut down");
      }
      if (now >= deadline) {
        return DeadlineExceeded("peer " + std::to_string(self_) +
                                ": no message arrived before the deadline");
      }
      TimePoint wake = deadline;
      if (!held_.empty()) wake = std::min(wake, WallTime(held_.front().first));
      cv_.wait_until(lock, wake);
    }
  }

  bool SetArrivalNotifier(ArrivalNotifier notify) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      notify_ = notify;  // a failed thread of ours is an arrival too
    }
    // Without an ingress limit Receive is the inner transport's; with one, the pump holds
    // arrivals until their release time and notifies with it. (Not under mu_: the inner
    // transport calls the notifier under its own lock.)
    if (spec_->nodes.at(self_).ingress_bps > 0) return true;
    return inner_->SetArrivalNotifier(std::move(notify));
  }

  // With an ingress limit the pump thread is always in the inner transport's Receive.
  void WillBeBusy(double seconds) override { inner_->WillBeBusy(seconds); }

  Status Shutdown(TimePoint deadline) override {
    Status result;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (shut_down_) return Status::Ok();
      shut_down_ = true;
      cv_.wait_until(lock, deadline, [&] { return pending_.empty() || thread_error_; });
      if (!pending_.empty()) {
        result = DeadlineExceeded("peer " + std::to_string(self_) + ": " +
                                  std::to_string(pending_.size()) +
                                  " messages were still in the emulated network at the shutdown "
                                  "deadline and were dropped");
      }
      stopping_ = true;
    }
    cv_.notify_all();
    if (scheduler_.joinable()) scheduler_.join();
    Status inner = inner_->Shutdown(deadline);
    if (pump_.joinable()) pump_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      pump_done_ = true;
      held_.clear();
      notify_ = nullptr;
    }
    cv_.notify_all();
    return result.ok() ? inner : result;
  }

  // The inner transport's, plus what this peer sent that is still on the emulated wire: a
  // message counts as sent when the peer hands it over, as with a real network (the kernel takes
  // it at once), so per-round byte counts do not depend on where the emulated link is.
  TransportStats stats() const override {
    TransportStats s = inner_->stats();
    s.bytes_sent += in_network_bytes_.load();
    s.messages_sent += in_network_messages_.load();
    return s;
  }
  void Recycle(ByteBuffer buffer) override { inner_->Recycle(std::move(buffer)); }
  ByteBuffer AcquireBuffer(size_t bytes) override { return inner_->AcquireBuffer(bytes); }
  // Held messages keep their shared payload until they go to the wrapped transport.
  bool SharesPayloads() const override { return inner_->SharesPayloads(); }
  std::shared_ptr<const ByteBuffer> SharePayload(ByteBuffer b) override {
    return inner_->SharePayload(std::move(b));
  }

 private:
  double VirtualNow() const { return Duration(Now() - epoch_).count(); }
  TimePoint WallTime(double virtual_s) const {
    if (virtual_s > 1e9) return TimePoint::max();
    return epoch_ + std::chrono::duration_cast<SteadyClock::duration>(Duration(virtual_s));
  }

  // Thread bodies: nothing escapes them. A failure ends that thread and is reported by the next
  // Send and Receive (Internal, naming the thread and the cause) instead of std::terminate.
  void ScheduleLoop() {
    try {
      ScheduleLoopBody();
    } catch (const std::exception& e) {
      ThreadFailed("scheduler", e.what());
    } catch (...) {
      ThreadFailed("scheduler", "an exception that is not a std::exception");
    }
  }
  void PumpLoop() {
    try {
      PumpLoopBody();
    } catch (const std::exception& e) {
      ThreadFailed("ingress pump", e.what());
    } catch (...) {
      ThreadFailed("ingress pump", "an exception that is not a std::exception");
    }
    std::lock_guard<std::mutex> lock(mu_);
    pump_done_ = true;
    cv_.notify_all();
  }
  void ThreadFailed(const char* thread, const std::string& what) {
    const std::string msg = "peer " + std::to_string(self_) + ": the network emulator's " + thread +
                            " thread failed: " + what;
    HEARSAY_LOG_ERROR("{}", msg);
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_error_) thread_error_ = Internal(msg);
    if (notify_) notify_(TimePoint());
    cv_.notify_all();
  }
  // The thread failure, once per caller that sees it; requires mu_.
  Status TakeThreadError() {
    if (!thread_error_ || thread_error_reported_) return Status::Ok();
    thread_error_reported_ = true;
    return *thread_error_;
  }

  // Hands messages to the inner transport when the model says they arrive.
  void ScheduleLoopBody() {
    // Deliveries are timed waits: with Linux's default timer slack (50 us) each one may fire up
    // to 50 us late, and a round's critical path crosses a link. 1 us keeps emulated latency
    // close to what the link model (and so the simulator) says.
    (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      std::vector<Delivery> due = model_.AdvanceTo(VirtualNow());
      if (!due.empty()) {
        std::vector<InNetwork> out;
        for (const Delivery& d : due) {
          auto it = pending_.find(d.id);
          out.push_back(std::move(it->second));
          pending_.erase(it);
        }
        lock.unlock();
        for (InNetwork& n : out) {
          const int to = n.msg.to;
          // Counted by the inner transport from here on (a message it refuses is not sent).
          // Taken off first: the receiver may have it before Send returns, and a stats() read
          // then must not count it twice.
          in_network_bytes_ -= n.wire_bytes;
          --in_network_messages_;
          Status s = inner_->Send(std::move(n.msg));
          if (s.code() == StatusCode::kUnavailable) {
            // The link to `to` is gone (the neighbour died): tell this peer as the transports
            // do, with a link-down event from that neighbour, instead of failing a later Send
            // to somebody else with this error.
            Message down;
            down.kind = MessageKind::kLinkDown;
            down.from = to;
            down.to = self_;
            const std::string why = s.message();
            down.payload.assign(why.begin(), why.end());
            std::lock_guard<std::mutex> relock(mu_);
            held_.emplace_front(VirtualNow(), std::move(down));
          } else if (!s.ok()) {
            HEARSAY_LOG_WARN("peer {}: emulated delivery to peer {} failed: {}", self_, to,
                             s.ToString());
            std::lock_guard<std::mutex> relock(mu_);
            if (!send_error_) send_error_ = s;
          }
        }
        lock.lock();
        cv_.notify_all();  // Shutdown waits for pending_ to drain
        continue;
      }
      const double next = model_.NextEventTime();
      const TimePoint wake = std::min(WallTime(next), DeadlineIn(1.0));  // re-check at least 1/s
      cv_.wait_until(lock, wake, [&] { return stopping_ || wake_; });
      wake_ = false;
    }
  }

  // Timestamps arrivals from the inner transport and holds them per the ingress model.
  void PumpLoopBody() {
    while (true) {
      Result<Message> r = inner_->Receive(DeadlineIn(0.1));
      if (!r.ok() && r.status().code() == StatusCode::kDeadlineExceeded) continue;
      if (!r.ok() && r.status().code() == StatusCode::kCancelled) break;
      std::lock_guard<std::mutex> lock(mu_);
      double release = VirtualNow();
      if (r.ok()) {
        const LinkParams p = spec_->LinkAt(r->from, self_, release, r->round);
        double path = p.bandwidth_bps;
        const double egress = spec_->nodes.at(r->from).egress_bps;
        if (egress > 0 && (path <= 0 || egress < path)) path = egress;
        release = ingress_.Deliver(release, FrameWireBytes(*r), path);
      }
      // Errors keep their place behind the messages that came before them.
      if (!held_.empty()) release = std::max(release, held_.back().first);
      held_.emplace_back(release, std::move(r));
      if (notify_) notify_(WallTime(release));
      cv_.notify_all();
    }
  }

  std::unique_ptr<Transport> inner_;
  std::shared_ptr<const TopologySpec> spec_;
  const int self_;

  std::mutex mu_;
  std::condition_variable cv_;
  LinkModel model_;       // guarded by mu_
  IngressModel ingress_;  // guarded by mu_
  TimePoint epoch_;       // guarded by mu_ until the first Send
  struct InNetwork {
    Message msg;
    uint64_t wire_bytes = 0;  // FrameWireBytes(msg), as submitted to the link model
  };
  std::map<uint64_t, InNetwork> pending_;  // in the emulated network, by model id; mu_
  // Bytes (frame estimates) and messages of pending_, read by stats() without mu_.
  std::atomic<uint64_t> in_network_bytes_{0};
  std::atomic<uint64_t> in_network_messages_{0};
  std::deque<std::pair<double, Result<Message>>> held_;  // ingress-delayed arrivals; mu_
  std::optional<Status> send_error_;    // first failed inner Send, reported once; mu_
  std::optional<Status> thread_error_;  // a failed scheduler or pump thread; mu_
  bool thread_error_reported_ = false;  // Receive returned it; mu_
  bool sent_any_ = false, wake_ = false, stopping_ = false, shut_down_ = false;
  bool pump_done_ = false;
  ArrivalNotifier notify_;  // mu_
  std::thread scheduler_;
  std::thread pump_;
};

}  // namespace

std::unique_ptr<Transport> MakeEmulatedTransport(std::unique_ptr<Transport> inner,
                                                 std::shared_ptr<const TopologySpec> spec, int self,
                                                 uint64_t seed) {
  return std::make_unique<EmulatedTransport>(std::move(inner), std::move(spec), self, seed);
}

}  // namespace hearsay
