#include "runtime/peer/peer.h"

#include <algorithm>
#include <functional>
#include <thread>
#include <utility>

#include "common/clock.h"
#include "common/logging.h"
#include "runtime/emulator/link_emulator.h"
#include "runtime/metrics/round_reporter.h"
#include "runtime/peer/checkpoint.h"
#include "runtime/peer/run_files.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay {
namespace {

// Polling interval for the stop flag while waiting on the network.
constexpr double kPollSeconds = 0.2;
// How often the metrics lines reach the disk (the launcher's live progress reads them).
constexpr double kFlushSeconds = 0.25;

}  // namespace

Status DeliverArrived(Transport& transport, PeerCore& core, TimePoint start) {
  while (true) {
    Result<Message> r = transport.Receive(Now());
    if (!r.ok()) {
      return r.status().code() == StatusCode::kDeadlineExceeded ? Status::Ok() : r.status();
    }
    core.Deliver(Duration(Now() - start).count(), std::move(r).value());
  }
}

namespace {

// Blocks until a message arrives (and delivers it), `wake` or the stop-flag poll interval.
Status WaitAndDeliverBy(Transport& transport, PeerCore& core, TimePoint wake, TimePoint start) {
  // A bounded wait, so the caller polls its stop flag at least every kPollSeconds.
  const TimePoint deadline = std::min(DeadlineIn(kPollSeconds), wake);
  Result<Message> r = transport.Receive(deadline);
  if (r.ok()) {
    core.Deliver(Duration(Now() - start).count(), std::move(r).value());
    return Status::Ok();
  }
  return r.status().code() == StatusCode::kDeadlineExceeded ? Status::Ok() : r.status();
}

}  // namespace

Status WaitAndDeliver(Transport& transport, PeerCore& core, double wake_at, TimePoint start) {
  const TimePoint wake = wake_at < kNoWake ? SaturatingAdd(start, wake_at) : TimePoint::max();
  return WaitAndDeliverBy(transport, core, wake, start);
}

Result<std::unique_ptr<Transport>> MakePeerTcpTransport(
    const RunConfig& run, std::shared_ptr<const TopologySpec> topology, const Model& model, int id,
    const std::atomic<bool>* stop, bool rejoin) {
  return MakePeerTcpTransport(run, std::move(topology),
                              model.Describe() + " params=" + std::to_string(model.num_params()),
                              model.num_params(), id, stop, rejoin);
}

Result<std::unique_ptr<Transport>> MakePeerTcpTransport(
    const RunConfig& run, std::shared_ptr<const TopologySpec> topology,
    const std::string& model_shape, size_t num_params, int id, const std::atomic<bool>* stop,
    bool rejoin) {
  TcpTransportOptions o;
  o.self = id;
  o.stop = stop;
  // A broken link that is not back within half the dead-peer timeout is reported (with the
  // socket's error, a better reason than the silence the peer would see at dead_after).
  const double dead_after = EffectiveDeadAfter(run, *topology);
  o.reconnect_grace_s = 0.5 * dead_after;
  // A neighbour of a restarted peer may be dead too: start with the links that are up after
  // dead_after plus the longest a live neighbour's redial can take (its backoff cap); the others
  // join when their peers return.
  if (rejoin) o.start_with_some_after_s = dead_after + o.connect_backoff_max_s + 0.25;
  for (const NodeSpec& n : topology->nodes) {
    if (n.port == 0) {
      return FailedPrecondition(topology->source + ": node " + n.name +
                                " has no port (base_port: auto); ports are chosen by `hearsay "
                                "launch`, or give the peer its --addresses file");
    }
    o.addresses.push_back(PeerAddress{n.host, n.port});
  }
  o.bind = PeerAddress{topology->nodes[id].bind_host, topology->nodes[id].bind_port};
  o.neighbors = CommNeighbors(run, *topology->graph, id);
  // Late joiners (`join:`) are not waited for at start: their links come up when they join.
  if (!rejoin) {
    for (int j : o.neighbors) {
      if (JoinsLate(run, j)) o.late_neighbors.push_back(j);
    }
  }
  o.handshake.cluster_id = run.cluster_id;
  o.handshake.topology_hash = TopologyHash(*topology);
  o.handshake.model_shape = model_shape;
  o.handshake.algorithm = AlgorithmLabel(run);
  o.secret = run.secret;
  o.streams = static_cast<int>(run.streams);
  // No codec needs more than 64 bits per parameter (sparse index + value); larger payloads are
  // refused before anything is allocated (docs/security.md).
  const uint64_t max_message = 8 * static_cast<uint64_t>(num_params) + (1u << 20);
  o.max_message_bytes = static_cast<uint32_t>(std::min<uint64_t>(max_message, UINT32_MAX));
  HEARSAY_ASSIGN_OR_RETURN(std::unique_ptr<Transport> tcp, MakeTcpTransport(o));
  if (!run.emulate || topology->IdealNetwork()) return tcp;  // nothing to emulate
  return MakeEmulatedTransport(std::move(tcp), topology, id, run.seed);
}

