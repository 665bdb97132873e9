#include "runtime/transport/log_limiter.h"

namespace hearsay {

bool LogLimiter::Allow(const std::string& key, TimePoint now, uint64_t* suppressed) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxKeys) entries_.clear();
    entries_[key] = Entry{now, 0};
    *suppressed = 0;
    return true;
  }
  if (Duration(now - it->second.last).count() < interval_s_) {
    ++it->second.suppressed;
    return false;
  }
  *suppressed = it->second.suppressed;
  it->second = Entry{now, 0};
  return true;
}

}  // namespace hearsay
