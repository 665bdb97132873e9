// Fifo: a first-in first-out queue in one contiguous vector (a head index over it), for the
// short queues the simulator keeps per link and touches once per message. std::deque allocates a
// map and a 512-byte chunk even while empty, so every queue costs pointer chases to separate
// cache lines; this one is one allocation, reused: the vector is cleared when the queue drains and
// compacted when the consumed prefix is at least half of it (amortised O(1) per element).
// Thread-safety: none (like std::deque).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace hearsay {

template <typename T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  void push_back(T value) { items_.push_back(std::move(value)); }
  void pop_front() {
    ++head_;
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    } else if (head_ >= kCompactAt && 2 * head_ >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

 private:
  static constexpr size_t kCompactAt = 16;
  std::vector<T> items_;
  size_t head_ = 0;
};

}  // namespace hearsay
