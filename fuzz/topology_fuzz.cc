// libFuzzer target: the topology file parser (YAML text -> TopologySpec). Invariant: any text
// gives a spec or an error status; no crash, hang, out-of-bounds access or escaped exception.
#include <string_view>

#include "topology/topology_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)hearsay::ParseTopology(text, "fuzz.yaml");
  return 0;
}
