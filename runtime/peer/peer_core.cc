#include "runtime/peer/peer_core.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "common/logging.h"
#include "runtime/peer/adpsgd_core.h"
#include "runtime/peer/allreduce_core.h"
#include "runtime/peer/gossip_core.h"

namespace hearsay {

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

std::vector<int> CommNeighbors(const RunConfig& run, const Topology& graph, int self) {
  if (run.algorithm == AlgorithmKind::kAllreduce)
    return AllreduceCore::RingNeighbors(graph.size(), self);
  return LinkNeighbors(graph, self);
}

Result<std::unique_ptr<PeerCore>> PeerCore::Make(PeerCoreOptions options) {
  std::unique_ptr<PeerCore> core;
  if (options.run.algorithm == AlgorithmKind::kAdpsgd) {
    core.reset(new AdpsgdCore(std::move(options)));
  } else if (options.run.algorithm == AlgorithmKind::kAllreduce) {
    core.reset(new AllreduceCore(std::move(options)));
  } else {
    core.reset(new GossipCore(std::move(options)));
  }
  HEARSAY_RETURN_IF_ERROR(core->Setup());
  return core;
}

PeerCore::PeerCore(PeerCoreOptions options) : options_(std::move(options)) {}
PeerCore::~PeerCore() = default;

Status PeerCore::Setup() {
  const RunConfig& run = options_.run;
  const int n = options_.topology->size();
  const int id = options_.id;
  if (id < 0 || id >= n) {
    return InvalidArgument("peer id " + std::to_string(id) + " is not a node of " +
                           options_.topology->source + " (ids are 0.." + std::to_string(n - 1) +
                           ")");
  }
  std::vector<float> x0;
  if (options_.external_model) {
    if (options_.x0.empty()) return InvalidArgument("external model: the initial model is empty");
    x0 = options_.x0;
  } else {
    workload_ = options_.workload;
    if (!workload_) {
      HEARSAY_ASSIGN_OR_RETURN(Workload w, BuildPeerWorkload(run, n, id));
      workload_ = std::make_shared<Workload>(std::move(w));
    }
    const Model& model = *workload_->model;
    x0.resize(model.num_params());
    model.Init(run.seed, x0);
    sampler_ = std::make_unique<MinibatchSampler>(workload_->train, workload_->shards[id],
                                                  run.batch_size, run.seed, id);
  }
  const size_t d = x0.size();
  grad_.resize(d);
  scratch_grad_.resize(d);
  HEARSAY_ASSIGN_OR_RETURN(optimizer_, MakeOptimizer(run.optimizer, d));
  outer_ = std::make_unique<OuterOptimizer>(run.outer_optimizer, d);
  link_neighbors_ = CommNeighbors(run, *options_.topology->graph, id);
  // A late joiner (`join:`) joins the running run however it was started (docs/faults.md).
  if (options_.replay == nullptr && JoinsLate(run, id)) options_.rejoin = true;
  done_round_.assign(link_neighbors_.size(), -1);
  failed_.assign(link_neighbors_.size(), "");
  final_.assign(link_neighbors_.size(), 0);
  send_to_dead_.assign(link_neighbors_.size(), 0);
  last_heard_.assign(link_neighbors_.size(), 0.0);
  last_sent_.assign(link_neighbors_.size(), 0.0);
  HEARSAY_RETURN_IF_ERROR(SetupProtocol(x0));
  if (options_.resume_state) {
    HEARSAY_RETURN_IF_ERROR(LoadState(*options_.resume_state)
                                .WithPrefix("peer " + std::to_string(id) + ": checkpoint"));
  }
  if (!options_.rejoin && options_.replay == nullptr) {
    // A late neighbour is not there until its JOIN: nothing is sent to it nor waited for, and
    // only its state transfer (SET_COPY) admits it (gossip_rejoin.cc).
    for (int j : link_neighbors_) {
      if (JoinsLate(run, j)) SetFailed(j, "has not joined yet (a late joiner, `join:`)");
    }
  }
  return Status::Ok();
}

// Checkpoint layout (StateWriter, after the file header of checkpoint.h): the last round ended,
// the gradient in hand (its round and loss), the counters, the run time, the inner and outer
// optimizer states, then the protocol's part.
Status PeerCore::SaveState(ByteBuffer* out) const {
  if (options_.external_model) {
    return Unimplemented("a peer with an external model does not write checkpoints");
  }
  StateWriter w(out);
  w.I64(last_round_);
  w.I64(grad_round_);
  w.F64(grad_loss_);
  w.Floats(grad_);
  w.I64(static_cast<int64_t>(payload_sent_));
  w.F64(compute_s_);
  w.F64(wait_s_);
  w.F64(overlap_s_);
  w.F64(run_time(now_));
  w.I64(next_time_snapshot_);
  optimizer_->SaveState(w);
  outer_->SaveState(w);
  return SaveProtocolState(w);
}

Status PeerCore::LoadState(std::span<const uint8_t> state) {
  StateReader r(state);
  int64_t payload_sent = 0;
  HEARSAY_RETURN_IF_ERROR(r.I64(&last_round_, "round"));
  HEARSAY_RETURN_IF_ERROR(r.I64(&grad_round_, "gradient round"));
  HEARSAY_RETURN_IF_ERROR(r.F64(&grad_loss_, "gradient loss"));
  HEARSAY_RETURN_IF_ERROR(r.Floats(&grad_, "gradient"));
  HEARSAY_RETURN_IF_ERROR(r.I64(&payload_sent, "payload bytes"));
  HEARSAY_RETURN_IF_ERROR(r.F64(&compute_s_, "compute seconds"));
  HEARSAY_RETURN_IF_ERROR(r.F64(&wait_s_, "wait seconds"));
  HEARSAY_RETURN_IF_ERROR(r.F64(&overlap_s_, "overlap seconds"));
  HEARSAY_RETURN_IF_ERROR(r.F64(&time_offset_, "run time"));
  HEARSAY_RETURN_IF_ERROR(r.I64(&next_time_snapshot_, "time-grid index"));
  HEARSAY_RETURN_IF_ERROR(optimizer_->LoadState(r));
  HEARSAY_RETURN_IF_ERROR(outer_->LoadState(r));
  if (last_round_ < 1 || (options_.run.rounds > 0 && last_round_ >= options_.run.rounds)) {
    return Corruption("round " + std::to_string(last_round_) + " is not a round this run resumes");
  }
  payload_sent_ = static_cast<uint64_t>(payload_sent);
  round_ = last_round_ + 1;
  HEARSAY_RETURN_IF_ERROR(LoadProtocolState(r));
  if (r.remaining() != 0) {
    return Corruption(std::to_string(r.remaining()) + " bytes left over after the state");
  }
  return Status::Ok();
}

Status PeerCore::SaveProtocolState(StateWriter&) const {
  return Unimplemented(std::string("algorithm ") + AlgorithmName(options_.run.algorithm) +
                       " does not write checkpoints");
}

Status PeerCore::LoadProtocolState(StateReader&) {
  return Unimplemented(std::string("algorithm ") + AlgorithmName(options_.run.algorithm) +
                       " does not read checkpoints");
}

Status PeerCore::MaybeCheckpoint(CoreSink& sink) {
  const int64_t every = options_.run.checkpoint_every;
  if (every <= 0 || last_round_ % every != 0 || options_.external_model) return Status::Ok();
  if (options_.run.rounds > 0 && last_round_ >= options_.run.rounds) return Status::Ok();
  // A checkpoint is a state every peer can resume from together: with a neighbour dropped from
  // the mix it is not (the resumed run starts with every peer alive), so none is written.
  for (size_t k = 0; k < link_neighbors_.size(); ++k) {
    if (!failed_[k].empty()) {
      HEARSAY_LOG_WARN("peer {}: no checkpoint at round {}: peer {} is down", options_.id,
                       last_round_, link_neighbors_[k]);
      return Status::Ok();
    }
  }
  // The state goes into a buffer the sink hands back (the one its previous checkpoint was
  // written from): fresh memory would cost a page fault per 4 KiB on every checkpoint.
  checkpoint_buf_.clear();
  HEARSAY_RETURN_IF_ERROR(SaveState(&checkpoint_buf_));
  return sink.OnCheckpoint(last_round_, &checkpoint_buf_);
}

int PeerCore::LinkIndex(int peer) const {
  const auto it = std::lower_bound(link_neighbors_.begin(), link_neighbors_.end(), peer);
  return it != link_neighbors_.end() && *it == peer ? static_cast<int>(it - link_neighbors_.begin())
                                                    : -1;
}

int64_t PeerCore::done_round(int peer) const {
  const int k = LinkIndex(peer);
  return k < 0 ? -1 : done_round_[k];
}

const std::string& PeerCore::failed(int peer) const {
  static const std::string kNone;
  const int k = LinkIndex(peer);
  return k < 0 ? kNone : failed_[k];
}

void PeerCore::SetFailed(int peer, std::string why, bool final) {
  const int k = LinkIndex(peer);
  if (k < 0) return;
  if (final) final_[k] = 1;
  if (!failed_[k].empty()) return;
  HEARSAY_LOG_WARN("peer {}: peer {} {}; going on without it", options_.id, peer,
                   EscapeForLog(why, 400));
  failed_[k] = std::move(why);
  OnNeighborDown(now_, peer);
}

void PeerCore::Readmit(double now, int peer, const std::string& why) {
  const int k = LinkIndex(peer);
  if (k < 0 || failed_[k].empty()) return;
  HEARSAY_LOG_WARN("peer {}: peer {} is back ({}; it was: {})", options_.id, peer, why,
                   EscapeForLog(failed_[k], 200));
  failed_[k].clear();
  final_[k] = 0;
  send_to_dead_[k] = 0;
  done_round_[k] = -1;
  last_heard_[k] = now;
  OnNeighborUp(now, peer);
}

void PeerCore::SetSendingToDead(int peer, bool on) {
  const int k = LinkIndex(peer);
  if (k >= 0) send_to_dead_[k] = on ? 1 : 0;
}

void PeerCore::LinkBroken(double now, int peer, const std::string& why) {
  now_ = std::max(now_, now);
  SetFailed(peer, "lost its link: " + why);
}

Status PeerCore::SendTo(CoreSink& sink, Message msg) {
  const int k = LinkIndex(msg.to);
  if (k < 0) return sink.Send(std::move(msg));
  if (!failed_[k].empty() && final_[k] && !send_to_dead_[k]) return Status::Ok();  // nobody reads
  last_sent_[k] = now_;
  const int to = msg.to;
  Status s = sink.Send(std::move(msg));
  if (s.code() == StatusCode::kUnavailable) {
    // The link is gone (the neighbour crashed; its link-down event may still be on its way):
    // a dead neighbour, which each core handles (dropped, or the run fails naming it).
    SetFailed(to, "lost its link: " + s.message());
    return Status::Ok();
  }
  return s;
}

double PeerCore::heartbeat_s() const { return options_.run.heartbeat_s; }

double EffectiveDeadAfter(const RunConfig& run, const TopologySpec& topology) {
  const double link = topology.link_defaults.latency_s + topology.link_defaults.jitter_s;
  return std::max(run.dead_after_s, 4 * link + run.heartbeat_s);
}

double PeerCore::dead_after_s() const {
  return EffectiveDeadAfter(options_.run, *options_.topology);
}

Status PeerCore::MaintainLinks(double now, CoreSink& sink) {
  if (heartbeat_s() <= 0 || options_.replay != nullptr) return Status::Ok();
  const double dead_after = dead_after_s();
  for (size_t k = 0; k < link_neighbors_.size(); ++k) {
    const int j = link_neighbors_[k];
    // The same expressions as NextTimer's, so a timer that fires is always acted on ((a + b) - a
    // need not equal b in floating point: a heartbeat due at exactly `now` was once skipped, and
    // the peer then slept until its round timeout).
    if (failed_[k].empty() && done_round_[k] < 0 && now > last_heard_[k] + dead_after) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "silent for %.3g s", now - last_heard_[k]);
      SetFailed(j, buf, /*final=*/false);
    }
    if (now >= last_sent_[k] + heartbeat_s()) {
      Message m;
      m.kind = MessageKind::kHeartbeat;
      m.from = options_.id;
      m.to = j;
      m.round = round_;
      (void)SendTo(sink, std::move(m));  // best effort
    }
  }
  return Status::Ok();
}

