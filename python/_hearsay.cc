// hearsay._hearsay: the Python binding of EmbeddedPeer (runtime/peer/embedded_peer.h). The only
// translation unit that includes pybind11. Blocking calls (connecting, a round, a gradient)
// release the GIL, so peers may run on threads of one interpreter. Model buffers are never
// copied: round() and round_gradient() read and write the caller's float32 buffer in place
// (pybind11's array_t without conversion: any other dtype or layout is a TypeError, not a silent
// copy that would lose the update).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/byte_buffer.h"
#include "common/random.h"
#include "compressors/compressor.h"
#include "runtime/data/sampler.h"
#include "runtime/emulator/link_emulator.h"
#include "runtime/launch/report.h"
#include "runtime/launch/results.h"
#include "runtime/model/model.h"
#include "runtime/peer/embedded_peer.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/peer.h"
#include "runtime/peer/workload.h"
#include "runtime/transport/inproc/inproc_transport.h"
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
    case hearsay::StatusCode::kCorruption:  // a file or payload that is not what it should be
      throw py::value_error(s.ToString());
    default:
      throw std::runtime_error(s.ToString());
  }
}

using FloatArray = py::array_t<float, py::array::c_style>;

// The experiment's run `run` (or its only run), and the rank checked against its topology.
const hearsay::RunConfig& PickRun(const hearsay::Experiment& exp, const std::string& experiment,
                                  const std::optional<std::string>& run, int rank) {
  const hearsay::RunConfig* r = nullptr;
  if (run) {
    r = exp.FindRun(*run);
    if (!r) throw py::value_error(experiment + ": no run named '" + *run + "'");
  } else {
    if (exp.runs.size() != 1) {
      throw py::value_error(experiment + " has " + std::to_string(exp.runs.size()) +
                            " runs: say which (run=...)");
    }
    r = &exp.runs.front();
  }
  if (rank < 0 || rank >= r->topology->size()) {
    throw py::value_error("rank " + std::to_string(rank) + " is not a node of " +
                          r->topology->source + " (0.." + std::to_string(r->topology->size() - 1) +
                          ")");
  }
  return *r;
}

hearsay::Experiment LoadOrThrow(const std::string& experiment) {
  auto exp = hearsay::LoadExperiment(experiment);
  if (!exp.ok()) Throw(exp.status());
  return std::move(exp).value();
}

// A 1-D float32 buffer of the model's size, or a ValueError naming `what`.
std::span<float> Span(FloatArray& a, const char* what, size_t want, bool writable) {
  if (a.ndim() != 1 || (writable && !a.writeable())) {
    throw py::value_error(std::string(what) + " must be a " + (writable ? "writable " : "") +
                          "1-D float32 array");
  }
  const size_t n = static_cast<size_t>(a.shape(0));
  if (want != 0 && n != want) {
    throw py::value_error(std::string(what) + " has " + std::to_string(n) +
                          " values; the model has " + std::to_string(want));
  }
  return {writable ? a.mutable_data() : const_cast<float*>(a.data()), n};
}

// transport="inproc": the peers of one run on threads of this process share a hub (no sockets;
// as `hearsay launch --transport inproc`). Hubs are keyed by the experiment file and run; a key
// gets a fresh hub when a rank it already handed out asks again (a new run with the same file,
// e.g. after one that failed before all its ranks started), and the registry forgets a hub once
// every rank has its endpoint (the endpoints keep the hub's state alive).
std::unique_ptr<hearsay::Transport> InProcEndpoint(const std::string& key, int n, int rank) {
  struct Entry {
    std::shared_ptr<hearsay::InProcHub> hub;
    std::vector<bool> taken;
    int count = 0;
  };
  static std::mutex mu;
  static std::map<std::string, Entry> hubs;
  std::lock_guard<std::mutex> lock(mu);
  Entry& e = hubs[key];
  if (!e.hub || e.hub->size() != n || e.taken[rank]) {
    e.hub = std::make_shared<hearsay::InProcHub>(n);
    e.taken.assign(n, false);
    e.count = 0;
  }
  e.taken[rank] = true;
  auto t = e.hub->Endpoint(rank);
  if (++e.count == n) hubs.erase(key);
  return t;
}

