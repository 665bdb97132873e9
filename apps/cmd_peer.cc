// hearsay peer: one daemon of a run, over TCP.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "apps/commands.h"
#include "apps/signals.h"
#include "common/logging.h"
#include "runtime/launch/addresses.h"
#include "runtime/launch/rank.h"
#include "runtime/metrics/metered_transport.h"
#include "runtime/metrics/metrics_server.h"
#include "runtime/peer/peer.h"
#include "runtime/transport/secret.h"

namespace hearsay::apps {
namespace {

struct PeerArgs {
  std::string experiment;
  std::optional<int> id;  // else from the environment (runtime/launch/rank.h)
  std::string run;
  std::string out;
  std::string addresses;  // address book (base_port: auto, launch --hosts)
  std::optional<int> metrics_port;
  std::string metrics_bind = "127.0.0.1";
  std::optional<double> progress_every_s;
  std::string log_level = "info";
  std::string log_format = "text";
  int64_t resume_round = 0;  // > 0: continue from this peer's checkpoint of that round
  bool rejoin = false;       // a restarted peer joining the running run
  double elapsed_s = 0;      // the run started this long ago (a restarted peer)
};

// Without a terminal (a job log, a file) a daemon says how it is doing every this many seconds.
constexpr double kDefaultProgressSeconds = 10;

int RunPeer(const PeerArgs& a) {
  const bool json = a.log_format == "json";
  InitLogging("peer", a.log_level, json);
  const auto& stop = InstallStopHandlers();
  auto exp = LoadExperiment(a.experiment);
  if (!exp.ok()) {
    std::cerr << "hearsay peer: " << exp.status().message() << "\n";
    return 1;
  }
  const RunConfig* found = a.run.empty() ? &exp->runs.front() : exp->FindRun(a.run);
  if (!found) {
    std::string valid;
    for (const auto& r : exp->runs) valid += (valid.empty() ? "" : ", ") + r.name;
    std::cerr << "hearsay peer: " << a.experiment << " has no run named '" << a.run
              << "' (runs: " << valid << ")\n";
    return 1;
  }
  // The cluster secret, resolved once at start (docs/security.md): secret_file, HEARSAY_SECRET,
  // then `secret:`; the transport refuses the development secret unless every peer is loopback.
  auto secret =
      ResolveClusterSecret(SecretSourcesFromEnvironment(found->secret_file, found->secret));
  if (!secret.ok()) {
    std::cerr << "hearsay peer: " << secret.status().message() << "\n";
    return 1;
  }
  for (const std::string& warning : secret->warnings) HEARSAY_LOG_WARN("{}", warning);
  HEARSAY_LOG_DEBUG("cluster secret from {}", secret->origin);
  RunConfig resolved = *found;
  resolved.secret = std::move(secret->secret);
  if (!a.addresses.empty()) {
    // Addresses decided at launch (base_port: auto, --hosts): every peer reads the same book.
    auto applied = ApplyAddressBook(a.addresses, *resolved.topology);
    if (!applied.ok()) {
      std::cerr << "hearsay peer: " << applied.status().message() << "\n";
      return 1;
    }
    resolved.topology = std::move(applied).value();
  }
  const RunConfig* run = &resolved;
  auto rank = ResolveRank(a.id, run->topology->size(), exp->topology_path);
  if (!rank.ok()) {
    std::cerr << "hearsay peer: " << rank.status().message() << "\n";
    return 1;
  }
  const int id = rank->id;
  InitLogging("peer " + std::to_string(id), a.log_level, json);
  if (rank->source != "--id") HEARSAY_LOG_DEBUG("rank {} from {}", id, rank->source);
  // Live metrics: the server starts first, so a port in use fails
  // before anything else and a scrape shows `connecting` while the peer waits for the others.
  std::unique_ptr<PeerMetrics> metrics;
  std::unique_ptr<MetricsServer> server;
  if (a.metrics_port) {
    metrics = std::make_unique<PeerMetrics>(id, run->name, AlgorithmLabel(*run));
    PeerMetrics* m = metrics.get();
    auto started = MetricsServer::Start(a.metrics_bind, static_cast<uint16_t>(*a.metrics_port),
                                        [m] { return m->RenderPrometheus(); });
    if (!started.ok()) {
      std::cerr << "hearsay peer: --metrics-port: " << started.status().message() << "\n";
      return 1;
    }
    server = std::move(started).value();
    HEARSAY_LOG_INFO("metrics at http://{}:{}/metrics", a.metrics_bind, server->port());
  }
  const std::string out_dir = a.out.empty() ? exp->output_dir + "/" + run->name : a.out;
  // The launcher leaves the index of a text data file in the run folder (read when it matches).
  auto workload = BuildPeerWorkload(*run, run->topology->size(), id, out_dir);
  if (!workload.ok()) {
    std::cerr << "hearsay peer: " << workload.status().message() << "\n";
    return 1;
  }
  auto shared = std::make_shared<const Workload>(std::move(workload).value());
  // A late joiner (`join:` in the fault schedule) joins the running run like a restarted peer.
  const bool rejoin = a.rejoin || JoinsLate(*run, id);
  auto transport = MakePeerTcpTransport(*run, run->topology, *shared->model, id, &stop, rejoin);
  if (!transport.ok()) {
    std::cerr << "hearsay peer: " << transport.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<Transport> wire = std::move(transport).value();
  if (metrics) wire = std::make_unique<MeteredTransport>(std::move(wire), metrics.get());
  PeerOptions po;
  po.id = id;
  po.run = *run;
  po.topology = run->topology;
  po.workload = shared;
  po.out_dir = out_dir;
  po.stop = &stop;
  po.resume_round = a.resume_round;
  po.rejoin = rejoin;
  // A restarted peer's run time counts from the run's start (duration, time-grid snapshots).
  if (a.elapsed_s > 0) {
    po.epoch = Now() - std::chrono::duration_cast<SteadyClock::duration>(Duration(a.elapsed_s));
  }
  po.metrics = metrics.get();
  po.progress_every_s = a.progress_every_s.value_or(
      isatty(STDOUT_FILENO) || isatty(STDERR_FILENO) ? 0 : kDefaultProgressSeconds);
  Peer peer(std::move(po));
  HEARSAY_LOG_INFO("run '{}': {} on {} peers, {} rounds", run->name, AlgorithmLabel(*run),
                   run->topology->size(), run->rounds);
  Status s = peer.Run(*wire);
  if (s.code() == StatusCode::kCancelled && stop.load()) {
    HEARSAY_LOG_INFO("stopped by signal {}; metrics flushed", StopSignal());
    return 130;
  }
  if (!s.ok()) {
    std::cerr << "hearsay peer: " << s.message() << "\n";
    return 2;
  }
  HEARSAY_LOG_INFO("finished {} rounds", run->rounds);
  return 0;
}

}  // namespace

void RegisterPeerCommand(CLI::App& app) {
  auto args = std::make_shared<PeerArgs>();
  CLI::App* cmd = app.add_subcommand(
      "peer",
      "Run one peer daemon of an experiment over TCP (addresses from the topology file, or\n"
      "--addresses). The rank is --id, else SLURM_PROCID, OMPI_COMM_WORLD_RANK, PMI_RANK or\n"
      "HEARSAY_RANK (docs/deploy.md). Runs until its last round or SIGTERM/Ctrl-C.\n"
      "Exit codes: 0 done, 1 bad input, 2 run failed, 130 stopped by a signal.");
  cmd->add_option("--experiment,-e", args->experiment, "Experiment file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--id", args->id,
                  "This peer's node index in the topology file (default: from the environment\n"
                  "srun / mpirun set)");
  cmd->add_option("--run", args->run, "Name of the run in the experiment (default: the first)");
  cmd->add_option("--out", args->out,
                  "Folder for this run's metrics and snapshots (default: OUTPUT/<run>)");
  cmd->add_option("--addresses", args->addresses,
                  "Address book written by `hearsay launch` (OUT/<run>/addresses.yaml): the\n"
                  "host:port of every node when the topology says base_port: auto")
      ->check(CLI::ExistingFile);
  cmd->add_option("--metrics-port", args->metrics_port,
                  "Serve Prometheus metrics at http://BIND:PORT/metrics (0: any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--metrics-bind", args->metrics_bind,
                  "Address the metrics endpoint listens on (0.0.0.0: every interface)")
      ->capture_default_str();
  cmd->add_option("--progress-every", args->progress_every_s,
                  "Seconds between progress lines (0: none; default 10 when output is not a\n"
                  "terminal, else none)")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--log-level", args->log_level,
                  "debug (one line per round) | info | warn | error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cmd->add_option("--log-format", args->log_format, "text | json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--resume-round", args->resume_round,
                  "Continue from this peer's checkpoint of round R in the run folder (every\n"
                  "peer of the run must resume from the same round; `hearsay launch --resume`\n"
                  "picks it)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 62));
  cmd->add_flag(
      "--rejoin", args->rejoin,
      "This peer was restarted: join the running run by a state transfer from its\n"
      "neighbours instead of starting it (dpsgd, dcd, ecd, choco, adpsgd; docs/faults.md).\n"
      "Implied for a late joiner (`join:` in the experiment's faults)");
  cmd->add_option("--elapsed", args->elapsed_s,
                  "Seconds since the run started, for a restarted peer (--rejoin): its\n"
                  "`duration:` and time-grid snapshots count from the run's start, not its own")
      ->check(CLI::Range(0.0, 1e9));
  cmd->callback([args] {
    const int rc = RunPeer(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace hearsay::apps