double PeerCore::slowdown() const {
  const double f = options_.topology->nodes[options_.id].slowdown;
  return std::isfinite(f) && f > 1 ? f : 1.0;
}

bool PeerCore::bounded_by_duration(double now) const {
  // A replay ends where the recorded run ended, whatever the (virtual) time.
  if (options_.replay != nullptr) return false;
  return options_.run.duration_s > 0 && run_time(now) >= options_.run.duration_s;
}

void PeerCore::Deliver(double now, Message msg) {
  const int n = options_.topology->size();
  const int from = msg.from;
  const int link = from >= 0 && from < n ? LinkIndex(from) : -1;
  if (link < 0) {
    HEARSAY_LOG_WARN(
        "peer {}: dropping a message that claims to come from peer {}, not a "
        "neighbour",
        options_.id, from);
    return;
  }
  now_ = std::max(now_, now);
  if (msg.kind == MessageKind::kLinkDown) {
    const std::string why(msg.payload.begin(), msg.payload.end());
    // tag 1: the transport is re-establishing the link, so the neighbour may still come back
    // (like a silent one); tag 0: gone for good.
    SetFailed(from, "lost its link: " + EscapeForLog(why, 400), /*final=*/msg.tag == 0);
    return;
  }
  last_heard_[link] = now;
  if (!failed_[link].empty() && !final_[link]) {
    // Heard again after a silence (a partition healed, a pause ended): alive.
    HEARSAY_LOG_WARN("peer {}: peer {} is back ({})", options_.id, from, failed_[link]);
    failed_[link].clear();
    OnNeighborUp(now, from);
  }
  if (msg.kind == MessageKind::kHeartbeat) return;
  if (msg.kind == MessageKind::kDone) {
    done_round_[link] = msg.round;
    return;
  }
  if (msg.kind == MessageKind::kFailed) {
    const std::string reason(msg.payload.begin(), msg.payload.end());
    SetFailed(from, "failed: " + (reason.empty() ? std::string("no reason given") : reason));
    return;
  }
  OnMessage(now, std::move(msg));
}

