#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

namespace hearsay {
namespace {

// The level is kept here as well as in spdlog so that LogEnabled is one relaxed load and
// disabled lines are never formatted.
std::atomic<int> g_level{static_cast<int>(LogLevel::kWarn)};
std::mutex g_init_mu;
std::atomic<bool>& g_json_logs() {
  static std::atomic<bool> json{false};
  return json;
}

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::warn;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

bool ParseLogLevel(std::string_view name, LogLevel* out) {
  if (name == "debug" || name == "trace") {
    *out = LogLevel::kDebug;
  } else if (name == "info") {
    *out = LogLevel::kInfo;
  } else if (name == "warn" || name == "warning") {
    *out = LogLevel::kWarn;
  } else if (name == "error" || name == "err") {
    *out = LogLevel::kError;
  } else if (name == "off") {
    *out = LogLevel::kOff;
  } else {
    return false;
  }
  return true;
}

void InitLogging(const std::string& prefix, const std::string& level, bool json) {
  std::lock_guard<std::mutex> lock(g_init_mu);
  LogLevel lv = LogLevel::kWarn;
  (void)ParseLogLevel(level, &lv);
  const std::string name = "hearsay" + prefix;
  spdlog::drop(name);
  auto logger = spdlog::stderr_color_mt(name);
  if (json) {
    logger->set_pattern("{\"ts\":\"%Y-%m-%dT%H:%M:%S.%e\",\"level\":\"%l\",\"who\":\"" +
                        JsonEscape(prefix) + "\",\"msg\":%v}");
  } else {
    logger->set_pattern("[%H:%M:%S.%e] [" + prefix + "] %^%l%$ %v");
  }
  logger->set_level(spdlog::level::trace);  // filtering happens in LogEnabled
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  g_json_logs().store(json, std::memory_order_relaxed);
  SetLogLevel(lv);
}

void SetLogLevel(LogLevel level) {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed) &&
         level != LogLevel::kOff;
}

void LogLine(LogLevel level, std::string_view msg) {
  if (g_json_logs().load(std::memory_order_relaxed)) {
    spdlog::log(ToSpd(level), "\"{}\"", JsonEscape(msg));
  } else {
    spdlog::log(ToSpd(level), "{}", msg);
  }
}

std::string EscapeForLog(std::string_view text, size_t max_len) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '\\') {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace hearsay