class PyPeer {
 public:
  PyPeer(const std::string& experiment, int rank, std::optional<std::string> run,
         const FloatArray& x0, const std::string& out_dir, bool gradient,
         const std::string& transport) {
    const hearsay::Experiment exp = LoadOrThrow(experiment);
    const hearsay::RunConfig& r = PickRun(exp, experiment, run, rank);
    if (x0.ndim() != 1) throw py::value_error("x0 must be a 1-D float32 array");
    if (transport != "tcp" && transport != "inproc") {
      throw py::value_error("transport must be 'tcp' or 'inproc', not '" + transport + "'");
    }
    const size_t d = static_cast<size_t>(x0.shape(0));
    hearsay::EmbeddedPeerOptions o;
    o.id = rank;
    o.run = r;
    o.topology = r.topology;
    o.out_dir = out_dir.empty() ? "" : out_dir + "/" + r.name;
    o.stop = &stop_;
    o.gradient = gradient;
    std::vector<float> initial(x0.data(), x0.data() + d);  // once, at the start
    std::error_code ec;
    const std::string key =
        std::filesystem::weakly_canonical(experiment, ec).string() + "#" + r.name;
    py::gil_scoped_release release;
    std::unique_ptr<hearsay::Transport> t;
    if (transport == "inproc") {
      t = InProcEndpoint(key, r.topology->size(), rank);
      if (r.emulate) t = hearsay::MakeEmulatedTransport(std::move(t), r.topology, rank, r.seed);
    } else {
      // Every peer announces the same shape in the handshake: a mismatch is refused there.
      auto tcp = hearsay::MakePeerTcpTransport(o.run, o.topology, "external:" + std::to_string(d),
                                               d, rank, &stop_);
      if (!tcp.ok()) Throw(tcp.status());
      t = std::move(tcp).value();
    }
    auto p = EmbeddedPeer::Start(std::move(o), initial, std::move(t));
    if (!p.ok()) Throw(p.status());
    peer_ = std::move(p).value();
  }

  bool Round(FloatArray x, double loss) {
    if (!peer_) throw std::runtime_error("the peer has been closed");
    std::span<float> xs = Span(x, "x", 0, /*writable=*/true);
    hearsay::Result<bool> more = false;
    {
      py::gil_scoped_release release;
      more = peer_->Round(xs, loss);
    }
    if (!more.ok()) Throw(more.status());
    return *more;
  }

