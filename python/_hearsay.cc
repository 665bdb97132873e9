// hearsay._hearsay: the Python binding of EmbeddedPeer (runtime/peer/embedded_peer.h). The only
// translation unit that includes pybind11. Blocking calls (connecting, a round) release the GIL,
// so peers may run on threads of one interpreter.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "common/byte_buffer.h"
#include "common/random.h"
#include "compressors/compressor.h"
#include "runtime/peer/embedded_peer.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/peer.h"
#include "runtime/version.h"
#include "topology/analysis.h"
#include "topology/topology_spec.h"

namespace py = pybind11;
using hearsay::EmbeddedPeer;

namespace {

[[noreturn]] void Throw(const hearsay::Status& s) {
  switch (s.code()) {
    case hearsay::StatusCode::kInvalidArgument:
    case hearsay::StatusCode::kNotFound:
      throw py::value_error(s.ToString());
    default:
      throw std::runtime_error(s.ToString());
  }
}

using FloatArray = py::array_t<float, py::array::c_style>;

class PyPeer {
 public:
  PyPeer(const std::string& experiment, int rank, std::optional<std::string> run,
         const FloatArray& x0, const std::string& out_dir) {
    auto exp = hearsay::LoadExperiment(experiment);
    if (!exp.ok()) Throw(exp.status());
    const hearsay::RunConfig* r = nullptr;
    if (run) {
      r = exp->FindRun(*run);
      if (!r) throw py::value_error(experiment + ": no run named '" + *run + "'");
    } else {
      if (exp->runs.size() != 1) {
        throw py::value_error(experiment + " has " + std::to_string(exp->runs.size()) +
                              " runs: say which (run=...)");
      }
      r = &exp->runs.front();
    }
    if (x0.ndim() != 1) throw py::value_error("x0 must be a 1-D float32 array");
    const size_t d = static_cast<size_t>(x0.shape(0));
    hearsay::EmbeddedPeerOptions o;
    o.id = rank;
    o.run = *r;
    o.topology = r->topology;
    o.out_dir = out_dir.empty() ? "" : out_dir + "/" + r->name;
    o.stop = &stop_;
    if (rank < 0 || rank >= r->topology->size()) {
      throw py::value_error("rank " + std::to_string(rank) + " is not a node of " +
                            r->topology->source + " (0.." +
                            std::to_string(r->topology->size() - 1) + ")");
    }
    std::vector<float> initial(x0.data(), x0.data() + d);
    py::gil_scoped_release release;
    // Every peer announces the same shape in the handshake: a mismatch is refused there.
    auto t = hearsay::MakePeerTcpTransport(o.run, o.topology, "external:" + std::to_string(d), d,
                                           rank, &stop_);
    if (!t.ok()) Throw(t.status());
    auto p = EmbeddedPeer::Start(std::move(o), initial, std::move(t).value());
    if (!p.ok()) Throw(p.status());
    peer_ = std::move(p).value();
  }

  bool Round(FloatArray x, double loss) {
    if (!peer_) throw std::runtime_error("the peer has been closed");
    if (x.ndim() != 1 || !x.writeable()) {
      throw py::value_error("x must be a writable 1-D float32 array");
    }
    auto view = x.mutable_unchecked<1>();
    std::span<float> s(view.mutable_data(0), static_cast<size_t>(view.shape(0)));
    hearsay::Result<bool> more = false;
    {
      py::gil_scoped_release release;
      more = peer_->Round(s, loss);
    }
    if (!more.ok()) Throw(more.status());
    return *more;
  }

  void Close() {
    if (!peer_) return;
    hearsay::Status s;
    {
      py::gil_scoped_release release;
      s = peer_->Finish();
      peer_.reset();
    }
    if (!s.ok() && s.code() != hearsay::StatusCode::kCancelled) Throw(s);
  }

  int64_t round() const { return peer_ ? peer_->round() : -1; }
  size_t num_params() const { return peer_ ? peer_->num_params() : 0; }
  bool finished() const { return !peer_ || peer_->finished(); }
  void Stop() { stop_ = true; }

 private:
  std::atomic<bool> stop_{false};
  std::unique_ptr<EmbeddedPeer> peer_;
};

// A codec (compressors/compressor.h) for Python: encode a float32 vector to the exact bytes a
// peer would send, decode them back.
class PyCodec {
 public:
  explicit PyCodec(const std::string& spec) {
    auto c = hearsay::MakeCompressor(spec);
    if (!c.ok()) Throw(c.status());
    codec_ = std::move(c).value();
  }
  py::bytes Encode(const FloatArray& x, uint64_t seed, uint32_t peer, uint32_t round) {
    if (x.ndim() != 1) throw py::value_error("x must be a 1-D float32 array");
    hearsay::ByteBuffer out;
    const hearsay::RngKey key{seed, peer, round, 0, 0};
    hearsay::Status s = codec_->Encode(
        std::span<const float>(x.data(), static_cast<size_t>(x.shape(0))), key, &out);
    if (!s.ok()) Throw(s);
    return py::bytes(reinterpret_cast<const char*>(out.data()), out.size());
  }
  FloatArray Decode(const py::bytes& bytes, size_t n, uint64_t seed, uint32_t peer,
                    uint32_t round) const {
    const std::string_view b = bytes;
    FloatArray out(static_cast<py::ssize_t>(n));
    auto view = out.mutable_unchecked<1>();
    const hearsay::RngKey key{seed, peer, round, 0, 0};
    hearsay::Status s = codec_->Decode(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()), b.size()), key,
        std::span<float>(view.mutable_data(0), n));
    if (!s.ok()) Throw(s);
    return out;
  }
  std::string spec() const { return codec_->Spec(); }
  bool unbiased() const { return codec_->Unbiased(); }
  double bits_per_element(size_t d) const { return codec_->BitsPerElement(d); }

 private:
  std::unique_ptr<hearsay::Compressor> codec_;
};

