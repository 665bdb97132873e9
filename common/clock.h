// Clocks. hearsay measures wall time with a monotonic clock; deadlines are absolute
// steady_clock time points so that every wait in the runtime has one.
#pragma once

#include <chrono>

namespace hearsay {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using Duration = std::chrono::duration<double>;  // seconds, as double

inline TimePoint Now() { return SteadyClock::now(); }
inline double SecondsSince(TimePoint start) { return Duration(Now() - start).count(); }
inline TimePoint DeadlineIn(double seconds) {
  return Now() + std::chrono::duration_cast<SteadyClock::duration>(Duration(seconds));
}

// Wall-clock stopwatch accumulating seconds across Start/Stop pairs.
class Stopwatch {
 public:
  void Start() { start_ = Now(); }
  void Stop() { total_ += SecondsSince(start_); }
  double seconds() const { return total_; }

 private:
  TimePoint start_{};
  double total_ = 0;
};

}  // namespace hearsay
