// Logging: spdlog, one default logger per process. Library code logs through these macros and
// never prints to stdout (stdout belongs to the apps' tables and progress lines).
#pragma once

#include <spdlog/spdlog.h>

#define HS_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define HS_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define HS_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define HS_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)

namespace hearsay {
// Logs to stderr with a "[peer K]" style prefix; level from "debug|info|warn|error".
void InitLogging(const std::string& prefix, const std::string& level);
}  // namespace hearsay
