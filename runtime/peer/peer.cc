#include "runtime/peer/peer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

#include "common/clock.h"
#include "common/logging.h"
#include "runtime/data/sampler.h"
#include "runtime/emulator/link_emulator.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

// Polling interval for the stop flag while waiting on the network.
constexpr double kPollSeconds = 0.2;

std::string JoinIds(const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s;
}

}  // namespace

uint64_t TopologyHash(const TopologySpec& spec) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : spec.Fingerprint()) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::vector<int> LinkNeighbors(const Topology& graph, int self) {
  std::set<int> ids;
  for (int64_t t = 1; t <= graph.period(); ++t) {
    for (int j : graph.InNeighbors(self, t)) ids.insert(j);
    for (int j : graph.OutNeighbors(self, t)) ids.insert(j);
  }
  return {ids.begin(), ids.end()};
}

Result<std::unique_ptr<Transport>> MakePeerTcpTransport(
    const RunConfig& run, std::shared_ptr<const TopologySpec> topology, const Model& model, int id,
    const std::atomic<bool>* stop) {
  TcpTransportOptions o;
  o.self = id;
  o.stop = stop;
  for (const NodeSpec& n : topology->nodes) o.addresses.push_back(PeerAddress{n.host, n.port});
  o.neighbors = LinkNeighbors(*topology->graph, id);
  o.handshake.cluster_id = run.cluster_id;
  o.handshake.topology_hash = TopologyHash(*topology);
  o.handshake.model_shape = model.Describe() + " params=" + std::to_string(model.num_params());
  o.handshake.algorithm = AlgorithmLabel(run);
  o.secret = run.secret;
  HEARSAY_ASSIGN_OR_RETURN(std::unique_ptr<Transport> tcp, MakeTcpTransport(o));
  if (!run.emulate) return tcp;
  return MakeEmulatedTransport(std::move(tcp), topology, id, run.seed);
}

Peer::Peer(PeerOptions options) : options_(std::move(options)) {}

std::span<const float> Peer::params() const {
  if (!algo_) return {};
  return std::as_const(*algo_).params();
}

Status Peer::Setup() {
  const int n = options_.topology->size();
  if (options_.id < 0 || options_.id >= n) {
    return InvalidArgument("peer id " + std::to_string(options_.id) + " is not a node of " +
                           options_.topology->source + " (ids are 0.." + std::to_string(n - 1) +
                           ")");
  }
  workload_ = options_.workload;
  if (!workload_) {
    HEARSAY_ASSIGN_OR_RETURN(Workload w, BuildWorkload(options_.run, n));
    workload_ = std::make_shared<Workload>(std::move(w));
  }
  const Model& model = *workload_->model;
  std::vector<float> x0(model.num_params());
  model.Init(options_.run.seed, x0);
  AlgorithmConfig ac;
  ac.name = options_.run.algorithm;
  ac.consensus_step = options_.run.consensus_step;
  ac.seed = options_.run.seed;
  ac.allow_biased = options_.run.allow_biased;
  HEARSAY_ASSIGN_OR_RETURN(
      std::unique_ptr<Compressor> codec,
      MakeCompressor(options_.run.algorithm == "dpsgd" ? "identity" : options_.run.compressor));
  if (options_.run.device == "cpu") {
    HEARSAY_ASSIGN_OR_RETURN(
        algorithm_, MakeAlgorithm(ac, options_.topology->graph, options_.id, x0, std::move(codec)));
    algo_ = algorithm_.get();
  } else {
    DeviceTrainerArgs args;
    args.device = options_.run.device;
    args.algorithm = ac;
    args.topology = options_.topology->graph;
    args.self = options_.id;
    args.x0 = x0;
    args.compressor = std::move(codec);
    args.model = options_.run.model;
    args.num_features = workload_->train.num_features;
    args.num_classes = workload_->train.num_classes;
    HEARSAY_ASSIGN_OR_RETURN(trainer_, MakeDeviceTrainer(std::move(args)));
    algo_ = &trainer_->algorithm();
  }
  done_.assign(n, false);
  if (!options_.out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options_.out_dir, ec);
    if (ec) return Unavailable(options_.out_dir + ": cannot create folder: " + ec.message());
  }
  return Status::Ok();
}

Status Peer::WaitForRound(Transport& transport, int64_t round) {
  const Topology& graph = *options_.topology->graph;
  const std::vector<int>& need = graph.InNeighbors(options_.id, round);
  const TimePoint deadline = DeadlineIn(options_.run.round_timeout_s);
  auto missing = [&] {
    std::vector<int> m;
    const auto it = inbox_.find(round);
    for (int j : need) {
      if (it == inbox_.end() || !it->second.count(j)) m.push_back(j);
    }
    return m;
  };
  while (true) {
    std::vector<int> m = missing();
    if (m.empty()) return Status::Ok();
    if (options_.stop && options_.stop->load()) {
      return Cancelled("peer " + std::to_string(options_.id) + ": stopped in round " +
                       std::to_string(round));
    }
    for (int j : m) {
      if (done_[j]) {
        return FailedPrecondition("peer " + std::to_string(options_.id) + ": round " +
                                  std::to_string(round) + " needs a message from peer " +
                                  std::to_string(j) + ", which has already finished");
      }
    }
    if (Now() >= deadline) {
      return DeadlineExceeded("peer " + std::to_string(options_.id) + ": waited " +
                              std::to_string(options_.run.round_timeout_s) + " s in round " +
                              std::to_string(round) + " for peers [" + JoinIds(m) + "]");
    }
    Result<Message> r = transport.Receive(std::min(deadline, DeadlineIn(kPollSeconds)));
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kDeadlineExceeded) continue;
      return r.status().WithPrefix("peer " + std::to_string(options_.id) + " round " +
                                   std::to_string(round));
    }
    Message& msg = *r;
    if (msg.from < 0 || msg.from >= static_cast<int>(done_.size())) {
      HEARSAY_LOG_WARN("dropping a message from unknown peer {}", msg.from);
      continue;
    }
    if (msg.kind == MessageKind::kDone) {
      done_[msg.from] = true;
      continue;
    }
    if (msg.round < round) {
      HEARSAY_LOG_WARN("dropping a stale round-{} message from peer {} (now in round {})", msg.round,
                  msg.from, round);
      continue;
    }
    const std::vector<int>& expected = graph.InNeighbors(options_.id, msg.round);
    if (!std::binary_search(expected.begin(), expected.end(), msg.from)) {
      HEARSAY_LOG_WARN("dropping a round-{} message from peer {}: not an in-neighbour in that round",
                  msg.round, msg.from);
      continue;
    }
    auto& slot = inbox_[msg.round];
    if (slot.count(msg.from)) {
      HEARSAY_LOG_WARN("dropping a duplicate round-{} message from peer {}", msg.round, msg.from);
      continue;
    }
    slot.emplace(msg.from, std::move(msg.payload));
  }
}

