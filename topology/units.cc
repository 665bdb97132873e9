#include "topology/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

namespace hearsay {
namespace {

// Splits "12.5MB/s" into 12.5 and "MB/s"; fails when no number leads.
bool SplitNumber(std::string_view text, double* value, std::string_view* unit) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  if (ec != std::errc() || ptr == text.data()) return false;
  std::string_view rest(ptr, text.data() + text.size() - ptr);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) {
    rest.remove_prefix(1);
  }
  *unit = rest;
  return std::isfinite(*value);
}

struct Unit {
  const char* name;
  double factor;
};

// Bits per second; matched ignoring letter case, so tc's `20mbit` reads like `20Mbit`.
constexpr Unit kBitUnits[] = {
    {"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {"tbit", 1e12},
};
// Matched exactly: the capitalisation carries the meaning (bits here, bytes for tc's `mbps`).
constexpr Unit kExactBandwidthUnits[] = {
    {"bps", 1},
    {"kbps", 1e3},
    {"Mbps", 1e6},
    {"Gbps", 1e9},
    {"Tbps", 1e12},
    {"B/s", 8},
    {"kB/s", 8e3},
    {"KB/s", 8e3},
    {"MB/s", 8e6},
    {"GB/s", 8e9},
    {"KiB/s", 8 * 1024.0},
    {"MiB/s", 8 * 1048576.0},
    {"GiB/s", 8 * 1073741824.0},
};
constexpr Unit kDurationUnits[] = {
    {"ns", 1e-9}, {"us", 1e-6}, {"usec", 1e-6}, {"\xc2\xb5s", 1e-6}, {"ms", 1e-3}, {"msec", 1e-3},
    {"s", 1},     {"sec", 1},   {"secs", 1},    {"min", 60},         {"mins", 60}, {"h", 3600},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<double> ParseBandwidth(std::string_view text) {
  if (text == "unlimited") return 0.0;
  double v = 0;
  std::string_view unit;
  const std::string kValid =
      "; use a number with a unit: bit, kbit, Mbit, Gbit (bits/s, any case: 20mbit; also bps, "
      "kbps, Mbps, Gbps), B/s, kB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s, e.g. 20Mbit; or 0 / "
      "unlimited";
  if (!SplitNumber(text, &v, &unit)) {
    return InvalidArgument("bandwidth '" + std::string(text) + "' is not a number with a unit" +
                           kValid);
  }
  if (v < 0) return InvalidArgument("bandwidth '" + std::string(text) + "' is negative");
  if (unit.empty()) {
    if (v == 0) return 0.0;
    return InvalidArgument("bandwidth '" + std::string(text) + "' has no unit" + kValid);
  }
  for (const Unit& u : kBitUnits) {
    if (EqualsIgnoreCase(unit, u.name)) return v * u.factor;
  }
  for (const Unit& u : kExactBandwidthUnits) {
    if (unit == u.name) return v * u.factor;
  }
  // tc writes byte rates as `mbps`; hearsay has always read `Mbps` as bits. Refuse the spellings
  // that could be either rather than guess a factor of 8.
  constexpr std::pair<const char*, const char*> kAmbiguous[] = {{"kbps", "kbit or kB/s"},
                                                                {"mbps", "mbit or MB/s"},
                                                                {"gbps", "gbit or GB/s"},
                                                                {"tbps", "tbit or 1000GB/s"}};
  for (const auto& [name, instead] : kAmbiguous) {
    if (EqualsIgnoreCase(unit, name)) {
      return InvalidArgument("bandwidth '" + std::string(text) + "': '" + std::string(unit) +
                             "' is ambiguous (tc reads it as bytes per second, most people as "
                             "bits); write " +
                             instead);
    }
  }
  return InvalidArgument("bandwidth '" + std::string(text) + "': unknown unit '" +
                         std::string(unit) + "'" + kValid);
}

Result<double> ParseDuration(std::string_view text, BareNumber bare) {
  double v = 0;
  std::string_view unit;
  const std::string kValid =
      "; use a number with a unit: ns, us, ms, s, min, h (also usec, msec, sec), e.g. 20ms or "
      "1.5s";
  if (!SplitNumber(text, &v, &unit)) {
    return InvalidArgument("duration '" + std::string(text) + "' is not a number with a unit" +
                           kValid);
  }
  if (v < 0) return InvalidArgument("duration '" + std::string(text) + "' is negative");
  if (unit.empty()) {
    if (v == 0 || bare == BareNumber::kSeconds) return v;
    return InvalidArgument("duration '" + std::string(text) + "' has no unit" + kValid);
  }
  for (const Unit& u : kDurationUnits) {
    if (unit == u.name) return v * u.factor;
  }
  return InvalidArgument("duration '" + std::string(text) + "': unknown unit '" +
                         std::string(unit) + "'" + kValid);
}

Result<double> ParseFraction(std::string_view text) {
  double v = 0;
  std::string_view unit;
  if (!SplitNumber(text, &v, &unit) || !(unit.empty() || unit == "%")) {
    return InvalidArgument("'" + std::string(text) +
                           "' is not a fraction; write a number such as 0.01 or a percentage "
                           "such as 1%");
  }
  return unit == "%" ? v / 100 : v;
}

std::string FormatDouble(double v) {
  // Shortest "%g" text that parses back exactly, preferring plain notation ("20", not "2e+01").
  char buf[64];
  const double mag = std::abs(v);
  const bool plain_ok = v == 0 || (mag >= 1e-4 && mag < 1e15);
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    double back = 0;
    std::from_chars(buf, buf + std::char_traits<char>::length(buf), back);
    if (back != v) continue;
    if (plain_ok && std::string_view(buf).find('e') != std::string_view::npos) continue;
    return buf;
  }
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

namespace {
// Largest unit whose multiple is a short exact number (<= 6 significant digits).
std::string FormatWithUnits(double v, const std::pair<const char*, double>* units, int count) {
  for (int i = count - 1; i >= 0; --i) {
    double x = v / units[i].second;
    if (x >= 1 || i == 0) {
      std::string s = FormatDouble(x);
      if (s.size() <= 8 || i == 0) {
        // Check exactness: parsing back must give v.
        if (x * units[i].second == v || i == 0) return s + units[i].first;
      }
    }
  }
  return FormatDouble(v) + units[0].first;
}
}  // namespace

std::string FormatBandwidth(double bps) {
  if (bps <= 0) return "unlimited";
  static const std::pair<const char*, double> kUnits[] = {
      {"bit", 1}, {"kbit", 1e3}, {"Mbit", 1e6}, {"Gbit", 1e9}};
  return FormatWithUnits(bps, kUnits, 4);
}

std::string FormatDuration(double seconds) {
  if (seconds == 0) return "0s";
  static const std::pair<const char*, double> kUnits[] = {
      {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}};
  return FormatWithUnits(seconds, kUnits, 4);
}

}  // namespace hearsay
