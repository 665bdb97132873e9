// LogLimiter: at most one log line per key per interval, for events an outsider can trigger at
// will (failed handshakes from one address, accept errors at the descriptor limit): without it a
// flood of such events turns into a flood of log lines (issue 8 saw 35 MB in 3.5 s) that fills the
// disk the peer needs for its own output.
// Thread-safety: every method may be called from any thread. Memory: at most kMaxKeys keys (the
// table is cleared when full, which at worst lets one extra line per key through).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace hearsay {

class LogLimiter {
 public:
  static constexpr size_t kMaxKeys = 1024;

  explicit LogLimiter(double interval_s) : interval_s_(interval_s) {}

  // True when a line for `key` may be written at `now`; *suppressed then holds how many lines for
  // that key were held back since the last one allowed.
  bool Allow(const std::string& key, TimePoint now, uint64_t* suppressed);
  bool Allow(const std::string& key, uint64_t* suppressed) { return Allow(key, Now(), suppressed); }

 private:
  struct Entry {
    TimePoint last{};
    uint64_t suppressed = 0;
  };
  const double interval_s_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
};

}  // namespace hearsay
