// hearsay: one executable, several subcommands (peer, launch, simulate, replay, topo, codec).
// The only place exceptions are caught: library code returns Status. Exit codes, as --help says:
// 0 success, 1 bad input or usage (CLI11's own parse errors included), 2 run failed,
// 130 interrupted. Misspelt subcommands and flags get a "did you mean".
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "common/suggest.h"
#include "runtime/version.h"

namespace {

std::vector<const CLI::App*> Subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

std::vector<std::string> SubcommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* s : Subcommands(app)) names.push_back(s->get_name());
  return names;
}

std::string Join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

// "hearsay topo" for the subcommand chain of `app`.
std::string CommandPath(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a; a = a->get_parent()) {
    path = a->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

// Before CLI11 parses: a word where a subcommand is required must be one. CLI11 would only say
// "A subcommand is required"; this names the word and suggests the closest command.
bool CheckSubcommandWords(const CLI::App& app, int argc, char** argv) {
  const CLI::App* cur = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') continue;
    const CLI::App* next = nullptr;
    for (const CLI::App* s : Subcommands(*cur)) {
      if (s->check_name(word)) next = s;
    }
    if (next) {
      cur = next;
      continue;
    }
    if (cur->get_require_subcommand_min() == 0) return true;  // a positional argument
    const auto names = SubcommandNames(*cur);
    std::cerr << CommandPath(cur) << ": unknown command '" << word << "'"
              << hearsay::DidYouMean(word, names) << " (commands: " << Join(names) << ") (see "
              << CommandPath(cur) << " --help)\n";
    return false;
  }
  return true;
}

// The deepest subcommand CLI11 got to before failing.
const CLI::App* Deepest(const CLI::App& app) {
  const CLI::App* cur = &app;
  while (!cur->get_subcommands().empty()) cur = cur->get_subcommands().front();
  return cur;
}

// "; did you mean '--out'?" for the first unexpected flag (or word) of a parse error.
std::string SuggestFor(const CLI::App& at) {
  std::vector<std::string> flags;
  for (const CLI::Option* o : at.get_options()) {
    for (const auto& l : o->get_lnames()) flags.push_back("--" + l);
    for (const auto& s : o->get_snames()) flags.push_back("-" + s);
  }
  for (const std::string& extra : at.remaining(true)) {
    if (extra.size() > 1 && extra[0] == '-') {
      const std::string flag = extra.substr(0, extra.find('='));
      return hearsay::DidYouMean(flag, flags);
    }
    const std::string s = hearsay::DidYouMean(extra, SubcommandNames(at));
    if (!s.empty()) return s;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "hearsay: decentralized gossip training over emulated or real networks.\n"
      "Peers gossip compressed model differences (DCD-PSGD), extrapolations (ECD-PSGD),\n"
      "full models (D-PSGD), CHOCO-SGD updates or pairwise averages (AD-PSGD) over a topology\n"
      "file's graph, or train centralized mini-batch SGD with ring all-reduce as a baseline.\n"
      "Exit codes: 0 success, 1 bad input or usage, 2 run failed, 130 interrupted.",
      "hearsay"};
  app.set_version_flag("--version", std::string("hearsay ") + hearsay::RuntimeVersion() +
                                        (hearsay::BuiltWithCuda() ? " (cuda)" : " (cpu only)") +
                                        ", commit " + hearsay::GitCommit() +
                                        "\nbuild: " + hearsay::BuildOptions());
  app.require_subcommand(1);
  // CUDA support is not registered here: the runtime loads the CUDA plugin the first time a run
  // asks for `device: cuda` (runtime/peer/device_backend.h), so CPU runs never map CUDA.
  hearsay::apps::RegisterLaunchCommand(app);
  hearsay::apps::RegisterPeerCommand(app);
  hearsay::apps::RegisterReplayCommand(app);
  hearsay::apps::RegisterReportCommand(app);
  hearsay::apps::RegisterTopoCommands(app);
  hearsay::apps::RegisterCodecCommand(app);
  if (!CheckSubcommandWords(app, argc, argv)) return 1;
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a subcommand failed; it has printed why
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    const CLI::App* at = Deepest(app);
    std::cerr << CommandPath(at) << ": " << e.what() << SuggestFor(*at) << " (see "
              << CommandPath(at) << " --help)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "hearsay: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
