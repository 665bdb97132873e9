// Fast reading of the peers' own metrics lines (RunFiles::WriteRound writes one JSON object per
// round: {"peer":...,"round":...,"wall_s":...,"loss":...,...}). The launcher reads these lines
// after a run (evaluation, staleness, goodput) and while it runs (live progress); a JSON parser
// per line was a tenth of a small model's in-process CPU. A line these functions refuse (torn,
// reordered, written by something else) goes to the JSON parser as before.
#pragma once

#include <charconv>
#include <string_view>
#include <system_error>

namespace hearsay {

// Whether `line` (without its newline; a trailing '\r' is ignored) is one whole object as the
// peers write it: starts with {"peer":, ends with }, and holds no second object torn into it.
inline bool IsOwnMetricsLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line.size() >= 2 && line.rfind("{\"peer\":", 0) == 0 && line.back() == '}' &&
         line.find("{\"peer\":", 1) == std::string_view::npos;
}

// The value of top-level key `key` in an own metrics line: false when the key is absent or its
// value is neither a number nor null (null, how the peers write a non-finite value, reads as
// `null_value`). Keys are matched with their quotes, so "bytes_sent" is not "payload_bytes_sent".
template <typename T>
bool MetricsField(std::string_view line, std::string_view key, T null_value, T* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t at = 0;
  while (true) {
    at = line.find(key, at);
    if (at == std::string_view::npos) return false;
    if (at > 0 && line[at - 1] == '"' && at + key.size() + 1 < line.size() &&
        line[at + key.size()] == '"' && line[at + key.size() + 1] == ':') {
      break;
    }
    at += key.size();
  }
  const char* p = line.data() + at + key.size() + 2;
  const char* end = line.data() + line.size();
  if (end - p >= 4 && std::string_view(p, 4) == "null") {
    *out = null_value;
    return true;
  }
  const auto [next, ec] = std::from_chars(p, end, *out);
  return ec == std::errc() && next < end && (*next == ',' || *next == '}');
}

}  // namespace hearsay