  bool RoundGradient(FloatArray x, FloatArray g, double loss) {
    if (!peer_) throw std::runtime_error("the peer has been closed");
    std::span<float> xs = Span(x, "x", 0, /*writable=*/true);
    std::span<float> gs = Span(g, "g", xs.size(), /*writable=*/false);
    hearsay::Result<bool> more = false;
    {
      py::gil_scoped_release release;
      more = peer_->RoundGradient(gs, xs, loss);
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

// The run's own model and data (what a daemon peer trains), for hosts that want the built-in
// model's gradient: with Peer(gradient=True) a Python loop then reproduces `hearsay launch`
// bit for bit (tests/python/test_equivalence.py).
class PyBuiltinModel {
 public:
  PyBuiltinModel(const std::string& experiment, int rank, std::optional<std::string> run) {
    const hearsay::Experiment exp = LoadOrThrow(experiment);
    const hearsay::RunConfig& r = PickRun(exp, experiment, run, rank);
    auto w = hearsay::BuildPeerWorkload(r, r.topology->size(), rank);
    if (!w.ok()) Throw(w.status());
    workload_ = std::make_unique<hearsay::Workload>(std::move(w).value());
    sampler_ = std::make_unique<hearsay::MinibatchSampler>(
        workload_->train, workload_->shards[rank], r.batch_size, r.seed, rank);
    seed_ = r.seed;
  }
  size_t num_params() const { return workload_->model->num_params(); }
  FloatArray InitialModel() const {
    FloatArray x(static_cast<py::ssize_t>(num_params()));
    workload_->model->Init(seed_, std::span<float>(x.mutable_data(), num_params()));
    return x;
  }
  // The minibatch loss of round `round` (the daemon's batch for this rank) at x; g (written in
  // place) its gradient.
  double LossAndGradient(FloatArray x, int64_t round, FloatArray g) {
    std::span<float> xs = Span(x, "x", num_params(), /*writable=*/false);
    std::span<float> gs = Span(g, "g", num_params(), /*writable=*/true);
    if (round < 1) throw py::value_error("round must be >= 1, not " + std::to_string(round));
    py::gil_scoped_release release;
    return workload_->model->LossAndGradient(xs, sampler_->Next(round), gs);
  }

 private:
  std::unique_ptr<hearsay::Workload> workload_;
  std::unique_ptr<hearsay::MinibatchSampler> sampler_;
  uint64_t seed_ = 0;
};

// hearsay.report: `hearsay report` for a model only the host program can evaluate. The launch
// code evaluates a run through a Workload's Model (Loss on the training set, Loss and Accuracy
// on the held-out set, for the average model of each evaluation round); this Model answers those
// calls with the Python callable evaluate(x) -> (train_loss, test_loss, accuracy). The two
// placeholder data sets differ only in their row count, which is how a call says which set it
// means; the callable runs once per model (the three calls of one evaluation share x). A Python
// exception is kept, NaN returned, and the exception re-raised once the launch code returns (it
// must not unwind through C++ frames that do not expect it).
class PyEvalModel final : public hearsay::Model {
 public:
  static constexpr int64_t kTrainRows = 1, kTestRows = 2;
  PyEvalModel(std::vector<float> x0, py::function evaluate)
      : x0_(std::move(x0)), evaluate_(std::move(evaluate)) {}
  size_t num_params() const override { return x0_.size(); }
  std::string Describe() const override { return "external:" + std::to_string(x0_.size()); }
  void Init(uint64_t, std::span<float> params) const override {
    std::copy(x0_.begin(), x0_.end(), params.begin());
  }
  double LossAndGradient(std::span<const float> params, const hearsay::Batch& batch,
                         std::span<float>) const override {
    return Loss(params, batch);
  }
  double Loss(std::span<const float> params, const hearsay::Batch& batch) const override {
    const auto& r = Values(params);
    return batch.rows == kTrainRows ? r[0] : r[1];
  }
  double Accuracy(std::span<const float> params, const hearsay::Batch&) const override {
    return Values(params)[2];
  }
  std::optional<py::error_already_set>& error() const { return error_; }

 private:
  const std::array<double, 3>& Values(std::span<const float> x) const {
    if (have_ && x.size() == last_x_.size() && std::equal(x.begin(), x.end(), last_x_.begin())) {
      return last_;
    }
    last_x_.assign(x.begin(), x.end());
    have_ = true;
    last_.fill(std::numeric_limits<double>::quiet_NaN());
    if (error_) return last_;
    try {
      FloatArray a(static_cast<py::ssize_t>(x.size()));
      std::copy(x.begin(), x.end(), a.mutable_data());
      const py::object r = evaluate_(a);
      if (!(py::isinstance<py::tuple>(r) || py::isinstance<py::list>(r)) || py::len(r) != 3) {
        const std::string what = "evaluate(x) must return (train_loss, test_loss, accuracy), not " +
                                 std::string(py::str(r));
        PyErr_SetString(PyExc_TypeError, what.c_str());
        throw py::error_already_set();
      }
      for (size_t k = 0; k < 3; ++k) {
        last_[k] = py::float_(r[py::int_(k)]).cast<double>();  // a TypeError if not a number
      }
    } catch (py::error_already_set& e) {
      error_ = std::move(e);
    }
    return last_;
  }

  std::vector<float> x0_;
  py::function evaluate_;
  mutable std::vector<float> last_x_;
  mutable std::array<double, 3> last_{};
  mutable bool have_ = false;
  mutable std::optional<py::error_already_set> error_;
};

py::dict Report(const std::string& dir, const std::string& experiment, py::function evaluate,
                const FloatArray& x0, std::optional<std::string> run) {
  const hearsay::Experiment exp = LoadOrThrow(experiment);
  const hearsay::RunConfig& r = PickRun(exp, experiment, run, 0);
  if (x0.ndim() != 1 || x0.shape(0) == 0) {
    throw py::value_error("x0 must be the initial model as a 1-D float32 array");
  }
  auto model = std::make_unique<PyEvalModel>(std::vector<float>(x0.data(), x0.data() + x0.shape(0)),
                                             std::move(evaluate));
  PyEvalModel* eval = model.get();
  hearsay::Workload w;
  for (auto [set, rows] :
       {std::pair{&w.train, PyEvalModel::kTrainRows}, std::pair{&w.test, PyEvalModel::kTestRows}}) {
    set->num_features = 1;
    set->num_classes = 1;
    set->features.assign(rows, 0.f);
    set->labels.assign(rows, 0);
  }
  w.model = std::move(model);
  const std::string run_dir = dir + "/" + r.name;
  if (!std::filesystem::exists(run_dir + "/peer_0.jsonl")) {
    throw py::value_error(run_dir + ": no peer files (peer_0.jsonl); did the peers run with " +
                          "out_dir='" + dir + "'?");
  }
  auto summary = hearsay::SummarizeRunFolder(
      exp, r, w, run_dir, hearsay::ReadPeerOutcomes(run_dir, r.topology->size()));
  if (eval->error()) throw std::move(*eval->error());
  if (!summary.ok()) Throw(summary.status());
  hearsay::Status written = hearsay::WriteResults({*summary}, dir, /*keep_others=*/true);
  if (!written.ok()) Throw(written);
  py::list curve;
  for (const hearsay::EvalPoint& p : summary->curve) {
    py::dict d;
    d["round"] = p.round;
    d["wall_s"] = p.wall_s;
    d["mb_sent_per_peer"] = p.mb_sent_per_peer;
    d["train_loss"] = p.train_loss;
    d["test_loss"] = p.test_loss;
    d["accuracy"] = p.accuracy;
    d["consensus"] = p.consensus;
    curve.append(d);
  }
  py::dict out;
  out["run"] = summary->run;
  out["status"] = summary->status;
  out["rounds"] = summary->rounds;
  out["peers_alive"] = summary->peers_alive;
  out["curve"] = curve;
  return out;
}

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
  m.def("report", &Report, py::arg("dir"), py::arg("experiment"), py::arg("evaluate"),
        py::arg("x0"), py::arg("run") = py::none(), R"doc(
`hearsay report` for peers whose model lives in Python: evaluates the run's peer files in
dir/<run>/ (written by Peer(..., out_dir=dir)) exactly as `hearsay launch` does -- the average
model of round 0 (x0) and of every evaluation round from the peers' snapshots, the consensus
distance, wall time and megabytes from their metrics -- with evaluate(x) -> (train_loss,
test_loss, accuracy) in place of the built-in model, and writes dir/<run>/eval.jsonl,
dir/summary.csv, dir/curves.csv and the plots. Returns the run's status and curve.
)doc");
  m.doc() = "hearsay: decentralized gossip training; the peer of a run whose model is yours.";
  m.attr("__version__") = hearsay::RuntimeVersion();
  py::class_<PyPeer>(m, "Peer", R"doc(
One peer of a hearsay run whose model lives in this program.

Peer(experiment, rank, x0, run=None, out_dir="", gradient=False, transport="tcp") connects to the
peer's neighbours (addresses from the experiment's topology file; transport="inproc": peers on
threads of this process, no sockets) and returns when the links are up. x0 is the initial model
as a 1-D float32 array, the same on every peer. Each round(x, loss) takes your model after your
local steps, gossips the change with the run's algorithm and codec, and overwrites x with the
model to start the next round from; it returns False once the run's rounds are done. With
gradient=True, round_gradient(x, g, loss) takes instead the gradient g of your loss at x (the
model the peer last gave you) and applies the run's own SGD step with it, as a daemon peer does.
x is read and written in place (no copy); it must stay a C-contiguous float32 buffer.
)doc")
      .def(py::init<const std::string&, int, std::optional<std::string>, const FloatArray&,
                    const std::string&, bool, const std::string&>(),
           py::arg("experiment"), py::arg("rank"), py::arg("run") = py::none(), py::arg("x0"),
           py::arg("out_dir") = "", py::arg("gradient") = false, py::arg("transport") = "tcp")
      .def("round", &PyPeer::Round, py::arg("x").noconvert(),
           py::arg("loss") = std::numeric_limits<double>::quiet_NaN(),
           "One round: x (float32, updated in place) after your local steps; False at the end")
      .def("round_gradient", &PyPeer::RoundGradient, py::arg("x").noconvert(),
           py::arg("g").noconvert(), py::arg("loss") = std::numeric_limits<double>::quiet_NaN(),
           "One round of a gradient=True peer: g, the gradient at x; x (float32) becomes the "
           "next model in place; False at the end")
      .def("close", &PyPeer::Close, "Say goodbye to the neighbours and close the links")
      .def("stop", &PyPeer::Stop, "Ask a peer blocked in round() on another thread to stop")
      .def_property_readonly("round_index", &PyPeer::round,
                             "The round the next round() call completes (1-based)")
      .def_property_readonly("num_params", &PyPeer::num_params)
      .def_property_readonly("finished", &PyPeer::finished);
  py::class_<PyBuiltinModel>(m, "BuiltinModel", R"doc(
The run's own model and data as a daemon peer of this rank trains them (model:, data:, seed,
batch_size of the experiment). initial_model() is the daemon's x0; loss_and_gradient(x, round, g)
returns the minibatch loss of round `round` at x and writes its gradient into g (float32, in
place). With Peer(gradient=True) this reproduces `hearsay launch` bit for bit.
)doc")
      .def(py::init<const std::string&, int, std::optional<std::string>>(), py::arg("experiment"),
           py::arg("rank"), py::arg("run") = py::none())
      .def_property_readonly("num_params", &PyBuiltinModel::num_params)
      .def("initial_model", &PyBuiltinModel::InitialModel)
      .def("loss_and_gradient", &PyBuiltinModel::LossAndGradient, py::arg("x").noconvert(),
           py::arg("round"), py::arg("g").noconvert());
}