namespace {

// Sleeps `seconds` in slices, returning early when `stop` is set.
void SleepUnlessStopped(double seconds, const std::atomic<bool>* stop) {
  const TimePoint until = DeadlineIn(seconds);
  while (Now() < until) {
    if (stop && stop->load()) return;
    std::this_thread::sleep_for(
        std::min<SteadyClock::duration>(until - Now(), std::chrono::milliseconds(50)));
  }
}

}  // namespace

Status DaemonSink::Send(Message msg) { return transport_.Send(std::move(msg)); }

Status DaemonSink::OnRound(const RoundRecord& r) {
  if (!files_) return Status::Ok();
  const TransportStats st = transport_.stats();
  return files_->WriteRound(r, st.bytes_sent, st.bytes_received);
}

Status DaemonSink::OnSnapshot(const SnapshotKey& key, std::span<const float> x, double) {
  return files_ ? files_->WriteSnapshot(key, x) : Status::Ok();
}

Status DaemonSink::OnCheckpoint(int64_t round, ByteBuffer* state) {
  return files_ ? files_->WriteCheckpoint(round, fingerprint_, state) : Status::Ok();
}

Status DaemonSink::OnApplied(int64_t round, std::span<const MessageId> applied) {
  return files_ ? files_->WriteApplied(round, applied) : Status::Ok();
}

Peer::Peer(PeerOptions options) : options_(std::move(options)) {}
Peer::~Peer() = default;

std::span<const float> Peer::params() const {
  if (!core_) return {};
  return core_->params();
}

double Peer::since_start() const { return Duration(Now() - start_).count(); }

std::string Peer::Where() const {
  return "peer " + std::to_string(options_.id) + " round " +
         std::to_string(core_ ? core_->round() : 0);
}

bool Peer::ServesDuringCompute() const { return core_ && core_->ServesDuringCompute(); }

Status Peer::Run(Transport& transport) {
  Open(transport);
  while (true) {
    const Next next = Pump(transport);
    switch (next.kind) {
      case Next::Kind::kDone:
        return Close(transport);
      case Next::Kind::kPaused:
        transport.WillBeBusy(Duration(next.at - Now()).count());
        std::this_thread::sleep_until(next.at);
        break;
      case Next::Kind::kCompute:
        if (ServesDuringCompute()) {
          ComputeWhileServing(transport);
          break;
        }
        // (TCP hands its network to its own thread for a step long enough to matter.)
        transport.WillBeBusy(last_compute_s_);
        if (const double busy = Compute(); busy > 0) {
          transport.WillBeBusy(busy);
          SleepUnlessStopped(busy, options_.stop);
        }
        break;
      case Next::Kind::kWait: {
        // Block for the next message, the core's timer, or the stop-flag poll.
        Status s;
        try {
          s = WaitAndDeliverBy(transport, *core_, next.at, start_);
        } catch (const std::exception& e) {
          s = Internal(e.what());
        } catch (...) {
          s = Internal("unknown exception");
        }
        if (!s.ok()) pending_error_ = s.WithPrefix(Where());
        break;
      }
    }
  }
}

