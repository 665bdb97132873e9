// A consumer of the installed hearsay package: loads a topology file, round-trips a vector
// through two codecs, and runs two in-process EmbeddedPeers of a D-PSGD experiment for three
// rounds, checking every value. Prints "consumer ok" and exits 0 when all checks pass; otherwise
// prints the failed check and exits 1. Usage: consumer WORK_DIR (a writable folder).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "compressors/compressor.h"
#include "runtime/peer/embedded_peer.h"
#include "runtime/peer/experiment.h"
#include "runtime/transport/inproc/inproc_transport.h"
#include "runtime/version.h"
#include "topology/topology_spec.h"

namespace {

int failures = 0;

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAIL %s\n", what.c_str());
    ++failures;
  }
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer WORK_DIR\n");
    return 1;
  }
  const std::string dir = argv[1];
  std::printf("hearsay %s\n", hearsay::RuntimeVersion());

  // A topology file: a 4-ring with Metropolis weights (1/3 each on the ring and the diagonal).
  Write(dir + "/ring.yaml", "nodes: 4\ngenerator: {kind: ring}\nweights: metropolis\n");
  auto topo = hearsay::LoadTopologyFile(dir + "/ring.yaml");
  Check(topo.ok(), "load ring.yaml: " + (topo.ok() ? "" : topo.status().ToString()));
  if (topo.ok()) {
    Check(topo->graph->size() == 4, "ring has 4 nodes");
    double sum = 0;
    for (const hearsay::Neighbor& nb : topo->graph->Row(0, 1)) {
      sum += nb.weight;
      Check(std::abs(nb.weight - 1.0 / 3) < 1e-12, "metropolis weight 1/3");
    }
    Check(std::abs(sum - 1) < 1e-12, "row 0 sums to 1");
  }

  // Codecs: identity is exact, qsgd:8 is close and deterministic for a key.
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * i);
  for (const char* spec : {"identity", "qsgd:8"}) {
    auto codec = hearsay::MakeCompressor(spec);
    Check(codec.ok(), std::string("codec ") + spec);
    if (!codec.ok()) continue;
    hearsay::ByteBuffer bytes;
    const hearsay::RngKey key{1, 2, 3, 0, 0};
    Check((*codec)->Encode(x, key, &bytes).ok(), std::string("encode ") + spec);
    std::vector<float> y(x.size());
    Check((*codec)->Decode(std::span<const uint8_t>(bytes.data(), bytes.size()), key, y).ok(),
          std::string("decode ") + spec);
    double err = 0;
    for (size_t i = 0; i < x.size(); ++i) err = std::max(err, double(std::abs(x[i] - y[i])));
    const double bound = std::string(spec) == "identity" ? 0 : 0.02;
    Check(err <= bound, std::string(spec) + ": max error " + std::to_string(err));
  }

  // Two embedded peers (complete graph, W = 1/2 everywhere), one step of lr 0.5 on
  // f_i(x) = 0.5 (x - b_i)^2 per round, b = (1, 3): D-PSGD, x_i <- mean(x) - 0.5 (x_i - b_i),
  // computed here alongside (every value is a short binary fraction: exact in float).
  const float b[2] = {1.f, 3.f};
  float want[2] = {0.f, 0.f};
  for (int r = 0; r < 3; ++r) {
    const float mean = 0.5f * (want[0] + want[1]);
    for (int i = 0; i < 2; ++i) want[i] = mean - 0.5f * (want[i] - b[i]);
  }
  Write(dir + "/pair.yaml", "nodes: 2\ngenerator: {kind: complete}\nweights: metropolis\n");
  Write(dir + "/exp.yaml",
        "topology: pair.yaml\nalgorithm: dpsgd\nrounds: 3\nemulate: false\nround_timeout: 30\n");
  auto exp = hearsay::LoadExperiment(dir + "/exp.yaml");
  Check(exp.ok(), "load exp.yaml: " + (exp.ok() ? "" : exp.status().ToString()));
  if (exp.ok()) {
    hearsay::InProcHub hub(2);
    std::vector<float> finals(2, -1);
    std::vector<hearsay::Status> status(2);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        hearsay::EmbeddedPeerOptions o;
        o.id = i;
        o.run = exp->runs.front();
        o.topology = exp->topology;
        std::vector<float> xi(1, 0.f);
        auto peer = hearsay::EmbeddedPeer::Start(o, xi, hub.Endpoint(i));
        if (!peer.ok()) {
          status[i] = peer.status();
          return;
        }
        while (true) {
          xi[0] -= 0.5f * (xi[0] - b[i]);
          auto more = (*peer)->Round(xi, 0.0);
          if (!more.ok()) {
            status[i] = more.status();
            return;
          }
          if (!*more) break;
        }
        finals[i] = xi[0];
      });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < 2; ++i) {
      Check(status[i].ok(), "peer " + std::to_string(i) + ": " + status[i].ToString());
      Check(finals[i] == want[i], "peer " + std::to_string(i) + " final " +
                                      std::to_string(finals[i]) + ", want " +
                                      std::to_string(want[i]));
    }
  }
  if (failures) return 1;
  std::printf("consumer ok\n");
  return 0;
}
