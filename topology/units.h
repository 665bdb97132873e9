// Units in topology files: bandwidths ("20Mbit", "1Gbit", "500kbit", "12.5MB/s") and durations
// ("20ms", "1.5s", "300us"). The full list is in docs/topology_format.md ("Units").
//
// Bandwidths come back in bits per second, durations in seconds. Formatting picks the largest
// unit that gives an exact short number, so Format(Parse(x)) round-trips.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace hearsay {

// "20Mbit" -> 2e7. Units: bit, kbit, Mbit, Gbit, Tbit (decimal, bits per second; also written
// bps, kbps, Mbps, Gbps), B/s, kB/s, MB/s, GB/s (decimal bytes per second), and KiB/s, MiB/s,
// GiB/s (binary bytes per second). "0" and "unlimited" mean no cap (0). A bare number is an
// error (say which unit you mean). Errors say what was wrong and list the units.
Result<double> ParseBandwidth(std::string_view text);
// "20ms" -> 0.02. Units: ns, us, ms, s, min. A bare "0" is allowed.
Result<double> ParseDuration(std::string_view text);
// 2e7 -> "20Mbit"; 0 -> "unlimited".
std::string FormatBandwidth(double bps);
// 0.02 -> "20ms"; 0 -> "0s".
std::string FormatDuration(double seconds);
// Shortest text that parses back to exactly `v` ("0.1", "1e-07", "0.33333333333333331").
std::string FormatDouble(double v);

}  // namespace hearsay
