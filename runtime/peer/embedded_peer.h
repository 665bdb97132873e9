// EmbeddedPeer: one peer of a run whose model lives in the host program (a PyTorch training
// loop, a C++ trainer), the driver a Python binding calls. It is the third driver of PeerCore
// (docs/design.md): the daemon pushes the core from its own loop; here the host pulls it, one
// round per call.
//
// The host keeps its model and optimizer and takes its local steps itself. Each Round(x) hands
// the core the host's model after those steps; the core computes the round's local work as the
// pseudo-gradient s - x (s: the model the host started the round from), passes it through the
// run's outer optimizer (`outer_optimizer`: sgd with lr 1 by default, i.e. the host's own
// progress), gossips it with the run's algorithm, codec and topology exactly as a daemon peer
// would, and overwrites x with the model the host starts the next round from. With the default
// outer optimizer and one local SGD step of learning rate lr on the host, a run is the daemon's
// run with the host's gradient in place of the built-in model's.
//
// Gradient form (EmbeddedPeerOptions::gradient, RoundGradient): the host hands the gradient of
// its loss at the model the core gave it instead of its model after a step; the core takes the
// daemon's own SGD step with it (the run's lr schedule, the same code path as the built-in
// models), so a host computing the built-in model's gradient reproduces the daemon's run bit for
// bit. It needs the identity outer optimizer (the default).
//
// Every peer of the run must use the same initial model (x0 in Start: seed the host's model
// the same way on every peer, or broadcast it). The run's own `model:` and `data:` are not used;
// `rounds` bounds the run as usual.
//
// Not supported (errors at Start): AD-PSGD (its compute reads a snapshot the host never sees),
// `device: cuda`, `local_steps` other than 1 and inner optimizers other than sgd (the host's
// loop is the inner loop).
//
// Thread-safety: one thread calls Start, Round and Finish; none of them may run concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"
#include "runtime/peer/peer_core.h"
#include "runtime/peer/run_config.h"
#include "runtime/peer/run_files.h"
#include "runtime/transport/transport.h"

namespace hearsay {

struct EmbeddedPeerOptions {
  int id = 0;
  RunConfig run;
  std::shared_ptr<const TopologySpec> topology;
  std::string out_dir;                      // per-peer JSON lines and snapshots ("" = none)
  bool gradient = false;                    // the host calls RoundGradient, not Round
  const std::atomic<bool>* stop = nullptr;  // set to stop the peer (Round returns Cancelled)
};

class EmbeddedPeer {
 public:
  // Connects to the neighbours over `transport` (TCP for real runs: MakePeerTcpTransport with the
  // model's shape; in-process in tests) and runs the core up to its first round. x0: the initial
  // model, the same on every peer.
  static Result<std::unique_ptr<EmbeddedPeer>> Start(EmbeddedPeerOptions options,
                                                     std::span<const float> x0,
                                                     std::unique_ptr<Transport> transport);
  ~EmbeddedPeer();

  // One round: x holds the host's model after its local steps (loss: the host's training loss
  // of those steps, for the metrics; NaN if unknown). On return x holds the model to start the
  // next round from. Returns false when the run has ended (x then holds the final model; further
  // calls return false). A neighbour's failure, a timeout or a non-finite x: an error, after
  // which the peer has said goodbye (FAILED) to its neighbours.
  Result<bool> Round(std::span<float> x, double loss);
  // Gradient form: g is the gradient of the host's loss at the model the core last gave it (x0,
  // then what the previous call wrote into x); on return x holds the next model. Otherwise as
  // Round.
  Result<bool> RoundGradient(std::span<const float> g, std::span<float> x, double loss);
  // Ends the run early (or after the last round): says goodbye, flushes the files, closes the
  // links. Called by the destructor if the host did not.
  Status Finish();

  // The round whose local steps the next Round() call carries (1-based): the index for the host's
  // learning-rate schedule and data order.
  int64_t round() const { return core_->job_round(); }
  size_t num_params() const { return core_->params().size(); }
  bool finished() const { return finished_; }

 private:
  EmbeddedPeer() = default;
  // Delivers what has arrived and advances the core until it asks for a computation (true) or
  // the run ends (false).
  Result<bool> DriveToCompute();
  // Round and RoundGradient: `input` is x or g (the form the options chose), `x` the output.
  Result<bool> Step(std::span<const float> input, std::span<float> x, double loss);
  double Since() const;

  EmbeddedPeerOptions options_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<PeerCore> core_;
  std::unique_ptr<RunFiles> files_;
  std::unique_ptr<CoreSink> sink_;
  TimePoint start_{};
  bool finished_ = false;
  bool shut_down_ = false;
  Status failure_;
};

}  // namespace hearsay
