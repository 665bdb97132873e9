// Inbox: the thread-safe hand-off from a transport's I/O side to the peer's compute thread.
//
// Items are delivered in push order: messages, and link errors (pushed when a link breaks) which
// Pop returns once, in their place in the order, as a non-ok status. After Cancel, Pop returns
// Cancelled at once. Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "common/clock.h"
#include "common/status.h"
#include "runtime/transport/transport.h"

namespace hearsay {

class Inbox {
 public:
  // `owner` names the receiving peer in messages, e.g. "peer 2".
  explicit Inbox(std::string owner) : owner_(std::move(owner)) {}

  // Called (under the inbox's lock) after each Push / PushError until Cancel; null: none.
  void SetNotifier(ArrivalNotifier notify);
  void Push(Message msg);
  void PushError(Status error);
  void Cancel();
  // Empties a cancelled inbox and opens it again (a restarted peer's, in one process).
  void Reopen();
  bool cancelled() const;
  // Next item; DeadlineExceeded when none arrives before `deadline`.
  Result<Message> Pop(TimePoint deadline);
  // Next item if there is one (or Cancelled), without waiting; nullopt when empty.
  std::optional<Result<Message>> TryPop();

 private:
  const std::string owner_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::variant<Message, Status>> items_;
  bool cancelled_ = false;
  int waiters_ = 0;  // threads in Pop's wait
  ArrivalNotifier notify_;
};

}  // namespace hearsay