void Peer::ComputeWhileServing(Transport& transport) {
  // The job (and the straggler's extra sleep) runs on a worker thread; this thread keeps
  // receiving and lets the core answer what must not wait for the computation.
  std::atomic<bool> done{false};
  if (!job_thread_) job_thread_ = std::make_unique<JobThread>();
  job_thread_->Start([&] {
    const double busy = Compute();  // never throws
    if (busy > 0) SleepUnlessStopped(busy, options_.stop);
    done = true;
  });
  // A short poll: the job's end does not wake Receive.
  while (!done.load() && Serve(transport, DeadlineIn(0.001))) {
  }
  job_thread_->Wait();
}

bool Peer::Serve(Transport& transport, TimePoint deadline) {
  if (!pending_error_.ok()) return false;
  try {
    while (true) {
      Result<Message> r = transport.Receive(deadline);
      if (!r.ok()) {
        if (r.status().code() == StatusCode::kDeadlineExceeded) return true;
        pending_error_ = r.status().WithPrefix("peer " + std::to_string(options_.id));
        return false;
      }
      core_->Deliver(since_start(), std::move(r).value());
      if (Status s = core_->Service(since_start(), *sink_); !s.ok()) {
        pending_error_ = s.WithPrefix("peer " + std::to_string(options_.id));
        return false;
      }
      deadline = Now();  // then only what is already there
    }
  } catch (const std::exception& e) {
    pending_error_ = Internal("peer " + std::to_string(options_.id) + ": " + e.what());
  } catch (...) {
    pending_error_ = Internal("peer " + std::to_string(options_.id) + ": unknown exception");
  }
  return false;
}

double Peer::Compute() {
  try {
    const TimePoint t0 = Now();
    core_->Compute();
    last_compute_s_ = SecondsSince(t0);
    return slowdown_ > 1 ? (slowdown_ - 1) * last_compute_s_ : 0.0;
  } catch (const std::exception& e) {
    compute_error_ = Internal("peer " + std::to_string(options_.id) + " compute: " + e.what());
  } catch (...) {
    compute_error_ =
        Internal("peer " + std::to_string(options_.id) + " compute: unknown exception");
  }
  return 0;
}

void Peer::Open(Transport& transport) {
  try {
    status_ = OpenOrFail(transport);
  } catch (const std::exception& e) {
    status_ = Internal("peer " + std::to_string(options_.id) + ": " + e.what());
  } catch (...) {
    status_ = Internal("peer " + std::to_string(options_.id) + ": unknown exception");
  }
  if (!status_.ok()) done_ = true;
}

Status Peer::OpenOrFail(Transport& transport) {
  const RunConfig& run = options_.run;
  const int id = options_.id;
  PeerCoreOptions co;
  co.id = id;
  co.run = run;
  co.topology = options_.topology;
  co.workload = options_.workload;
  co.rejoin = options_.rejoin;
  const uint64_t fingerprint = CheckpointFingerprint(run, *options_.topology);
  if (options_.resume_round > 0) {
    if (options_.out_dir.empty()) return InvalidArgument("resume: the peer has no run folder");
    HEARSAY_ASSIGN_OR_RETURN(
        ByteBuffer state, ReadCheckpoint(options_.out_dir, id, options_.resume_round, fingerprint));
    co.resume_state = std::make_shared<const ByteBuffer>(std::move(state));
  }
  HEARSAY_ASSIGN_OR_RETURN(core_, PeerCore::Make(std::move(co)));
  if (!options_.out_dir.empty()) {
    HEARSAY_ASSIGN_OR_RETURN(
        files_, RunFiles::Open(options_.out_dir, id, RecordsReplayLog(run), kFlushSeconds,
                               options_.rejoin ? kUnlimitedRounds : options_.resume_round));
  }
  PeerMetrics* metrics = options_.metrics;
  if (metrics) metrics->SetState(PeerState::kConnecting);
  Status started =
      transport.Start(DeadlineIn(run.connect_timeout_s)).WithPrefix("peer " + std::to_string(id));
  if (!started.ok()) {
    if (metrics) metrics->SetState(PeerState::kFailed);
    return started;
  }
  started_ = true;
  if (metrics) metrics->SetState(PeerState::kRunning);
  start_ = options_.epoch.value_or(Now());
  // Live reporting (issue 15): metrics, progress and debug lines after each recorded round.
  reporter_ = std::make_unique<RoundReporter>(run.rounds, run.duration_s, metrics,
                                              options_.progress_every_s);
  daemon_sink_ = std::make_unique<DaemonSink>(transport, files_.get(), fingerprint);
  sink_ = std::make_unique<ReportingSink>(*daemon_sink_, transport, *reporter_);
  slowdown_ = core_->slowdown();
  return Status::Ok();
}

