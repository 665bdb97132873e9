// MakeAlgorithm: algorithm name -> implementation, after the checks that need the codec.
#include <memory>
#include <string>
#include <utility>

#include "runtime/algorithms/algorithm.h"
#include "runtime/algorithms/choco.h"
#include "runtime/algorithms/dcd.h"
#include "runtime/algorithms/dpsgd.h"
#include "runtime/algorithms/ecd.h"

namespace hearsay {

Status ValidateAlgorithmArgs(const AlgorithmConfig& config, const Topology* topology, int self,
                             std::span<const float> x0, const Compressor* compressor) {
  const std::string& name = config.name;
  if (name != "dpsgd" && name != "dcd" && name != "ecd" && name != "choco") {
    return InvalidArgument("algorithm '" + name + "' is unknown; valid: dpsgd, dcd, ecd, choco");
  }
  if (topology == nullptr) return InvalidArgument(name + ": no topology");
  if (self < 0 || self >= topology->size()) {
    return InvalidArgument(name + ": peer id " + std::to_string(self) +
                           " is outside the topology's " + std::to_string(topology->size()) +
                           " peers");
  }
  if (x0.empty()) return InvalidArgument(name + ": the initial model is empty");

  if (config.async && topology->time_varying()) {
    return Unimplemented(name +
                         ": asynchronous runs need a static topology; this one changes every "
                         "round (period " +
                         std::to_string(topology->period()) + "); use mode: sync");
  }
  if (name == "dpsgd") {
    if (compressor != nullptr && compressor->Spec() != "identity") {
      return InvalidArgument("dpsgd sends full-precision models and cannot use compressor '" +
                             compressor->Spec() + "'; use dcd, ecd or choco for compressed gossip");
    }
    return Status::Ok();
  }
  if (compressor == nullptr) {
    return InvalidArgument(name + " needs a compressor (e.g. identity or qsgd:8)");
  }
  if (topology->time_varying()) {
    return Unimplemented(name +
                         " keeps per-neighbour state and needs a static topology; this one changes "
                         "every round (period " +
                         std::to_string(topology->period()) + "); use dpsgd");
  }
  if ((name == "dcd" || name == "ecd") && !compressor->Unbiased() && !config.allow_biased) {
    return InvalidArgument(
        name + " needs an unbiased compressor, and '" + compressor->Spec() +
        "' is biased: its systematic error accumulates in the replicas and the run drifts or "
        "diverges. Use an unbiased codec (identity, qsgd:b), choco (which tolerates biased "
        "codecs), or set allow_biased to run it anyway");
  }
  if (name == "choco" && !(config.consensus_step > 0 && config.consensus_step <= 1)) {
    return InvalidArgument("choco: consensus_step = " + std::to_string(config.consensus_step) +
                           "; must be in (0, 1]");
  }
  return Status::Ok();
}

Status Algorithm::SetGradient(int64_t round, std::span<const float> grad) {
  return FailedPrecondition(name() + ": SetGradient(" + std::to_string(round) +
                            "): this algorithm takes its gradient in Begin");
}

Result<std::vector<float>> Algorithm::PublicCopy(int j) const {
  return Unimplemented(name() + " keeps no copy of peer " + std::to_string(j));
}

Status Algorithm::SaveState(StateWriter&) const {
  return Unimplemented(name() + ": this algorithm cannot write checkpoints");
}

Status Algorithm::LoadState(StateReader&) {
  return Unimplemented(name() + ": this algorithm cannot read checkpoints");
}

Status Algorithm::SetPublicCopy(int j, std::span<const float>) {
  return Unimplemented(name() + ": copies cannot be replaced (rejoin)");
}

Status Algorithm::RestoreRound(int64_t, std::vector<int64_t>) {
  return Unimplemented(name() + ": the protocol cannot be moved (rejoin)");
}

Status Algorithm::SetLinkRound(int, int64_t) {
  return Unimplemented(name() + ": link rounds cannot be moved (rejoin)");
}

Status Algorithm::SetNeighborLive(int j, bool live) {
  return Unimplemented(name() + " cannot drop or re-admit neighbours");
}

Result<std::unique_ptr<Algorithm>> MakeAlgorithm(const AlgorithmConfig& config,
                                                 std::shared_ptr<const Topology> topology, int self,
                                                 std::span<const float> x0,
                                                 std::unique_ptr<Compressor> compressor) {
  HEARSAY_RETURN_IF_ERROR(
      ValidateAlgorithmArgs(config, topology.get(), self, x0, compressor.get()));
  const std::string& name = config.name;
  if (name == "dpsgd") {
    return std::unique_ptr<Algorithm>(new DPsgd(config, std::move(topology), self, x0));
  }
  if (name == "dcd") {
    return std::unique_ptr<Algorithm>(
        new Dcd(config, std::move(topology), self, x0, std::move(compressor)));
  }
  if (name == "ecd") {
    return std::unique_ptr<Algorithm>(
        new Ecd(config, std::move(topology), self, x0, std::move(compressor)));
  }
  return std::unique_ptr<Algorithm>(
      new Choco(config, std::move(topology), self, x0, std::move(compressor)));
}

}  // namespace hearsay
