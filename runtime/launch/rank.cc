#include "runtime/launch/rank.h"

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace hearsay {
namespace {

Result<int> ParseRank(const char* variable, std::string_view text) {
  int value = -1;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
    return InvalidArgument(std::string(variable) + "='" + std::string(text) +
                           "' is not a rank (a whole number from 0)");
  }
  return value;
}

}  // namespace

Result<Rank> ResolveRank(std::optional<int> id, int num_peers, const std::string& topology,
                         const EnvLookup& env) {
  Rank rank;
  if (id) {
    rank = Rank{*id, "--id"};
  } else {
    const EnvLookup lookup = env ? env : [](const char* name) { return std::getenv(name); };
    bool found = false;
    for (const char* variable : kRankVariables) {
      const char* value = lookup(variable);
      if (value == nullptr) continue;
      HEARSAY_ASSIGN_OR_RETURN(int r, ParseRank(variable, value));
      if (found && r != rank.id) {
        // Two launchers' variables in one environment (mpirun inside an sbatch step, say):
        // guessing which one is meant could give two processes the same id.
        return InvalidArgument(rank.source + "=" + std::to_string(rank.id) + " and " + variable +
                               "=" + std::to_string(r) +
                               " disagree; give the rank with --id (or unset one of them)");
      }
      rank = Rank{r, variable};
      found = true;
    }
    if (!found) {
      return InvalidArgument(
          "no rank: give --id, or start the peer with srun or mpirun (SLURM_PROCID, "
          "OMPI_COMM_WORLD_RANK, PMI_RANK or HEARSAY_RANK)");
    }
  }
  if (rank.id < 0 || rank.id >= num_peers) {
    const std::string from = rank.source == "--id" ? "--id " : rank.source + "=";
    return InvalidArgument(from + std::to_string(rank.id) + " is not a node of " + topology +
                           " (ids are 0.." + std::to_string(num_peers - 1) + ")");
  }
  return rank;
}

}  // namespace hearsay
