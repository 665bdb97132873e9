#include "runtime/transport/inbox.h"

namespace hearsay {

void Inbox::Push(Message msg) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return;
    items_.emplace_back(std::move(msg));
  }
  cv_.notify_one();
}

void Inbox::PushError(Status error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return;
    items_.emplace_back(std::move(error));
  }
  cv_.notify_one();
}

void Inbox::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    items_.clear();
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
  if (!cancelled_ && items_.empty() && deadline > Now()) {
    cv_.wait_until(lock, deadline, [&] { return cancelled_ || !items_.empty(); });
  }
  if (cancelled_) return Cancelled(owner_ + ": transport was shut down");
  if (items_.empty()) return DeadlineExceeded(owner_ + ": no message arrived before the deadline");
  auto item = std::move(items_.front());
  items_.pop_front();
  if (auto* status = std::get_if<Status>(&item)) return std::move(*status);
  return std::move(std::get<Message>(item));
}

}  // namespace hearsay