CoreStep PeerCore::StartJob(double now, int64_t job_round, bool overlapped) {
  job_round_ = job_round;
  job_running_ = true;
  job_overlapped_ = overlapped;
  job_started_ = now;
  CoreStep step;
  step.kind = CoreStep::Kind::kCompute;
  step.work = options_.run.local_steps;
  return step;
}

bool PeerCore::plain_steps() const {
  const RunConfig& run = options_.run;
  if (options_.external_model) return false;
  return run.local_steps == 1 && run.optimizer.kind == "sgd" && run.outer_optimizer.identity();
}

float PeerCore::work_lr(int64_t round) const {
  const RunConfig& run = options_.run;
  if (options_.external_model && !options_.external_gradient) {
    return 1.0f;  // the host's steps are in the pseudo-gradient
  }
  if (run.local_steps == 1 && run.outer_optimizer.identity()) return run.lr.At(round);
  return 1.0f;
}

Status PeerCore::SetExternalModel(std::span<const float> x, double loss) {
  if (!options_.external_model) {
    return FailedPrecondition("peer " + std::to_string(options_.id) +
                              " trains its own model; SetExternalModel is for external models");
  }
  if (x.size() != grad_.size()) {
    return InvalidArgument("peer " + std::to_string(options_.id) + ": the model has " +
                           std::to_string(x.size()) + " values; this run's has " +
                           std::to_string(grad_.size()));
  }
  for (float v : x) {
    if (!std::isfinite(v)) {
      return Aborted(
          "peer " + std::to_string(options_.id) + ": " +
          (options_.external_gradient ? "the host's gradient" : "the model after the local steps") +
          " has non-finite values (diverged)");
    }
  }
  external_.assign(x.begin(), x.end());
  external_loss_ = loss;
  return Status::Ok();
}

