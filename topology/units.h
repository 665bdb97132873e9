// Units in topology and experiment files: bandwidths ("20Mbit", "20mbit", "1Gbit", "500kbit",
// "12.5MB/s"), durations ("20ms", "1.5s", "300us", "2min") and fractions ("1%", "0.01"). tc/netem
// spellings are accepted (lower-case `mbit`, `kbit`, `gbit`; `msec`, `usec`, `sec`; `1%`). The
// full list is in docs/topology_format.md ("Units").
//
// Bandwidths come back in bits per second, durations in seconds, fractions as a number (1% ->
// 0.01). Formatting picks the largest unit that gives an exact short number, so Format(Parse(x))
// round-trips.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace hearsay {

// "20Mbit" -> 2e7. Units: bit, kbit, Mbit, Gbit, Tbit in any letter case (decimal, bits per
// second, as tc writes them: 20mbit), also bps, kbps, Mbps, Gbps, Tbps (bits per second, the
// networking convention); B/s, kB/s (KB/s), MB/s, GB/s (decimal bytes per second), and KiB/s,
// MiB/s, GiB/s (binary bytes per second). tc's lower-case byte rates (`mbps`, `gbps`, `tbps`)
// are refused as ambiguous, naming both readings. "0" and "unlimited" mean no cap (0). A bare
// number is an error (say which unit you mean). Errors say what was wrong and list the units.
Result<double> ParseBandwidth(std::string_view text);

// What a duration without a unit means.
enum class BareNumber {
  kError,    // topology files: "20" could be ms or s, so say which
  kSeconds,  // experiment files: timeouts have always been seconds there
};
// "20ms" -> 0.02. Units: ns, us (usec, µs), ms (msec), s (sec, secs), min (mins), h. A bare
// "0" is always allowed; other bare numbers as `bare` says.
Result<double> ParseDuration(std::string_view text, BareNumber bare = BareNumber::kError);
// "1%" -> 0.01, "0.01" -> 0.01 (netem writes loss as a percentage). Range checks are the
// caller's (a loss must be in [0, 1)).
Result<double> ParseFraction(std::string_view text);
// 2e7 -> "20Mbit"; 0 -> "unlimited".
std::string FormatBandwidth(double bps);
// 0.02 -> "20ms"; 0 -> "0s".
std::string FormatDuration(double seconds);
// Shortest text that parses back to exactly `v` ("0.1", "1e-07", "0.33333333333333331").
std::string FormatDouble(double v);

}  // namespace hearsay
