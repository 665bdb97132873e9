// A peer's rank (its node id) from the command line or from the environment a job launcher sets,
// so `srun hearsay peer ...` and `mpirun -np N hearsay peer ...` need no per-process arguments
// and no MPI library is linked (docs/deploy.md).
//
// Sources: `--id` wins when given. Otherwise every variable of kRankVariables that is set is
// read; they must be whole numbers and must agree (srun sets SLURM_PROCID and, with PMI, also
// PMI_RANK -- equal). None set, a value that is not a number, two that disagree or a rank outside
// 0..num_peers-1 is an InvalidArgument whose one-line message names the variable and its value.
// Thread-safety: pure functions (the lookup is called on the caller's thread).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/status.h"

namespace hearsay {

// The variables read, in this order: Slurm, Open MPI, MPICH / Intel MPI (PMI), and hearsay's own.
inline constexpr const char* kRankVariables[] = {"SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK",
                                                 "HEARSAY_RANK"};

// Looks up an environment variable: nullptr when unset (std::getenv by default).
using EnvLookup = std::function<const char*(const char*)>;

struct Rank {
  int id = 0;
  std::string source;  // "--id" or the variable it came from ("SLURM_PROCID")
};

// `id`: the --id option (nullopt when not given). `topology` names the topology file in errors.
Result<Rank> ResolveRank(std::optional<int> id, int num_peers, const std::string& topology,
                         const EnvLookup& env = nullptr);

}  // namespace hearsay