void PeerCore::ComputeLocalWork(std::span<const float> s, int64_t round) {
  const RunConfig& run = options_.run;
  grad_round_ = round;
  if (options_.external_model && options_.external_gradient) {
    // The host's gradient at s: the plain SGD step's input, as the built-in model's would be.
    grad_.assign(external_.begin(), external_.end());
    grad_loss_ = std::isfinite(external_loss_) ? external_loss_ : 0.0;
    return;
  }
  if (options_.external_model) {
    // The host did the local steps: Delta = s - x_host, then the outer optimizer.
    local_.resize(s.size());
    for (size_t k = 0; k < s.size(); ++k) local_[k] = s[k] - external_[k];
    outer_->Update(local_, grad_);
    grad_loss_ = std::isfinite(external_loss_) ? external_loss_ : 0.0;
    return;
  }
  const Model& model = *workload_->model;
  if (plain_steps()) {
    grad_loss_ = model.LossAndGradient(s, sampler_->Next(round), grad_);
    return;
  }
  if (run.local_steps == 1 && run.outer_optimizer.identity()) {
    grad_loss_ = model.LossAndGradient(s, sampler_->Next(round), scratch_grad_);
    optimizer_->Direction(s, scratch_grad_, grad_);
    return;
  }
  const int64_t h = run.local_steps;
  local_.assign(s.begin(), s.end());
  double loss = 0;
  for (int64_t k = 1; k <= h; ++k) {
    const int64_t step = (round - 1) * h + k;  // the inner step's index: batch and step size
    loss += model.LossAndGradient(local_, sampler_->Next(step), scratch_grad_);
    optimizer_->Step(local_, scratch_grad_, run.lr.At(step), grad_);
  }
  grad_loss_ = loss / static_cast<double>(h);
  for (size_t k = 0; k < local_.size(); ++k) local_[k] = s[k] - local_[k];  // Delta = s - x_H
  outer_->Update(local_, grad_);
}

