#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace hearsay {

void InitLogging(const std::string& prefix, const std::string& level) {
  auto logger = spdlog::stderr_color_mt("hearsay" + prefix);
  logger->set_pattern("[%H:%M:%S.%e] [" + prefix + "] %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

}  // namespace hearsay