// A topology file as Python data: nodes, the mixing matrix of round 1, the spectral analysis.
py::dict LoadTopology(const std::string& path) {
  auto spec = hearsay::LoadTopologyFile(path);
  if (!spec.ok()) Throw(spec.status());
  const auto& graph = spec->graph;
  const int n = graph->size();
  py::array_t<double> w({n, n});
  auto wv = w.mutable_unchecked<2>();
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) wv(i, j) = 0;
    for (const hearsay::Neighbor& nb : graph->Row(i, 1)) wv(i, nb.id) = nb.weight;
  }
  py::list names;
  for (const auto& node : spec->nodes) names.append(node.name);
  py::dict d;
  d["nodes"] = n;
  d["names"] = names;
  d["weights"] = w;
  d["period"] = graph->period();
  auto a = hearsay::AnalyzeTopology(graph);
  if (a.ok()) {
    d["spectral_gap"] = a->spectral_gap;
    d["second_eigenvalue"] = a->second_eigenvalue;
    d["diameter"] = a->diameter;
    d["symmetric"] = a->symmetric;
    d["doubly_stochastic"] = a->doubly_stochastic;
  }
  return d;
}

}  // namespace

PYBIND11_MODULE(_hearsay, m) {
  py::class_<PyCodec>(m, "Codec", R"doc(
A hearsay codec (docs/compressors.md), e.g. Codec("qsgd:8"). encode(x, seed=0, peer=0, round=0)
returns the exact bytes a peer sends for the float32 vector x (the random draws of stochastic
codecs are keyed by seed, peer and round); decode(data, n, seed, peer, round) inverts it.
)doc")
      .def(py::init<const std::string&>(), py::arg("spec"))
      .def("encode", &PyCodec::Encode, py::arg("x").noconvert(), py::arg("seed") = 0,
           py::arg("peer") = 0, py::arg("round") = 0)
      .def("decode", &PyCodec::Decode, py::arg("data"), py::arg("n"), py::arg("seed") = 0,
           py::arg("peer") = 0, py::arg("round") = 0)
      .def_property_readonly("spec", &PyCodec::spec)
      .def_property_readonly("unbiased", &PyCodec::unbiased)
      .def("bits_per_element", &PyCodec::bits_per_element, py::arg("d"));
  m.def("load_topology", &LoadTopology, py::arg("path"),
        "A topology file: nodes, names, the mixing matrix W (round 1), period, and its analysis "
        "(spectral_gap, second_eigenvalue, diameter, symmetric, doubly_stochastic)");
  m.doc() = "hearsay: decentralized gossip training; the peer of a run whose model is yours.";
  m.attr("__version__") = hearsay::RuntimeVersion();
  py::class_<PyPeer>(m, "Peer", R"doc(
One peer of a hearsay run whose model lives in this program.

Peer(experiment, rank, x0, run=None, out_dir="") connects to the peer's neighbours (addresses
from the experiment's topology file) and returns when the links are up. x0 is the initial
model as a 1-D float32 array, the same on every peer. Each round(x, loss) takes your model after
your local steps, gossips the change with the run's algorithm and codec, and overwrites x with
the model to start the next round from; it returns False once the run's rounds are done.
)doc")
      .def(py::init<const std::string&, int, std::optional<std::string>, const FloatArray&,
                    const std::string&>(),
           py::arg("experiment"), py::arg("rank"), py::arg("run") = py::none(), py::arg("x0"),
           py::arg("out_dir") = "")
      .def("round", &PyPeer::Round, py::arg("x").noconvert(),
           py::arg("loss") = std::numeric_limits<double>::quiet_NaN(),
           "One round: x (float32, updated in place) after your local steps; False at the end")
      .def("close", &PyPeer::Close, "Say goodbye to the neighbours and close the links")
      .def("stop", &PyPeer::Stop, "Ask a peer blocked in round() on another thread to stop")
      .def_property_readonly("round_index", &PyPeer::round,
                             "The round the next round() call completes (1-based)")
      .def_property_readonly("num_params", &PyPeer::num_params)
      .def_property_readonly("finished", &PyPeer::finished);
}
