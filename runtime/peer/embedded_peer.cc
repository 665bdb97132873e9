#include "runtime/peer/embedded_peer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/clock.h"
#include "common/logging.h"
#include "runtime/peer/peer.h"

namespace hearsay {
namespace {

constexpr double kPollSeconds = 0.2;    // stop-flag poll while waiting for messages
constexpr double kFlushSeconds = 0.25;  // metrics flush cadence (as the daemon's)

Status CheckEmbeddable(const EmbeddedPeerOptions& o, std::span<const float> x0) {
  const RunConfig& run = o.run;
  const std::string where = "run '" + run.name + "', peer " + std::to_string(o.id);
  if (!o.topology) return InvalidArgument(where + ": no topology");
  if (x0.empty()) return InvalidArgument(where + ": the initial model is empty");
  for (float v : x0) {
    if (!std::isfinite(v)) return InvalidArgument(where + ": the initial model is not finite");
  }
  if (run.algorithm == AlgorithmKind::kAdpsgd) {
    return Unimplemented(where + ": adpsgd cannot run an external model yet (its compute reads a " +
                         "snapshot the host program never sees); use dpsgd, dcd, ecd, choco or " +
                         "allreduce");
  }
  if (run.device.kind != DeviceKind::kCpu) {
    return InvalidArgument(where + ": an external model is the host's; set device: cpu");
  }
  if (run.local_steps != 1 || run.optimizer.kind != "sgd") {
    return InvalidArgument(where + ": with an external model the host takes the local steps; " +
                           "set local_steps: 1 and optimizer: sgd (the outer optimizer applies)");
  }
  if (o.gradient && !run.outer_optimizer.identity()) {
    return InvalidArgument(where + ": a host that hands gradients gets the daemon's plain SGD " +
                           "step; remove outer_optimizer (or hand the model after your steps)");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<EmbeddedPeer>> EmbeddedPeer::Start(EmbeddedPeerOptions options,
                                                          std::span<const float> x0,
                                                          std::unique_ptr<Transport> transport) {
  HEARSAY_RETURN_IF_ERROR(CheckEmbeddable(options, x0));
  if (!transport) return InvalidArgument("embedded peer: no transport");
  std::unique_ptr<EmbeddedPeer> p(new EmbeddedPeer());
  p->options_ = std::move(options);
  p->transport_ = std::move(transport);
  const EmbeddedPeerOptions& o = p->options_;
  PeerCoreOptions co;
  co.id = o.id;
  co.run = o.run;
  co.topology = o.topology;
  co.external_model = true;
  co.external_gradient = o.gradient;
  co.x0.assign(x0.begin(), x0.end());
  HEARSAY_ASSIGN_OR_RETURN(p->core_, PeerCore::Make(std::move(co)));
  if (!o.out_dir.empty()) {
    HEARSAY_ASSIGN_OR_RETURN(
        p->files_, RunFiles::Open(o.out_dir, o.id, RecordsReplayLog(o.run), kFlushSeconds));
  }
  p->sink_ = std::make_unique<DaemonSink>(*p->transport_, p->files_.get());
  Status started = p->transport_->Start(DeadlineIn(o.run.connect_timeout_s));
  if (!started.ok()) {
    p->shut_down_ = true;  // no link came up: nobody to say goodbye to
    (void)p->transport_->Shutdown(DeadlineIn(1));
    return started.WithPrefix("peer " + std::to_string(o.id));
  }
  p->start_ = Now();
  HEARSAY_ASSIGN_OR_RETURN(bool more, p->DriveToCompute());
  if (!more) {
    p->finished_ = true;
    HEARSAY_RETURN_IF_ERROR(p->Finish());
  }
  return p;
}

EmbeddedPeer::~EmbeddedPeer() {
  if (!shut_down_ && core_) {
    Status s = Finish();
    if (!s.ok()) HEARSAY_LOG_WARN("peer {}: {}", options_.id, s.ToString());
  }
}

double EmbeddedPeer::Since() const { return Duration(Now() - start_).count(); }

Result<bool> EmbeddedPeer::DriveToCompute() {
  const int id = options_.id;
  while (true) {
    Status status = DeliverArrived(*transport_, *core_, start_);
    if (status.ok() && options_.stop && options_.stop->load()) {
      status = Cancelled("peer " + std::to_string(id) + ": stopped in round " +
                         std::to_string(core_->round()));
    }
    if (!status.ok()) {
      (void)core_->Abort(Since(), *sink_, status);
      failure_ = status;
      return status;
    }
    const CoreStep step = core_->Advance(Since(), *sink_);
    if (step.kind == CoreStep::Kind::kFinished) return false;
    if (step.kind == CoreStep::Kind::kFailed) {
      failure_ = step.status;
      return step.status;
    }
    if (step.kind == CoreStep::Kind::kCompute) {
      // The caller's own step runs next, for as long as it takes: the transport keeps reading
      // and answering meanwhile (Transport::WillBeBusy).
      transport_->WillBeBusy(std::numeric_limits<double>::infinity());
      return true;
    }
    status = WaitAndDeliver(*transport_, *core_, step.wake_at, start_);
    if (!status.ok()) {
      failure_ = status.WithPrefix("peer " + std::to_string(id) + " round " +
                                   std::to_string(core_->round()));
      (void)core_->Abort(Since(), *sink_, failure_);
      return failure_;
    }
  }
}

Result<bool> EmbeddedPeer::Round(std::span<float> x, double loss) {
  if (options_.gradient) {
    return FailedPrecondition("peer " + std::to_string(options_.id) +
                              ": this peer takes gradients (RoundGradient), not models");
  }
  return Step(x, x, loss);
}

Result<bool> EmbeddedPeer::RoundGradient(std::span<const float> g, std::span<float> x,
                                         double loss) {
  if (!options_.gradient) {
    return FailedPrecondition("peer " + std::to_string(options_.id) +
                              ": this peer takes the model after your steps (Round), not "
                              "gradients; start it with the gradient form");
  }
  return Step(g, x, loss);
}

Result<bool> EmbeddedPeer::Step(std::span<const float> input, std::span<float> x, double loss) {
  if (!failure_.ok()) return failure_;
  const std::span<const float> params = core_->params();
  for (const auto& [what, size] :
       {std::pair{options_.gradient ? "gradient" : "model", input.size()},
        std::pair{"model", x.size()}}) {
    if (size != params.size()) {
      return InvalidArgument("peer " + std::to_string(options_.id) + ": got a " + what + " of " +
                             std::to_string(size) + " values; the model has " +
                             std::to_string(params.size()));
    }
  }
  if (finished_) {
    std::copy(params.begin(), params.end(), x.begin());
    return false;
  }
  // The core keeps its own copy of the input (it is the round's local work), so x may alias it.
  Status s = core_->SetExternalModel(input, loss);
  if (!s.ok()) {
    (void)core_->Abort(Since(), *sink_, s);
    failure_ = s;
    return s;
  }
  core_->Compute();
  HEARSAY_ASSIGN_OR_RETURN(bool more, DriveToCompute());
  const std::span<const float> next = core_->params();
  std::copy(next.begin(), next.end(), x.begin());
  if (!more) {
    finished_ = true;
    HEARSAY_RETURN_IF_ERROR(Finish());
  }
  return more;
}

Status EmbeddedPeer::Finish() {
  if (shut_down_) return failure_;
  shut_down_ = true;
  if (!core_->finished()) {
    (void)core_->Abort(
        Since(), *sink_,
        Cancelled("peer " + std::to_string(options_.id) +
                  ": the host program ended the run in round " + std::to_string(core_->round())));
  }
  Status flushed = files_ ? files_->Flush() : Status::Ok();
  Status shut = transport_->Shutdown(DeadlineIn(10));
  if (!shut.ok()) HEARSAY_LOG_WARN("peer {}: shutdown: {}", options_.id, shut.ToString());
  return failure_.ok() ? flushed : failure_;
}

}  // namespace hearsay
