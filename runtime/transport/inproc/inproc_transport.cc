#include "runtime/transport/inproc/inproc_transport.h"

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "common/logging.h"
#include "runtime/transport/frame.h"
#include "runtime/transport/inbox.h"

namespace hearsay {

struct InProcHub::State {
  explicit State(int n) {
    for (int i = 0; i < n; ++i)
      inboxes.push_back(std::make_unique<Inbox>("peer " + std::to_string(i)));
    handed_out.assign(n, false);
  }
  std::vector<std::unique_ptr<Inbox>> inboxes;
  std::mutex mu;
  std::vector<bool> handed_out;  // guarded by mu
};

namespace {

class InProcEndpoint final : public Transport {
 public:
  InProcEndpoint(std::shared_ptr<InProcHub::State> state, int self)
      : state_(std::move(state)), self_(self), inbox_(*state_->inboxes[self]) {}
  ~InProcEndpoint() override { (void)Shutdown(Now()); }

  Status Start(TimePoint) override { return Status::Ok(); }

  Status Send(Message msg) override {
    const int n = static_cast<int>(state_->inboxes.size());
    if (msg.to < 0 || msg.to >= n || msg.to == self_) {
      return InvalidArgument("peer " + std::to_string(self_) + ": cannot send to peer " +
                             std::to_string(msg.to) + " (peers are 0.." + std::to_string(n - 1) +
                             ", not self)");
    }
    msg.from = self_;
    const uint64_t wire_bytes = FrameWireBytes(msg);
    OwnPayload(msg);  // the receiver takes the message as it is
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return Cancelled("peer " + std::to_string(self_) + ": send after shutdown");
    bytes_sent_ += wire_bytes;
    ++messages_sent_;
    talked_to_.insert(msg.to);
    if (msg.kind == MessageKind::kDone) done_sent_.insert(msg.to);
    // Numbered like TCP frames (1, 2, ... per direction); pushed under mu_ so that concurrent
    // senders cannot deliver them out of sequence.
    msg.seq = ++next_seq_[msg.to];
    Inbox& target = *state_->inboxes[msg.to];
    target.Push(std::move(msg));
    return Status::Ok();
  }

  Result<Message> Receive(TimePoint deadline) override {
    Result<Message> r = inbox_.Pop(deadline);
    if (r.ok()) {
      bytes_received_ += FrameWireBytes(*r);
      ++messages_received_;
    }
    return r;
  }

  bool SetArrivalNotifier(ArrivalNotifier notify) override {
    inbox_.SetNotifier(std::move(notify));
    return true;
  }

  Status Shutdown(TimePoint) override {
    std::set<int> unfinished;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shut_down_) return Status::Ok();
      shut_down_ = true;
      for (int peer : talked_to_) {
        if (!done_sent_.count(peer)) unfinished.insert(peer);
      }
    }
    for (int peer : unfinished) {
      const std::string why = "peer " + std::to_string(self_) +
                              " left before it finished (it sent no DONE to peer " +
                              std::to_string(peer) + ")";
      Message m;
      m.kind = MessageKind::kLinkDown;
      m.from = self_;
      m.to = peer;
      m.payload.assign(why.begin(), why.end());
      state_->inboxes[peer]->Push(std::move(m));
    }
    inbox_.Cancel();
    return Status::Ok();
  }

  TransportStats stats() const override {
    TransportStats s;
    s.bytes_sent = bytes_sent_;
    s.bytes_received = bytes_received_;
    s.messages_sent = messages_sent_;
    s.messages_received = messages_received_;
    return s;
  }

 private:
  std::shared_ptr<InProcHub::State> state_;
  const int self_;
  Inbox& inbox_;
  std::mutex mu_;
  bool shut_down_ = false;            // guarded by mu_
  std::set<int> talked_to_;           // guarded by mu_
  std::set<int> done_sent_;           // guarded by mu_
  std::map<int, uint64_t> next_seq_;  // last seq sent per peer; guarded by mu_
  std::atomic<uint64_t> bytes_sent_{0}, bytes_received_{0}, messages_sent_{0},
      messages_received_{0};
};

}  // namespace

InProcHub::InProcHub(int num_peers) : state_(std::make_shared<State>(num_peers)) {}
InProcHub::~InProcHub() = default;

int InProcHub::size() const { return static_cast<int>(state_->inboxes.size()); }

std::unique_ptr<Transport> InProcHub::Endpoint(int peer) {
  if (peer < 0 || peer >= size()) {
    HEARSAY_LOG_ERROR("in-process hub: no peer {} (peers are 0..{})", peer, size() - 1);
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->handed_out[peer]) {
    HEARSAY_LOG_ERROR("in-process hub: the endpoint of peer {} was already handed out", peer);
    return nullptr;
  }
  state_->handed_out[peer] = true;
  return std::make_unique<InProcEndpoint>(state_, peer);
}

std::unique_ptr<Transport> InProcHub::Reopen(int peer) {
  if (peer < 0 || peer >= size()) return Endpoint(peer);  // logs the error
  std::lock_guard<std::mutex> lock(state_->mu);
  if (!state_->inboxes[peer]->cancelled()) {
    HEARSAY_LOG_ERROR("in-process hub: peer {}'s endpoint is still open", peer);
    return nullptr;
  }
  state_->inboxes[peer]->Reopen();
  state_->handed_out[peer] = true;
  return std::make_unique<InProcEndpoint>(state_, peer);
}

}  // namespace hearsay
