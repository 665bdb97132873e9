// Subcommands of the `hearsay` executable. Each Register* adds one subcommand (with its --help)
// to the CLI11 app. Convention: a subcommand's callback does the work; on failure it prints one
// line "hearsay <cmd>: <what went wrong>" to stderr and throws CLI::RuntimeError(exit_code)
// (1 = bad input, 2 = run failed, 130 = interrupted). CLI11 is included only in apps/ sources.
#pragma once

namespace CLI {
class App;
}

namespace hearsay::apps {

void RegisterTopoCommands(
    CLI::App& app);  // apps/cmd_topo.cc:   hearsay topo {show,gen,dot,validate}
void RegisterCodecCommand(CLI::App& app);   // apps/cmd_codec.cc:  hearsay codec
void RegisterPeerCommand(CLI::App& app);    // apps/cmd_peer.cc:   hearsay peer
void RegisterLaunchCommand(CLI::App& app);  // apps/cmd_launch.cc: hearsay launch
void RegisterReplayCommand(CLI::App& app);  // apps/cmd_replay.cc: hearsay replay
void RegisterReportCommand(CLI::App& app);  // apps/cmd_report.cc: hearsay report

}  // namespace hearsay::apps