Status PeerCore::CheckLoss(int64_t at_round) const {
  if (std::isfinite(grad_loss_)) return Status::Ok();
  return Aborted("peer " + std::to_string(options_.id) + " diverged at round " +
                 std::to_string(at_round) + ": the minibatch loss is " +
                 (std::isnan(grad_loss_) ? "nan" : "infinite") +
                 " (lower the learning rate, or use a gentler compressor)");
}

RoundRecord PeerCore::MakeRecord(double now, int64_t round, double loss) const {
  RoundRecord rec;
  rec.peer = options_.id;
  rec.round = round;
  rec.wall_s = run_time(now);
  rec.loss = loss;
  rec.lr = options_.run.lr.At(round);
  rec.inner_steps = round * options_.run.local_steps;
  rec.payload_bytes_sent = payload_sent_;
  rec.compute_s = compute_s_;
  rec.wait_s = wait_s_;
  rec.overlap_s = overlap_s_;
  return rec;
}

Status PeerCore::MaybeSnapshotRound(double now, CoreSink& sink, int64_t round, bool last) {
  if (round % options_.run.eval_every == 0 || last) {
    return sink.OnSnapshot(SnapshotKey{SnapshotKey::Kind::kRound, round}, params(), now);
  }
  return Status::Ok();
}

Status PeerCore::TakeTimeSnapshots(double now, CoreSink& sink) {
  const double every = options_.run.eval_every_s;
  if (every <= 0) return Status::Ok();
  while (run_time(now) >= static_cast<double>(next_time_snapshot_) * every) {
    HEARSAY_RETURN_IF_ERROR(
        sink.OnSnapshot(SnapshotKey{SnapshotKey::Kind::kTime, next_time_snapshot_}, params(), now));
    ++next_time_snapshot_;
  }
  return Status::Ok();
}

double PeerCore::NextTimer() const {
  double t = ProtocolTimer();
  if (heartbeat_s() > 0 && options_.replay == nullptr) {
    const double dead_after = dead_after_s();
    for (size_t k = 0; k < link_neighbors_.size(); ++k) {
      t = std::min(t, last_sent_[k] + heartbeat_s());
      if (failed_[k].empty() && done_round_[k] < 0) {
        t = std::min(t, std::nextafter(last_heard_[k] + dead_after, kNoWake));
      }
    }
  }
  if (options_.run.eval_every_s > 0) {
    t = std::min(
        t, static_cast<double>(next_time_snapshot_) * options_.run.eval_every_s - time_offset_);
  }
  if (options_.run.duration_s > 0 && options_.replay == nullptr) {
    t = std::min(t, options_.run.duration_s - time_offset_);
  }
  return t;
}

