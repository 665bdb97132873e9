// hearsay peer: one daemon of a run, over TCP.
#include <CLI/CLI.hpp>

#include <iostream>

#include "apps/commands.h"
#include "apps/signals.h"
#include "common/logging.h"
#include "runtime/peer/peer.h"
#include "runtime/transport/secret.h"

namespace hearsay::apps {
namespace {

struct PeerArgs {
  std::string experiment;
  int id = -1;
  std::string run;
  std::string out;
  std::string log_level = "info";
};

int RunPeer(const PeerArgs& a) {
  InitLogging("peer " + std::to_string(a.id), a.log_level);
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
  const RunConfig* run = &resolved;
  if (a.id < 0 || a.id >= run->topology->size()) {
    std::cerr << "hearsay peer: --id " << a.id << " is not a node of " << exp->topology_path
              << " (ids are 0.." << run->topology->size() - 1 << ")\n";
    return 1;
  }
  auto workload = BuildWorkload(*run, run->topology->size());
  if (!workload.ok()) {
    std::cerr << "hearsay peer: " << workload.status().message() << "\n";
    return 1;
  }
  auto shared = std::make_shared<const Workload>(std::move(workload).value());
  auto transport = MakePeerTcpTransport(*run, run->topology, *shared->model, a.id, &stop);
  if (!transport.ok()) {
    std::cerr << "hearsay peer: " << transport.status().message() << "\n";
    return 1;
  }
  PeerOptions po;
  po.id = a.id;
  po.run = *run;
  po.topology = run->topology;
  po.workload = shared;
  po.out_dir = a.out.empty() ? exp->output_dir + "/" + run->name : a.out;
  po.stop = &stop;
  Peer peer(std::move(po));
  HEARSAY_LOG_INFO("run '{}': {} on {} peers, {} rounds", run->name, AlgorithmLabel(*run),
                   run->topology->size(), run->rounds);
  Status s = peer.Run(**transport);
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
      "Run one peer daemon of an experiment over TCP (addresses from the topology file).\n"
      "Runs until its last round or SIGTERM/Ctrl-C, then exits cleanly.\n"
      "Exit codes: 0 done, 1 bad input, 2 run failed, 130 stopped by a signal.");
  cmd->add_option("--experiment,-e", args->experiment, "Experiment file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--id", args->id, "This peer's node index in the topology file")->required();
  cmd->add_option("--run", args->run, "Name of the run in the experiment (default: the first)");
  cmd->add_option("--out", args->out,
                  "Folder for this run's metrics and snapshots (default: OUTPUT/<run>)");
  cmd->add_option("--log-level", args->log_level, "debug | info | warn | error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cmd->callback([args] {
    const int rc = RunPeer(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace hearsay::apps
