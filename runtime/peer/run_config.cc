#include "runtime/peer/run_config.h"

#include <algorithm>
#include <charconv>

#include "common/suggest.h"

namespace hearsay {
namespace {

// Index of `name` in `names`, or an error listing them and suggesting the closest.
Result<int> Lookup(std::string_view what, std::string_view name,
                   const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  std::string valid;
  for (const auto& n : names) valid += (valid.empty() ? "" : ", ") + n;
  return InvalidArgument(std::string(what) + " '" + std::string(name) + "' is unknown" +
                         DidYouMean(name, names) + " (valid: " + valid + ")");
}

}  // namespace

const std::vector<std::string>& AlgorithmNames() {
  static const std::vector<std::string> kNames = {"dpsgd", "dcd",    "ecd",
                                                  "choco", "adpsgd", "allreduce"};
  return kNames;
}
const std::vector<std::string>& ModeNames() {
  static const std::vector<std::string> kNames = {"sync", "async"};
  return kNames;
}
const std::vector<std::string>& TransportNames() {
  static const std::vector<std::string> kNames = {"tcp", "inproc", "sim"};
  return kNames;
}

const char* AlgorithmName(AlgorithmKind kind) {
  return AlgorithmNames()[static_cast<int>(kind)].c_str();
}
const char* ModeName(RunMode mode) { return ModeNames()[static_cast<int>(mode)].c_str(); }
const char* TransportName(TransportKind kind) {
  return TransportNames()[static_cast<int>(kind)].c_str();
}

Result<AlgorithmKind> ParseAlgorithm(std::string_view name) {
  HEARSAY_ASSIGN_OR_RETURN(int i, Lookup("algorithm", name, AlgorithmNames()));
  return static_cast<AlgorithmKind>(i);
}
Result<RunMode> ParseMode(std::string_view name) {
  HEARSAY_ASSIGN_OR_RETURN(int i, Lookup("mode", name, ModeNames()));
  return static_cast<RunMode>(i);
}
Result<TransportKind> ParseTransport(std::string_view name) {
  HEARSAY_ASSIGN_OR_RETURN(int i, Lookup("transport", name, TransportNames()));
  return static_cast<TransportKind>(i);
}

std::string Device::ToString() const {
  if (kind == DeviceKind::kCpu) return "cpu";
  return index < 0 ? "cuda" : "cuda:" + std::to_string(index);
}

Result<Device> ParseDevice(std::string_view text) {
  Device d;
  if (text == "cpu") return d;
  d.kind = DeviceKind::kCuda;
  if (text == "cuda") return d;
  if (text.rfind("cuda:", 0) == 0) {
    const std::string_view digits = text.substr(5);
    int index = -1;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec == std::errc() && ptr == digits.data() + digits.size() && !digits.empty() &&
        index >= 0 && index < 1024) {
      d.index = index;
      return d;
    }
    return InvalidArgument("device '" + std::string(text) +
                           "': the GPU index must be a number from 0, e.g. cuda:0");
  }
  return InvalidArgument("device '" + std::string(text) + "' is unknown" +
                         DidYouMean(text, {"cpu", "cuda"}) + " (valid: cpu, cuda, cuda:N)");
}

const char* FaultKindName(FaultSpec::Kind kind) {
  static const char* const kNames[] = {"kill",      "restart",   "pause",
                                       "partition", "link_down", "join"};
  return kNames[static_cast<int>(kind)];
}

bool JoinsLate(const RunConfig& run, int peer) {
  return std::any_of(run.faults.begin(), run.faults.end(), [&](const FaultSpec& f) {
    return f.kind == FaultSpec::Kind::kJoin && f.peers[0] == peer;
  });
}

std::string CompressorLabel(const RunConfig& run) {
  return run.algorithm == AlgorithmKind::kDpsgd ? std::string("fp32") : run.compressor;
}

std::string AlgorithmLabel(const RunConfig& run) {
  return std::string(AlgorithmName(run.algorithm)) + "/" + CompressorLabel(run);
}

}  // namespace hearsay
