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

#include "runtime/peer/embedded_peer.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/peer.h"
#include "runtime/version.h"

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

}  // namespace

PYBIND11_MODULE(_hearsay, m) {
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
