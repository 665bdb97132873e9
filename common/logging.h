// Logging: one process-wide logger (spdlog behind this header, private to hearsay_common).
// Library code logs through the HEARSAY_LOG_* macros and never prints to stdout (stdout belongs
// to the apps' tables and progress lines). Messages use fmt syntax ("peer {}: {}"); the level is
// checked before formatting, so a disabled debug line costs one relaxed load.
//
// Levels are chosen at run time (InitLogging / SetLogLevel): debug lines are compiled in.
// Remote text (anything a peer or a file sent) goes through EscapeForLog before it is logged.
// Thread-safety: every function may be called from any thread.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace hearsay {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// Logs to stderr with a "[prefix]" tag; `level` is debug|info|warn|error|off (unknown: warn).
// Later calls replace the tag and level. `json` writes one JSON object per line instead
// ({"ts","level","who","msg"}).
void InitLogging(const std::string& prefix, const std::string& level, bool json = false);
// Parses debug|info|warn|error|off; false when unknown.
bool ParseLogLevel(std::string_view name, LogLevel* out);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
// Writes one already formatted line at `level` (no check of the level).
void LogLine(LogLevel level, std::string_view msg);
// Printable form of untrusted text: control characters, backslashes and non-ASCII bytes become
// \xNN escapes and the result is cut at `max_len` bytes (with "..." appended).
std::string EscapeForLog(std::string_view text, size_t max_len = 200);

}  // namespace hearsay

#define HEARSAY_LOG_AT(level, ...)                           \
  do {                                                       \
    if (::hearsay::LogEnabled(level)) {                      \
      ::hearsay::LogLine(level, ::fmt::format(__VA_ARGS__)); \
    }                                                        \
  } while (0)
#define HEARSAY_LOG_DEBUG(...) HEARSAY_LOG_AT(::hearsay::LogLevel::kDebug, __VA_ARGS__)
#define HEARSAY_LOG_INFO(...) HEARSAY_LOG_AT(::hearsay::LogLevel::kInfo, __VA_ARGS__)
#define HEARSAY_LOG_WARN(...) HEARSAY_LOG_AT(::hearsay::LogLevel::kWarn, __VA_ARGS__)
#define HEARSAY_LOG_ERROR(...) HEARSAY_LOG_AT(::hearsay::LogLevel::kError, __VA_ARGS__)
