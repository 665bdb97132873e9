// Clocks. hearsay measures wall time with a monotonic clock; deadlines are absolute
// steady_clock time points so that every wait in the runtime has one.
//
// Deadline arithmetic saturates: a timeout too large for the clock's 64-bit nanosecond range
// (round_timeout: 1e10 s, inf) gives TimePoint::max() -- "never" -- instead of overflowing into
// the past, and a NaN or negative timeout gives "now" (already expired). Converting such a double
// to the clock's integer duration directly would be undefined behaviour.
// Thread-safety: pure functions; a Stopwatch belongs to one thread.
#pragma once

#include <chrono>

namespace hearsay {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using Duration = std::chrono::duration<double>;  // seconds, as double

inline TimePoint Now() { return SteadyClock::now(); }
inline double SecondsSince(TimePoint start) { return Duration(Now() - start).count(); }

// `from` + `seconds`, saturating at TimePoint::max(); NaN or a negative value gives `from`.
inline TimePoint SaturatingAdd(TimePoint from, double seconds) {
  if (!(seconds > 0)) return from;  // NaN, zero, negative
  const double headroom = std::chrono::duration_cast<Duration>(TimePoint::max() - from).count();
  // Compare with margin: the double nearest to the headroom may round up past it.
  if (!(seconds < headroom * 0.999)) return TimePoint::max();
  return from + std::chrono::duration_cast<SteadyClock::duration>(Duration(seconds));
}

inline TimePoint DeadlineIn(double seconds) { return SaturatingAdd(Now(), seconds); }

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
