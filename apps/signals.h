// Stop flag for the apps: SIGINT and SIGTERM set it, long-running commands poll it and end
// cleanly (flush metrics, close connections, stop children).
#pragma once

#include <atomic>

namespace hearsay::apps {

// Installs the handlers (idempotent) and returns the flag they set.
const std::atomic<bool>& InstallStopHandlers();
// The signal that set the flag (SIGINT or SIGTERM), 0 if none.
int StopSignal();

}  // namespace hearsay::apps