void Peer::Fail(Status why) {
  status_ = std::move(why);
  done_ = true;
  try {
    (void)core_->Abort(since_start(), *sink_, status_);
  } catch (const std::exception& e) {
    HEARSAY_LOG_WARN("peer {}: saying goodbye: {}", options_.id, e.what());
  } catch (...) {
    HEARSAY_LOG_WARN("peer {}: saying goodbye: unknown exception", options_.id);
  }
}

Peer::Next Peer::Pump(Transport& transport) {
  if (done_) return {};
  const int id = options_.id;
  try {
    if (!compute_error_.ok() || !pending_error_.ok()) {
      Fail(!compute_error_.ok() ? compute_error_ : pending_error_);
      return {};
    }
    const bool stopping = options_.stop && options_.stop->load();
    const bool killing = options_.kill && options_.kill->load();
    if (options_.pause && options_.pause->load() && !stopping && !killing) {
      return {Next::Kind::kPaused, DeadlineIn(0.005)};
    }
    if (killing) {
      killed_ = true;
      done_ = true;
      status_ = Aborted("peer " + std::to_string(id) + ": killed in round " +
                        std::to_string(core_->round()));
      return {};
    }
    Status s = DeliverArrived(transport, *core_, start_);
    if (!s.ok()) {
      s = s.WithPrefix(Where());
    } else if (options_.stop && options_.stop->load()) {
      s = Cancelled("peer " + std::to_string(id) + ": stopped in round " +
                    std::to_string(core_->round()));
    }
    if (!s.ok()) {
      Fail(std::move(s));
      return {};
    }
    const CoreStep step = core_->Advance(since_start(), *sink_);
    switch (step.kind) {
      case CoreStep::Kind::kFinished:
        done_ = true;
        return {};
      case CoreStep::Kind::kFailed:
        done_ = true;
        status_ = step.status;
        return {};
      case CoreStep::Kind::kCompute:
        return {Next::Kind::kCompute, TimePoint::max()};
      case CoreStep::Kind::kWait:
        break;
    }
    return {Next::Kind::kWait,
            step.wake_at < kNoWake ? SaturatingAdd(start_, step.wake_at) : TimePoint::max()};
  } catch (const std::exception& e) {
    status_ = Internal("peer " + std::to_string(id) + ": " + e.what());
  } catch (...) {
    status_ = Internal("peer " + std::to_string(id) + ": unknown exception");
  }
  done_ = true;
  return {};
}

Status Peer::Close(Transport& transport) {
  if (!started_) return status_;  // never got going: nothing written, nothing to say goodbye on
  Status flushed = files_ ? files_->Flush() : Status::Ok();
  Status shut = transport.Shutdown(DeadlineIn(killed_ ? 0 : 10));
  if (status_.ok()) status_ = flushed;
  if (status_.ok() && !shut.ok()) {
    HEARSAY_LOG_WARN("peer {}: shutdown: {}", options_.id, shut.ToString());
  }
  if (PeerMetrics* metrics = options_.metrics) {
    metrics->SetState(status_.ok()                               ? PeerState::kDone
                      : status_.code() == StatusCode::kCancelled ? PeerState::kStopped
                                                                 : PeerState::kFailed);
  }
  return status_;
}

}  // namespace hearsay
