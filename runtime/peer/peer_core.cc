#include "runtime/peer/peer_core.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "common/logging.h"

namespace hearsay {
namespace {

std::string JoinIds(const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s;
}

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", s);
  return buf;
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
  ids.erase(self);
  return {ids.begin(), ids.end()};
}

PeerCore::PeerCore(PeerCoreOptions options) : options_(std::move(options)) {}
PeerCore::~PeerCore() = default;

Result<std::unique_ptr<PeerCore>> PeerCore::Make(PeerCoreOptions options) {
  std::unique_ptr<PeerCore> core(new PeerCore(std::move(options)));
  HEARSAY_RETURN_IF_ERROR(core->Setup());
  return core;
}

Status PeerCore::Setup() {
  const RunConfig& run = options_.run;
  const int n = options_.topology->size();
  const int id = options_.id;
  if (id < 0 || id >= n) {
    return InvalidArgument("peer id " + std::to_string(id) + " is not a node of " +
                           options_.topology->source + " (ids are 0.." + std::to_string(n - 1) +
                           ")");
  }
  workload_ = options_.workload;
  if (!workload_) {
    HEARSAY_ASSIGN_OR_RETURN(Workload w, BuildWorkload(run, n));
    workload_ = std::make_shared<Workload>(std::move(w));
  }
  const Model& model = *workload_->model;
  std::vector<float> x0(model.num_params());
  model.Init(run.seed, x0);
  AlgorithmConfig ac;
  ac.name = run.algorithm;
  ac.consensus_step = run.consensus_step;
  ac.seed = run.seed;
  ac.allow_biased = run.allow_biased;
  ac.async = async();
  HEARSAY_ASSIGN_OR_RETURN(std::unique_ptr<Compressor> codec,
                           MakeCompressor(run.algorithm == "dpsgd" ? "identity" : run.compressor));
  const Topology& graph = *options_.topology->graph;
  if (run.device == "cpu") {
    HEARSAY_ASSIGN_OR_RETURN(algorithm_,
                             MakeAlgorithm(ac, options_.topology->graph, id, x0, std::move(codec)));
    algo_ = algorithm_.get();
  } else {
    if (async()) {
      return Unimplemented("mode: async runs on the CPU algorithms; device '" + run.device +
                           "' supports mode: sync only");
    }
    DeviceTrainerArgs args;
    args.device = run.device;
    args.algorithm = ac;
    args.topology = options_.topology->graph;
    args.self = id;
    args.x0 = x0;
    args.compressor = std::move(codec);
    args.model = run.model;
    args.num_features = workload_->train.num_features;
    args.num_classes = workload_->train.num_classes;
    HEARSAY_ASSIGN_OR_RETURN(trainer_, MakeDeviceTrainer(std::move(args)));
    algo_ = &trainer_->algorithm();
  }
  sampler_ = std::make_unique<MinibatchSampler>(workload_->train, workload_->shards[id],
                                                run.batch_size, run.seed, id);
  grad_.resize(model.num_params());
  link_neighbors_ = LinkNeighbors(graph, id);
  done_round_.assign(n, -1);
  failed_.assign(n, "");
  if (!graph.time_varying()) {
    const size_t deg = graph.Row(id, 1).size();
    last_received_.assign(deg, 0);
    last_absorbed_.assign(deg, 0);
  }
  if (options_.replay != nullptr && !async()) {
    return InvalidArgument(
        "replay needs an asynchronous run (a synchronous run is reproduced "
        "by running it again)");
  }
  return Status::Ok();
}

std::span<const float> PeerCore::params() const {
  if (!algo_) return {};
  return std::as_const(*algo_).params();
}

double PeerCore::slowdown() const {
  const double f = options_.topology->nodes[options_.id].slowdown;
  return std::isfinite(f) && f > 1 ? f : 1.0;
}

int PeerCore::RowPos(int peer) const {
  const std::vector<Neighbor>& row = options_.topology->graph->Row(options_.id, 1);
  const auto it = std::lower_bound(row.begin(), row.end(), peer,
                                   [](const Neighbor& nb, int id) { return nb.id < id; });
  if (it == row.end() || it->id != peer) return -1;
  return static_cast<int>(it - row.begin());
}

bool PeerCore::bounded_by_duration(double now) const {
  // A replay ends where the recorded run ended, whatever the (virtual) time.
  if (options_.replay != nullptr) return false;
  return options_.run.duration_s > 0 && now >= options_.run.duration_s;
}

bool PeerCore::last_round_reached() const {
  if (options_.replay != nullptr) {
    return options_.replay->empty() || round_ >= options_.replay->rbegin()->first;
  }
  return round_ >= options_.run.rounds;
}

void PeerCore::Deliver(double now, Message msg) {
  const int n = options_.topology->size();
  const int from = msg.from;
  if (from < 0 || from >= n || from == options_.id) {
    HEARSAY_LOG_WARN("peer {}: dropping a message that claims to come from peer {}", options_.id,
                     from);
    return;
  }
  if (msg.kind == MessageKind::kDone) {
    done_round_[from] = msg.round;
    return;
  }
  if (msg.kind == MessageKind::kFailed) {
    const std::string reason(msg.payload.begin(), msg.payload.end());
    failed_[from] = reason.empty() ? "no reason given" : EscapeForLog(reason, 400);
    return;
  }
  if (msg.kind != MessageKind::kGossip) {
    HEARSAY_LOG_WARN("peer {}: dropping a message of unknown kind {} from peer {}", options_.id,
                     static_cast<int>(msg.kind), from);
    return;
  }
  if (async()) {
    const int pos = RowPos(from);
    if (pos < 0) {
      HEARSAY_LOG_WARN("peer {}: dropping a round-{} message from peer {}: not an in-neighbour",
                       options_.id, msg.round, from);
      return;
    }
    if (msg.round != last_received_[pos] + 1) {
      HEARSAY_LOG_WARN("peer {}: dropping a round-{} message from peer {}: expected its round {}",
                       options_.id, msg.round, from, last_received_[pos] + 1);
      return;
    }
    // An honest neighbour never runs more than staleness + 1 rounds ahead of this peer's own
    // round (it needs this peer's messages to get there); more is a protocol violation, and
    // buffering it would let one neighbour grow this peer's memory without bound.
    const int64_t tau = options_.run.staleness;
    if (tau != kUnboundedStaleness && msg.round > round_ + tau + 1) {
      failed_[from] = "protocol violation: sent round " + std::to_string(msg.round) +
                      " while this peer is in round " + std::to_string(round_) +
                      " with staleness bound " + std::to_string(tau);
      return;
    }
    last_received_[pos] = msg.round;
  } else {
    if (msg.round <= last_round_) {
      HEARSAY_LOG_WARN("peer {}: dropping a stale round-{} message from peer {} (now in round {})",
                       options_.id, msg.round, from, round_);
      return;
    }
    // In a synchronous run a neighbour is at most one round ahead on a static graph; on a
    // time-varying one it can get further ahead while this peer is not on its dependency path,
    // but not by more than the schedule lets information travel around (n periods).
    const Topology& graph = *options_.topology->graph;
    const int64_t ahead = graph.time_varying() ? 1 + graph.period() * graph.size() : 1;
    if (msg.round > round_ + ahead) {
      failed_[from] = "protocol violation: sent round " + std::to_string(msg.round) +
                      " while this peer is in round " + std::to_string(round_);
      return;
    }
    const std::vector<int>& expected =
        options_.topology->graph->InNeighbors(options_.id, msg.round);
    if (!std::binary_search(expected.begin(), expected.end(), from)) {
      HEARSAY_LOG_WARN(
          "peer {}: dropping a round-{} message from peer {}: not an in-neighbour "
          "in that round",
          options_.id, msg.round, from);
      return;
    }
  }
  auto [it, fresh] = pending_.try_emplace({msg.round, from}, std::move(msg.payload));
  if (!fresh) {
    HEARSAY_LOG_WARN("peer {}: dropping a duplicate round-{} message from peer {}", options_.id,
                     msg.round, from);
  }
  (void)now;
}

CoreStep PeerCore::StartJob(double now, Job job, int64_t job_round, After after, bool overlapped) {
  job_ = job;
  job_round_ = job_round;
  after_ = after;
  job_overlapped_ = overlapped;
  job_started_ = now;
  job_status_ = Status::Ok();
  phase_ = Phase::kComputing;
  CoreStep step;
  step.kind = CoreStep::Kind::kCompute;
  return step;
}

void PeerCore::Compute() {
  if (phase_ != Phase::kComputing) return;
  const Batch batch = sampler_->Next(job_round_);
  if (job_ == Job::kGradient) {
    grad_loss_ = workload_->model->LossAndGradient(algo_->params(), batch, grad_);
    grad_round_ = job_round_;
  } else if (job_ == Job::kDeviceBegin) {
    out_.clear();
    Result<double> r = trainer_->Begin(job_round_, batch,
                                       static_cast<float>(options_.run.lr.At(job_round_)), &out_);
    job_status_ = r.status();
    if (r.ok()) {
      grad_loss_ = *r;
      grad_round_ = job_round_;
    }
  }
}

Status PeerCore::FinishJob(double now) {
  const double dt = std::max(0.0, now - job_started_);
  compute_s_ += dt;
  if (job_overlapped_) overlap_s_ += dt;
  const Job job = job_;
  job_ = Job::kNone;
  HEARSAY_RETURN_IF_ERROR(job_status_.WithPrefix("peer " + std::to_string(options_.id) + " round " +
                                                 std::to_string(job_round_)));
  if (!std::isfinite(grad_loss_)) {
    return Aborted("peer " + std::to_string(options_.id) + " diverged at round " +
                   std::to_string(job_round_) + ": the minibatch loss is " +
                   (std::isnan(grad_loss_) ? "nan" : "infinite") +
                   " (lower the learning rate, or use a gentler compressor)");
  }
  if (job == Job::kGradient && after_ == After::kWait) {
    if (algo_->late_gradient()) {
      HEARSAY_RETURN_IF_ERROR(algo_->SetGradient(round_, grad_));
      round_loss_ = grad_loss_;
    }
  }
  phase_ = after_ == After::kBegin ? Phase::kBegin : Phase::kWait;
  return Status::Ok();
}

Status PeerCore::BeginRound(double now, CoreSink& sink) {
  const RunConfig& run = options_.run;
  const auto lr = static_cast<float>(run.lr.At(round_));
  if (trainer_) {
    // The device job ran the gradient and Begin in Compute(); out_ holds the payload.
    round_loss_ = grad_loss_;
  } else if (algo_->late_gradient()) {
    round_loss_ = std::numeric_limits<double>::quiet_NaN();  // set when the gradient is in
    HEARSAY_RETURN_IF_ERROR(algo_->Begin(round_, {}, lr, &out_));
  } else {
    if (grad_round_ != round_) {
      return Internal("peer " + std::to_string(options_.id) + ": round " + std::to_string(round_) +
                      " began with the gradient of round " + std::to_string(grad_round_));
    }
    round_loss_ = grad_loss_;
    HEARSAY_RETURN_IF_ERROR(algo_->Begin(round_, grad_, lr, &out_));
  }
  const std::vector<int>& outs = options_.topology->graph->OutNeighbors(options_.id, round_);
  for (int j : outs) {
    Message m;
    m.kind = MessageKind::kGossip;
    m.from = options_.id;
    m.to = j;
    m.round = round_;
    m.payload = out_;
    payload_sent_ += out_.size();
    HEARSAY_RETURN_IF_ERROR(sink.Send(std::move(m)));
  }
  pending_[{round_, options_.id}] = std::move(out_);
  out_ = ByteBuffer();
  round_wait_began_ = now;
  return Status::Ok();
}

bool PeerCore::ReadyToEnd(std::vector<int>* missing_out, bool* neighbour_gone) const {
  const int id = options_.id;
  *neighbour_gone = false;
  std::vector<int>& missing = *missing_out;
  missing.clear();
  if (options_.replay != nullptr) {
    const auto it = options_.replay->find(round_);
    if (it == options_.replay->end()) return true;  // EndRound reports the gap
    for (const MessageId& m : it->second) {
      if (!pending_.count({m.round, m.from})) missing.push_back(m.from);
    }
  } else if (!async()) {
    for (int j : options_.topology->graph->InNeighbors(id, round_)) {
      if (j == id || pending_.count({round_, j})) continue;
      missing.push_back(j);
      if (!failed_[j].empty() || (done_round_[j] >= 0 && done_round_[j] < round_)) {
        *neighbour_gone = true;
      }
    }
  } else {
    const int64_t tau = options_.run.staleness;
    const std::vector<Neighbor>& row = options_.topology->graph->Row(id, 1);
    for (size_t p = 0; p < row.size(); ++p) {
      const int j = row[p].id;
      if (j == id) continue;
      if (!failed_[j].empty()) {
        missing.push_back(j);
        *neighbour_gone = true;
        continue;
      }
      if (done_round_[j] >= 0) continue;  // finished: its last state stays in the mix
      if (tau == kUnboundedStaleness) continue;
      if (last_received_[p] < round_ - tau) missing.push_back(j);
    }
  }
  return missing.empty();
}

Status PeerCore::EndRound(double now, CoreSink& sink) {
  const int id = options_.id;
  const RunConfig& run = options_.run;
  applied_.clear();
  auto absorb = [&](std::map<std::pair<int64_t, int>, ByteBuffer>::iterator it) -> Status {
    const int64_t r = it->first.first;
    const int from = it->first.second;
    Status s = algo_->Absorb(r, from, it->second);
    if (!s.ok()) {
      return s.WithPrefix("peer " + std::to_string(id) + " round " + std::to_string(round_) +
                          ": message from peer " + std::to_string(from));
    }
    if (!last_absorbed_.empty()) {
      const int pos = RowPos(from);
      if (pos >= 0) last_absorbed_[pos] = r;
    }
    applied_.push_back(MessageId{from, r});
    pending_.erase(it);
    return Status::Ok();
  };
  if (options_.replay != nullptr) {
    const auto rec = options_.replay->find(round_);
    if (rec == options_.replay->end()) {
      return NotFound("replay log of peer " + std::to_string(id) + " has no record of round " +
                      std::to_string(round_));
    }
    for (const MessageId& m : rec->second) {
      auto it = pending_.find({m.round, m.from});
      if (it == pending_.end()) {
        return Internal("replay of peer " + std::to_string(id) + " round " +
                        std::to_string(round_) + ": message of peer " + std::to_string(m.from) +
                        " round " + std::to_string(m.round) + " is not here");
      }
      HEARSAY_RETURN_IF_ERROR(absorb(it));
    }
  } else {
    int64_t limit = round_;
    if (async()) {
      limit = run.staleness == kUnboundedStaleness ? std::numeric_limits<int64_t>::max()
                                                   : round_ + run.staleness;
    }
    while (!pending_.empty() && pending_.begin()->first.first <= limit) {
      HEARSAY_RETURN_IF_ERROR(absorb(pending_.begin()));
    }
  }
  HEARSAY_RETURN_IF_ERROR(algo_->End(round_).WithPrefix("peer " + std::to_string(id)));
  last_round_ = round_;

  RoundRecord rec;
  rec.peer = id;
  rec.round = round_;
  rec.wall_s = now;
  rec.loss = round_loss_;
  rec.lr = run.lr.At(round_);
  rec.payload_bytes_sent = payload_sent_;
  if (async()) {
    const std::vector<Neighbor>& row = options_.topology->graph->Row(id, 1);
    for (size_t p = 0; p < row.size(); ++p) {
      if (row[p].id == id) continue;
      const int64_t s = std::max<int64_t>(0, round_ - last_absorbed_[p]);
      rec.staleness.emplace_back(row[p].id, s);
      max_staleness_ = std::max(max_staleness_, s);
      staleness_sum_ += static_cast<double>(s);
      ++staleness_count_;
    }
    if (options_.replay == nullptr) HEARSAY_RETURN_IF_ERROR(sink.OnApplied(round_, applied_));
  }
  rec.max_staleness = max_staleness_;
  rec.mean_staleness = staleness_count_ ? staleness_sum_ / staleness_count_ : 0.0;
  rec.compute_s = compute_s_;
  rec.wait_s = wait_s_;
  rec.overlap_s = overlap_s_;
  HEARSAY_RETURN_IF_ERROR(sink.OnRound(rec));
  if (round_ % run.eval_every == 0 || last_round_reached()) {
    HEARSAY_RETURN_IF_ERROR(
        sink.OnSnapshot(SnapshotKey{SnapshotKey::Kind::kRound, round_}, params(), now));
  }
  return Status::Ok();
}

Status PeerCore::TakeTimeSnapshots(double now, CoreSink& sink) {
  const double every = options_.run.eval_every_s;
  if (every <= 0) return Status::Ok();
  while (now >= static_cast<double>(next_time_snapshot_) * every) {
    HEARSAY_RETURN_IF_ERROR(
        sink.OnSnapshot(SnapshotKey{SnapshotKey::Kind::kTime, next_time_snapshot_}, params(), now));
    ++next_time_snapshot_;
  }
  return Status::Ok();
}

double PeerCore::NextTimer() const {
  double t = kNoWake;
  if (options_.run.eval_every_s > 0) {
    t = std::min(t, static_cast<double>(next_time_snapshot_) * options_.run.eval_every_s);
  }
  if (options_.run.duration_s > 0) t = std::min(t, options_.run.duration_s);
  return t;
}

void PeerCore::Goodbye(CoreSink& sink, MessageKind kind, const std::string& reason) {
  for (int j : link_neighbors_) {
    Message m;
    m.kind = kind;
    m.from = options_.id;
    m.to = j;
    m.round = last_round_;
    m.payload.assign(reason.begin(), reason.end());
    (void)sink.Send(std::move(m));  // best effort: the link may be gone already
  }
}

CoreStep PeerCore::Finish(double now, CoreSink& sink) {
  Goodbye(sink, MessageKind::kDone, "");
  CoreStep step;
  Status s = sink.OnSnapshot(SnapshotKey{SnapshotKey::Kind::kFinal, last_round_}, params(), now);
  if (!s.ok()) return Fail(now, sink, s);
  phase_ = Phase::kFinished;
  step.kind = CoreStep::Kind::kFinished;
  return step;
}

CoreStep PeerCore::Fail(double now, CoreSink& sink, Status why) {
  if (phase_ != Phase::kFailed && phase_ != Phase::kFinished) {
    Goodbye(sink, MessageKind::kFailed, why.message());
  }
  phase_ = Phase::kFailed;
  job_status_ = why;
  CoreStep step;
  step.kind = CoreStep::Kind::kFailed;
  step.status = std::move(why);
  (void)now;
  return step;
}

CoreStep PeerCore::Advance(double now, CoreSink& sink) {
  if (phase_ == Phase::kFinished) return CoreStep{CoreStep::Kind::kFinished, kNoWake, {}};
  if (phase_ == Phase::kFailed) return CoreStep{CoreStep::Kind::kFailed, kNoWake, job_status_};
  if (wait_started_ >= 0) {
    wait_s_ += std::max(0.0, now - wait_started_);
    wait_started_ = -1;
  }
  if (phase_ == Phase::kComputing) {
    Status s = FinishJob(now);
    if (!s.ok()) return Fail(now, sink, std::move(s));
  }
  if (Status s = TakeTimeSnapshots(now, sink); !s.ok()) return Fail(now, sink, std::move(s));
  const int id = options_.id;
  const RunConfig& run = options_.run;
  while (true) {
    switch (phase_) {
      case Phase::kStart:
        phase_ = Phase::kBegin;
        if (!trainer_ && !algo_->late_gradient()) {
          return StartJob(now, Job::kGradient, round_, After::kBegin, false);
        }
        continue;
      case Phase::kBegin: {
        if (trainer_ && grad_round_ != round_) {
          return StartJob(now, Job::kDeviceBegin, round_, After::kBegin, false);
        }
        if (Status s = BeginRound(now, sink); !s.ok()) return Fail(now, sink, std::move(s));
        phase_ = Phase::kWait;
        if (!trainer_) {
          // Overlap: compute while this round's payloads travel.
          if (algo_->late_gradient()) {
            return StartJob(now, Job::kGradient, round_, After::kWait, true);
          }
          if (!last_round_reached()) {
            return StartJob(now, Job::kGradient, round_ + 1, After::kWait, true);
          }
        }
        continue;
      }
      case Phase::kWait: {
        std::vector<int> missing;
        bool gone = false;
        if (ReadyToEnd(&missing, &gone)) {
          if (Status s = EndRound(now, sink); !s.ok()) return Fail(now, sink, std::move(s));
          if (last_round_reached() || bounded_by_duration(now)) return Finish(now, sink);
          ++round_;
          phase_ = Phase::kBegin;
          continue;
        }
        if (bounded_by_duration(now)) {
          // Time is up. An async peer ends its last round with what has arrived (its own
          // payload is always here), so the round it began is recorded and replayable; a sync
          // peer stops where it is.
          if (async()) {
            if (Status s = EndRound(now, sink); !s.ok()) return Fail(now, sink, std::move(s));
          }
          return Finish(now, sink);
        }
        if (gone) {
          for (int j : missing) {
            if (!failed_[j].empty()) {
              return Fail(
                  now, sink,
                  Unavailable("peer " + std::to_string(id) + " round " + std::to_string(round_) +
                              ": peer " + std::to_string(j) + " failed: " + failed_[j]));
            }
          }
          if (run.duration_s > 0) return Finish(now, sink);  // a neighbour's time ran out
          return Fail(now, sink,
                      FailedPrecondition("peer " + std::to_string(id) + ": round " +
                                         std::to_string(round_) + " needs a message from peer " +
                                         JoinIds(missing) + ", which has already finished"));
        }
        const double deadline = round_wait_began_ + run.round_timeout_s;
        if (now >= deadline) {
          return Fail(
              now, sink,
              DeadlineExceeded("peer " + std::to_string(id) + ": waited " +
                               FormatSeconds(run.round_timeout_s) + " s in round " +
                               std::to_string(round_) + " for peers [" + JoinIds(missing) + "]"));
        }
        wait_started_ = now;
        CoreStep step;
        step.kind = CoreStep::Kind::kWait;
        step.wake_at = std::min(deadline, NextTimer());
        return step;
      }
      case Phase::kComputing:
      case Phase::kFinished:
      case Phase::kFailed:
        return Fail(now, sink,
                    Internal("peer " + std::to_string(id) + ": Advance in an unexpected state"));
    }
  }
}

}  // namespace hearsay
