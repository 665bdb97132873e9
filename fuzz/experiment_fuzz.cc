// libFuzzer target: the experiment file parser. The input is written as an experiment file next
// to a fixed 4-node ring topology file (topo.yaml), then loaded. Invariant: any text gives an
// experiment or an error status; no crash, hang, out-of-bounds access or escaped exception.
#include "fuzz/fuzz_util.h"
#include "runtime/peer/experiment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hearsay;
  static const bool topology_written = [] {
    const std::string topo =
        "nodes: 4\nhost: 127.0.0.1\nbase_port: 17100\ngenerator: {kind: ring}\n";
    fuzz::WriteScratch("topo.yaml", reinterpret_cast<const uint8_t*>(topo.data()), topo.size());
    return true;
  }();
  (void)topology_written;
  const std::string path = fuzz::WriteScratch("experiment.yaml", data, size);
  (void)LoadExperiment(path);
  return 0;
}