CoreStep PeerCore::Wait(double now, double wake_at) {
  wait_started_ = now;
  CoreStep step;
  step.kind = CoreStep::Kind::kWait;
  // A timer that is already due (the duration, while the protocol must still wait for a reply)
  // would wake the peer again at once, forever: only future timers count.
  const double timer = NextTimer();
  step.wake_at = timer > now ? std::min(wake_at, timer) : wake_at;
  if (step.wake_at <= now) step.wake_at = kNoWake;
  return step;
}

Status PeerCore::SendJoins(CoreSink& sink) {
  for (int j : link_neighbors_) {
    Message m;
    m.kind = MessageKind::kJoin;
    m.from = options_.id;
    m.to = j;
    HEARSAY_RETURN_IF_ERROR(SendTo(sink, std::move(m)));
  }
  return Status::Ok();
}

std::optional<CoreStep> PeerCore::AwaitJoinStates(double now, CoreSink& sink, double deadline,
                                                  const std::function<bool(int)>& answered) {
  for (int j : link_neighbors_) {
    if (answered(j) || !alive(j) || done_round(j) >= 0) continue;
    if (now >= deadline) {
      return Fail(
          now, sink,
          DeadlineExceeded("peer " + std::to_string(options_.id) + ": no JOIN_STATE from peer " +
                           std::to_string(j) + " within round_timeout"));
    }
    return Wait(now, deadline);
  }
  return std::nullopt;
}

void PeerCore::Goodbye(CoreSink& sink, MessageKind kind, const std::string& reason) {
  for (int j : link_neighbors_) {
    Message m;
    m.kind = kind;
    m.from = options_.id;
    m.to = j;
    m.round = last_round_;
    m.payload.assign(reason.begin(), reason.end());
    (void)SendTo(sink, std::move(m));  // best effort: the link may be gone already
  }
}

CoreStep PeerCore::Finish(double now, CoreSink& sink) {
  Goodbye(sink, MessageKind::kDone, "");
  Status s = sink.OnSnapshot(SnapshotKey{SnapshotKey::Kind::kFinal, last_round_}, params(), now);
  if (!s.ok()) return Fail(now, sink, s);
  state_ = State::kFinished;
  CoreStep step;
  step.kind = CoreStep::Kind::kFinished;
  return step;
}

CoreStep PeerCore::Fail(double now, CoreSink& sink, Status why) {
  if (state_ == State::kRunning) Goodbye(sink, MessageKind::kFailed, why.message());
  state_ = State::kFailed;
  fail_status_ = why;
  CoreStep step;
  step.kind = CoreStep::Kind::kFailed;
  step.status = std::move(why);
  (void)now;
  return step;
}

CoreStep PeerCore::Advance(double now, CoreSink& sink) {
  if (state_ == State::kFinished) return CoreStep{CoreStep::Kind::kFinished, 1, kNoWake, {}};
  if (state_ == State::kFailed) return CoreStep{CoreStep::Kind::kFailed, 1, kNoWake, fail_status_};
  if (wait_started_ >= 0) {
    wait_s_ += std::max(0.0, now - wait_started_);
    wait_started_ = -1;
  }
  if (job_running_) {
    const double dt = std::max(0.0, now - job_started_);
    compute_s_ += dt;
    if (job_overlapped_) overlap_s_ += dt;
    job_running_ = false;
  }
  if (!advanced_) {
    // The links' clocks start at the first step (a restarted peer starts mid-run).
    advanced_ = true;
    std::fill(last_heard_.begin(), last_heard_.end(), now);
    std::fill(last_sent_.begin(), last_sent_.end(), now);
  }
  now_ = std::max(now_, now);
  if (Status s = TakeTimeSnapshots(now, sink); !s.ok()) return Fail(now, sink, std::move(s));
  if (Status s = MaintainLinks(now, sink); !s.ok()) return Fail(now, sink, std::move(s));
  return Step(now, sink);
}

}  // namespace hearsay
