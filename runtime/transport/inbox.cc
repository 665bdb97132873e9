#include "runtime/transport/inbox.h"

namespace hearsay {

void Inbox::SetNotifier(ArrivalNotifier notify) {
  std::lock_guard<std::mutex> lock(mu_);
  notify_ = cancelled_ ? nullptr : std::move(notify);
}

void Inbox::Push(Message msg) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return;
    items_.emplace_back(std::move(msg));
    if (notify_) notify_(TimePoint());
    if (waiters_ == 0) return;  // an event-driven driver never waits here: no futex call
  }
  cv_.notify_one();
}

void Inbox::PushError(Status error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return;
    items_.emplace_back(std::move(error));
    if (notify_) notify_(TimePoint());
    if (waiters_ == 0) return;
  }
  cv_.notify_one();
}

void Inbox::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    items_.clear();
    notify_ = nullptr;
  }
  cv_.notify_all();
}

void Inbox::Reopen() {
  std::lock_guard<std::mutex> lock(mu_);
  items_.clear();
  cancelled_ = false;
}

bool Inbox::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

Result<Message> Inbox::Pop(TimePoint deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  // A deadline already past is a poll: no condition-variable wait (and no futex call).
  const bool poll = items_.empty() && deadline <= Now();
  if (!cancelled_ && items_.empty() && !poll) {
    ++waiters_;
    cv_.wait_until(lock, deadline, [&] { return cancelled_ || !items_.empty(); });
    --waiters_;
  }
  if (cancelled_) return Cancelled(owner_ + ": transport was shut down");
  if (items_.empty()) {
    // An empty poll is the common case of an event-driven driver (every step ends with one):
    // a message short enough to need no allocation.
    if (poll) return DeadlineExceeded("nothing arrived");
    return DeadlineExceeded(owner_ + ": no message arrived before the deadline");
  }
  auto item = std::move(items_.front());
  items_.pop_front();
  if (auto* status = std::get_if<Status>(&item)) return std::move(*status);
  return std::move(std::get<Message>(item));
}

std::optional<Result<Message>> Inbox::TryPop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_) return Result<Message>(Cancelled(owner_ + ": transport was shut down"));
  if (items_.empty()) return std::nullopt;
  auto item = std::move(items_.front());
  items_.pop_front();
  if (auto* status = std::get_if<Status>(&item)) return Result<Message>(std::move(*status));
  return Result<Message>(std::move(std::get<Message>(item)));
}

}  // namespace hearsay
