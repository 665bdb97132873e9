// PENDING: the peer subcommand is being written; this file is replaced by its implementation.
#include <CLI/CLI.hpp>

#include "apps/commands.h"

namespace hearsay::apps {
void RegisterPeerCommand(CLI::App& app) {}
}  // namespace hearsay::apps
