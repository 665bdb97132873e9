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

Status WaitAndDeliver(Transport& transport, PeerCore& core, double wake_at, TimePoint start) {
  // A bounded wait, so the caller polls its stop flag at least every kPollSeconds.
  TimePoint deadline = DeadlineIn(kPollSeconds);
  if (wake_at < kNoWake) {
    deadline = std::min(
        deadline, start + std::chrono::duration_cast<SteadyClock::duration>(Duration(wake_at)));
  }
  Result<Message> r = transport.Receive(deadline);
  if (r.ok()) {
    core.Deliver(Duration(Now() - start).count(), std::move(r).value());
    return Status::Ok();
  }
  return r.status().code() == StatusCode::kDeadlineExceeded ? Status::Ok() : r.status();
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

Status Peer::Run(Transport& transport) {
  try {
    return RunLoop(transport);
  } catch (const std::exception& e) {
    (void)transport.Shutdown(DeadlineIn(1));
    return Internal("peer " + std::to_string(options_.id) + ": " + e.what());
  } catch (...) {
    (void)transport.Shutdown(DeadlineIn(1));
    return Internal("peer " + std::to_string(options_.id) + ": unknown exception");
  }
}

Status Peer::ComputeWhileServing(Transport& transport, CoreSink& sink,
                                 const std::function<double()>& since_start, double slowdown) {
  // The job (and the straggler's extra sleep) runs on a worker thread; this thread keeps
  // receiving and lets the core answer what must not wait for the computation.
  std::atomic<bool> done{false};
  std::string escaped;
  std::thread worker([&] {
    try {
      const TimePoint t0 = Now();
      core_->Compute();
      if (slowdown > 1) SleepUnlessStopped((slowdown - 1) * SecondsSince(t0), options_.stop);
    } catch (const std::exception& e) {
      escaped = e.what();
    } catch (...) {
      escaped = "unknown exception";
    }
    done = true;
  });
  Status status;
  while (!done.load()) {
    // A short poll: the worker's end does not wake Receive.
    Result<Message> r = transport.Receive(DeadlineIn(0.001));
    if (r.ok()) {
      core_->Deliver(since_start(), std::move(r).value());
      status = core_->Service(since_start(), sink);
    } else if (r.status().code() != StatusCode::kDeadlineExceeded) {
      status = r.status();
    }
    if (!status.ok()) break;
  }
  worker.join();
  if (!escaped.empty()) {
    return Internal("peer " + std::to_string(options_.id) + " compute: " + escaped);
  }
  return status.WithPrefix("peer " + std::to_string(options_.id));
}

Status Peer::RunLoop(Transport& transport) {
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
  std::unique_ptr<RunFiles> files;
  if (!options_.out_dir.empty()) {
    HEARSAY_ASSIGN_OR_RETURN(
        files, RunFiles::Open(options_.out_dir, id, RecordsReplayLog(run), kFlushSeconds,
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
  if (metrics) metrics->SetState(PeerState::kRunning);
  const TimePoint start = options_.epoch.value_or(Now());
  const auto since_start = [&] { return Duration(Now() - start).count(); };
  RoundReporter reporter(run.rounds, run.duration_s, metrics, options_.progress_every_s);
  // Live reporting (issue 15): metrics, progress and debug lines after each recorded round.
  DaemonSink daemon_sink(transport, files.get(), fingerprint);
  ReportingSink sink(daemon_sink, transport, reporter);
  const double slowdown = core_->slowdown();
  Status status;
  bool killed = false;
  while (true) {
    while (options_.pause && options_.pause->load() && !(options_.stop && options_.stop->load()) &&
           !(options_.kill && options_.kill->load())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (options_.kill && options_.kill->load()) {
      killed = true;
      status = Aborted("peer " + std::to_string(id) + ": killed in round " +
                       std::to_string(core_->round()));
      break;
    }
    status = DeliverArrived(transport, *core_, start);
    if (status.ok() && options_.stop && options_.stop->load()) {
      status = Cancelled("peer " + std::to_string(id) + ": stopped in round " +
                         std::to_string(core_->round()));
    }
    if (!status.ok()) {
      (void)core_->Abort(since_start(), sink, status);
      break;
    }
    const CoreStep step = core_->Advance(since_start(), sink);
    if (step.kind == CoreStep::Kind::kFinished) break;
    if (step.kind == CoreStep::Kind::kFailed) {
      status = step.status;
      break;
    }
    if (step.kind == CoreStep::Kind::kCompute) {
      if (core_->ServesDuringCompute()) {
        status = ComputeWhileServing(transport, sink, since_start, slowdown);
        if (!status.ok()) {
          (void)core_->Abort(since_start(), sink, status);
          break;
        }
        continue;
      }
      const TimePoint t0 = Now();
      core_->Compute();
      if (slowdown > 1) SleepUnlessStopped((slowdown - 1) * SecondsSince(t0), options_.stop);
      continue;
    }
    // kWait: block for the next message, a timer, or the stop-flag poll.
    status = WaitAndDeliver(transport, *core_, step.wake_at, start);
    if (!status.ok()) {
      status = status.WithPrefix("peer " + std::to_string(id) + " round " +
                                 std::to_string(core_->round()));
      (void)core_->Abort(since_start(), sink, status);
      break;
    }
  }
  Status flushed = files ? files->Flush() : Status::Ok();
  Status shut = transport.Shutdown(DeadlineIn(killed ? 0 : 10));
  if (status.ok()) status = flushed;
  if (status.ok() && !shut.ok()) {
    HEARSAY_LOG_WARN("peer {}: shutdown: {}", id, shut.ToString());
  }
  if (metrics) {
    metrics->SetState(status.ok()                               ? PeerState::kDone
                      : status.code() == StatusCode::kCancelled ? PeerState::kStopped
                                                                : PeerState::kFailed);
  }
  return status;
}

}  // namespace hearsay
