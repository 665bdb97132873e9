// PeerPool: the in-process runner's driver -- many peers on a few worker threads instead of a
// thread per peer (DESIGN.md "One peer state machine, three drivers"; Peer's event-driven
// interface, runtime/peer/peer.h).
//
// Each peer belongs to one worker, in contiguous blocks (peer i of n on worker i * workers / n:
// ring and torus neighbours mostly share one, so most messages need no thread wake-up). A worker
// runs a peer's Pump when something arrives for it (Transport::SetArrivalNotifier), when its
// timer is due, and at least every 200 ms (the stop, kill and pause flags). Peers take turns: a
// peer that has computed goes to the back of its worker's queue, as the OS would time-slice
// threads. A compute job runs on the worker (it is the peer's CPU time either way), except for
// protocols that answer messages during it (AD-PSGD): their job gets a thread of its own while
// the worker keeps serving. A straggler node's extra time (slowdown) is a timer, not a sleep.
// A finished peer is closed -- files flushed, transport shut down, which may wait for the
// emulated network to deliver its goodbyes -- on a closer thread, which then calls its `done`.
//
// Threading: Start may be called from any thread; `done` runs on the closer thread. The pool must
// outlive its peers: destroy it only after every started peer's `done` has run.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace hearsay {

class Peer;
class Transport;

class PeerPool {
 public:
  // The peer's final status, and the peer (its model: Peer::params), before it is destroyed.
  using Done = std::function<void(Status, const Peer&)>;

  // `slots` peers (ids 0..slots-1) on `workers` threads (clamped to 1..slots).
  PeerPool(int slots, int workers);
  ~PeerPool();
  PeerPool(const PeerPool&) = delete;
  PeerPool& operator=(const PeerPool&) = delete;

  // Runs `peer` over `transport` in `slot` (whose previous peer, if any, has ended): Open, Pump
  // until done, Close, then done(final status, peer).
  void Start(int slot, std::unique_ptr<Peer> peer, std::unique_ptr<Transport> transport, Done done);
  int workers() const { return static_cast<int>(workers_.size()); }
  // The worker a slot's peer runs on.
  int WorkerOf(int slot) const;

 private:
  struct Slot;
  struct Worker;
  void Notify(int slot, TimePoint ready);
  struct StartRequest;
  void WorkerLoop(Worker& w);
  void Handle(Worker& w, int slot);
  void Step(Worker& w, int slot);
  void Install(Worker& w, StartRequest& r);
  void MakeReady(Worker& w, int slot);
  void Arm(Worker& w, int slot, TimePoint at);
  void FireTimers(Worker& w, TimePoint now);
  void Retire(Worker& w, int slot, Status forced);
  void CloserLoop();

  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::unique_ptr<Worker>> workers_;
  struct Closer;
  std::unique_ptr<Closer> closer_;
};

// The default worker count for n in-process peers: one per CPU core, at most one per peer.
int DefaultInProcThreads(int n);

}  // namespace hearsay