Status Peer::WriteModel(const std::string& path) const {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  const auto x = std::as_const(*algo_).params();
  f.write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(x.size_bytes()));
  if (!f) return Unavailable(path + ": cannot write model");
  return Status::Ok();
}

Status Peer::Run(Transport& transport) {
  HEARSAY_RETURN_IF_ERROR(Setup());
  const RunConfig& run = options_.run;
  const int id = options_.id;
  const Topology& graph = *options_.topology->graph;
  const Model& model = *workload_->model;
  MinibatchSampler sampler(workload_->train, workload_->shards[id], run.batch_size, run.seed, id);

  std::ofstream metrics;
  const bool write = !options_.out_dir.empty();
  if (write) {
    const std::string path = options_.out_dir + "/peer_" + std::to_string(id) + ".jsonl";
    metrics.open(path, std::ios::trunc);
    if (!metrics) return Unavailable(path + ": cannot write metrics");
  }

  HEARSAY_RETURN_IF_ERROR(
      transport.Start(DeadlineIn(run.connect_timeout_s)).WithPrefix("peer " + std::to_string(id)));
  const TimePoint start = Now();
  std::vector<float> grad(model.num_params());
  ByteBuffer out;
  double compute_s = 0, wait_s = 0;
  uint64_t payload_sent = 0;
  Status status;
  for (int64_t t = 1; t <= run.rounds && status.ok(); ++t) {
    TimePoint t0 = Now();
    const Batch batch = sampler.Next(t);
    const float lr = run.lr.At(t);
    out.clear();
    double loss = 0;
    if (trainer_) {
      Result<double> r = trainer_->Begin(t, batch, lr, &out);
      status = r.status();
      if (r.ok()) loss = *r;
    } else {
      loss = model.LossAndGradient(algo_->params(), batch, grad);
      status = algo_->Begin(t, grad, lr, &out);
    }
    if (!status.ok()) break;
    for (int j : graph.OutNeighbors(id, t)) {
      Message m;
      m.kind = MessageKind::kGossip;
      m.from = id;
      m.to = j;
      m.round = t;
      m.payload = out;
      payload_sent += out.size();
      status = transport.Send(std::move(m));
      if (!status.ok()) break;
    }
    if (!status.ok()) break;
    TimePoint t1 = Now();
    compute_s += Duration(t1 - t0).count();
    status = WaitForRound(transport, t);
    if (!status.ok()) break;
    TimePoint t2 = Now();
    wait_s += Duration(t2 - t1).count();
    auto& got = inbox_[t];
    for (const Neighbor& nb : graph.Row(id, t)) {
      const ByteBuffer& payload = nb.id == id ? out : got.at(nb.id);
      status = algo_->Absorb(t, nb.id, payload);
      if (!status.ok()) {
        status = status.WithPrefix("peer " + std::to_string(id) + " round " + std::to_string(t) +
                                   ": message from peer " + std::to_string(nb.id));
        break;
      }
    }
    if (!status.ok()) break;
    inbox_.erase(t);
    status = algo_->End(t);
    if (!status.ok()) break;
    compute_s += SecondsSince(t2);

    if (write) {
      const TransportStats st = transport.stats();
      nlohmann::json line = {{"peer", id},
                             {"round", t},
                             {"wall_s", SecondsSince(start)},
                             {"loss", loss},
                             {"lr", lr},
                             {"payload_bytes_sent", payload_sent},
                             {"bytes_sent", st.bytes_sent},
                             {"bytes_received", st.bytes_received},
                             {"compute_s", compute_s},
                             {"wait_s", wait_s}};
      metrics << line.dump() << '\n' << std::flush;
      if (t % run.eval_every == 0 || t == run.rounds) {
        status = WriteModel(options_.out_dir + "/snap_r" + std::to_string(t) + "_p" +
                            std::to_string(id) + ".f32");
      }
    }
  }
  // Say goodbye even after a failure, so neighbours fail fast with a clear reason.
  for (int j : LinkNeighbors(graph, id)) {
    Message bye;
    bye.kind = MessageKind::kDone;
    bye.from = id;
    bye.to = j;
    bye.round = run.rounds;
    (void)transport.Send(std::move(bye));
  }
  Status shut = transport.Shutdown(DeadlineIn(10));
  if (status.ok() && write) {
    status = WriteModel(options_.out_dir + "/peer_" + std::to_string(id) + ".final.f32");
  }
  if (status.ok() && !shut.ok()) HEARSAY_LOG_WARN("peer {}: shutdown: {}", id, shut.ToString());
  return status;
}

}  // namespace hearsay
