// hearsay: one executable, several subcommands (peer, launch, topo, codec).
// The only place exceptions are caught: library code returns Status.
#include <CLI/CLI.hpp>

#include <iostream>

#include "apps/commands.h"
#include "runtime/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "hearsay: decentralized gossip training over emulated or real networks.\n"
      "Peers gossip compressed model differences (DCD-PSGD), extrapolations (ECD-PSGD),\n"
      "full models (D-PSGD) or CHOCO-SGD updates over a topology file's graph.",
      "hearsay"};
  app.set_version_flag("--version", std::string("hearsay ") + hearsay::RuntimeVersion() +
                                        (hearsay::BuiltWithCuda() ? " (cuda)" : " (cpu only)"));
  app.require_subcommand(1);
  // CUDA support is not registered here: the runtime loads the CUDA plugin the first time a run
  // asks for `device: cuda` (runtime/peer/device_backend.h), so CPU runs never map CUDA.
  hearsay::apps::RegisterLaunchCommand(app);
  hearsay::apps::RegisterPeerCommand(app);
  hearsay::apps::RegisterReplayCommand(app);
  hearsay::apps::RegisterTopoCommands(app);
  hearsay::apps::RegisterCodecCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "hearsay: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
