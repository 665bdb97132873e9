#include "runtime/launch/peer_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <queue>
#include <thread>
#include <utility>

#include "common/job_thread.h"
#include "common/logging.h"
#include "runtime/peer/peer.h"
#include "runtime/transport/transport.h"

namespace hearsay {
namespace {

// Every peer is looked at least this often, whatever arrives (its stop, kill and pause flags).
constexpr double kPollSeconds = 0.2;
// A transport that cannot notify arrivals is polled this often while its peer waits.
constexpr double kNoNotifierPollSeconds = 0.001;

struct Timer {
  TimePoint at;
  int slot;
  // A release time the transport notified (a held arrival): fires whatever the peer's own timer.
  bool release = false;
  bool operator>(const Timer& o) const { return at > o.at || (at == o.at && slot > o.slot); }
};

}  // namespace

struct PeerPool::Slot {
  // An immediate arrival is already in the worker's list (notifications of a burst collapse).
  // Written by senders on other threads: a cache line of its own, away from the worker's fields.
  alignas(64) std::atomic<bool> queued{false};
  // The rest belongs to the worker's thread.
  alignas(64) int worker = 0;
  enum class State : uint8_t { kEmpty, kRunning, kComputing, kClosed };
  State state = State::kEmpty;
  std::unique_ptr<Peer> peer;
  std::unique_ptr<Transport> transport;
  Done done;
  bool notifies = false;  // the transport calls Notify on arrivals
  bool in_ready = false;  // in the worker's ready queue
  // The peer's timer (TimePoint::max(): none), and the times of its timer entries in the
  // worker's heap, ascending: a new entry is pushed only for an earlier time than those queued,
  // and an entry that pops early re-arms (as the simulator's ArmTimer), so a wait per round does
  // not leave a stale entry per round in the heap.
  TimePoint want = TimePoint::max();
  std::vector<TimePoint> queued_at;
  // kComputing: the straggler's extra time ends at busy_until; a job on a thread of its own
  // (ServesDuringCompute) reports its end through job_done and Notify.
  TimePoint busy_until{};
  JobThread job;             // kept for the peer's every job
  bool job_running = false;  // a job was started and not waited for yet
  std::atomic<bool> job_done{false};
  double job_busy = 0;
};

struct PeerPool::StartRequest {
  int slot;
  std::unique_ptr<Peer> peer;
  std::unique_ptr<Transport> transport;
  Done done;
};

struct PeerPool::Worker {
  struct Arrival {
    int slot;
    TimePoint ready;
    bool immediate;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Arrival> arrivals;        // mu
  std::vector<StartRequest> starts;     // mu
  bool sleeping = false, quit = false;  // mu
  std::thread thread;
  // The worker thread's own.
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::deque<int> ready;
  std::vector<int> live;
};

struct PeerPool::Closer {
  struct Closing {
    std::unique_ptr<Transport> transport;
    std::unique_ptr<Peer> peer;  // destroyed first
    Done done;
    Status forced;  // the pool's own failure for this peer (else the peer's status)
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Closing> queue;  // mu
  bool quit = false;          // mu
  std::thread thread;
};

int DefaultInProcThreads(int n) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::clamp(cores, 1, std::max(1, n));
}

PeerPool::PeerPool(int slots, int workers) : closer_(std::make_unique<Closer>()) {
  slots = std::max(1, slots);
  workers = std::clamp(workers, 1, slots);
  for (int i = 0; i < slots; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->worker = static_cast<int>(static_cast<int64_t>(i) * workers / slots);
  }
  for (int k = 0; k < workers; ++k) workers_.push_back(std::make_unique<Worker>());
  for (auto& w : workers_) {
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { WorkerLoop(*raw); });
  }
  closer_->thread = std::thread([this] { CloserLoop(); });
}

PeerPool::~PeerPool() {
  for (auto& w : workers_) {
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->quit = true;
    }
    w->cv.notify_one();
  }
  for (auto& w : workers_) w->thread.join();
  {
    std::lock_guard<std::mutex> lock(closer_->mu);
    closer_->quit = true;
  }
  closer_->cv.notify_one();
  closer_->thread.join();
  for (auto& s : slots_) {
    s->job.Wait();  // only if the pool is torn down mid-run
  }
}

int PeerPool::WorkerOf(int slot) const { return slots_.at(slot)->worker; }

void PeerPool::Start(int slot, std::unique_ptr<Peer> peer, std::unique_ptr<Transport> transport,
                     Done done) {
  Worker& w = *workers_[slots_.at(slot)->worker];
  {
    std::lock_guard<std::mutex> lock(w.mu);
    w.starts.push_back({slot, std::move(peer), std::move(transport), std::move(done)});
  }
  w.cv.notify_one();
}

void PeerPool::Notify(int slot, TimePoint ready) {
  Slot& s = *slots_[slot];
  const bool immediate = ready == TimePoint() || ready <= Now();
  if (immediate && s.queued.exchange(true, std::memory_order_acq_rel)) return;
  Worker& w = *workers_[s.worker];
  bool wake;
  {
    std::lock_guard<std::mutex> lock(w.mu);
    w.arrivals.push_back({slot, ready, immediate});
    wake = w.sleeping;
    w.sleeping = false;  // one wake-up is enough
  }
  // From the worker's own thread (a peer sending to a peer of the same worker) it is awake.
  if (wake) w.cv.notify_one();
}

void PeerPool::Install(Worker& w, StartRequest& r) {
  const int slot = r.slot;
  Slot& s = *slots_[slot];
  s.peer = std::move(r.peer);
  s.transport = std::move(r.transport);
  s.done = std::move(r.done);
  s.state = Slot::State::kRunning;
  s.want = TimePoint::max();
  w.live.push_back(slot);
  try {
    s.notifies = s.transport->SetArrivalNotifier([this, slot](TimePoint at) { Notify(slot, at); });
    s.peer->Open(*s.transport);  // never throws
  } catch (const std::exception& e) {
    Retire(w, slot, Internal("in-process driver: " + std::string(e.what())));
    return;
  }
  MakeReady(w, slot);
}

void PeerPool::MakeReady(Worker& w, int slot) {
  Slot& s = *slots_[slot];
  if (s.in_ready) return;
  s.in_ready = true;
  w.ready.push_back(slot);
}

void PeerPool::Arm(Worker& w, int slot, TimePoint at) {
  Slot& s = *slots_[slot];
  s.want = at;
  if (at == TimePoint::max()) return;
  if (s.queued_at.empty() || at < s.queued_at.front()) {
    s.queued_at.insert(s.queued_at.begin(), at);
    w.timers.push({at, slot});
  }
}

void PeerPool::FireTimers(Worker& w, TimePoint now) {
  while (!w.timers.empty() && w.timers.top().at <= now) {
    const int slot = w.timers.top().slot;
    const bool release = w.timers.top().release;
    w.timers.pop();
    if (release) {
      MakeReady(w, slot);
      continue;
    }
    Slot& s = *slots_[slot];
    // Entries pop in time order: this one is the earliest of the slot's.
    if (!s.queued_at.empty()) s.queued_at.erase(s.queued_at.begin());
    if (s.want <= now) {
      s.want = TimePoint::max();
      MakeReady(w, slot);
    } else if (s.want != TimePoint::max()) {
      const TimePoint at = s.want;
      Arm(w, slot, at);  // early: the peer's timer moved later since this entry was queued
    }
  }
}

void PeerPool::WorkerLoop(Worker& w) {
  std::vector<Worker::Arrival> arrivals;
  std::vector<StartRequest> starts;
  TimePoint next_poll = DeadlineIn(kPollSeconds);
  while (true) {
    try {
      {
        std::unique_lock<std::mutex> lock(w.mu);
        while (w.ready.empty() && w.arrivals.empty() && w.starts.empty() && !w.quit) {
          TimePoint until = next_poll;
          if (!w.timers.empty()) until = std::min(until, w.timers.top().at);
          if (Now() >= until) break;
          w.sleeping = true;
          w.cv.wait_until(lock, until);
          w.sleeping = false;
        }
        if (w.quit) return;
        arrivals.swap(w.arrivals);
        starts.swap(w.starts);
      }
      for (StartRequest& r : starts) Install(w, r);
      starts.clear();
      for (const Worker::Arrival& a : arrivals) {
        if (a.immediate) {
          // An exchange, not a store: a read-modify-write ordered with the notifier's, so that
          // what a collapsed notification announced (a job's end, job_done) is visible to Step.
          (void)slots_[a.slot]->queued.exchange(false, std::memory_order_acq_rel);
          MakeReady(w, a.slot);
        } else {
          w.timers.push({a.ready, a.slot, /*release=*/true});
        }
      }
      arrivals.clear();
      const TimePoint now = Now();
      FireTimers(w, now);
      if (now >= next_poll) {
        for (int slot : w.live) MakeReady(w, slot);
        next_poll = now + std::chrono::duration_cast<SteadyClock::duration>(Duration(kPollSeconds));
      }
      // One turn for each peer that is ready now; what becomes ready meanwhile waits its turn.
      for (size_t k = w.ready.size(); k > 0; --k) {
        const int slot = w.ready.front();
        w.ready.pop_front();
        slots_[slot]->in_ready = false;
        Handle(w, slot);
      }
    } catch (const std::exception& e) {
      // The pool's own failure (memory): logged; the peers' own failures never get here.
      HEARSAY_LOG_ERROR("in-process worker: {}", e.what());
    }
  }
}

void PeerPool::Handle(Worker& w, int slot) {
  Slot& s = *slots_[slot];
  try {
    Step(w, slot);
  } catch (const std::exception& e) {
    if (s.state == Slot::State::kRunning || s.state == Slot::State::kComputing) {
      s.job.Wait();
      s.job_running = false;
      Retire(w, slot, Internal("in-process driver: " + std::string(e.what())));
    }
  }
}

void PeerPool::Step(Worker& w, int slot) {
  Slot& s = *slots_[slot];
  switch (s.state) {
    case Slot::State::kEmpty:
    case Slot::State::kClosed:
      return;
    case Slot::State::kComputing:
      if (s.job_running) {
        if (!s.job_done.load(std::memory_order_acquire)) {
          s.peer->Serve(*s.transport, TimePoint());
          return;
        }
        s.job.Wait();
        s.job_running = false;
        if (s.job_busy > 0) s.busy_until = DeadlineIn(s.job_busy);
      }
      if (Now() < s.busy_until) {
        if (s.peer->ServesDuringCompute()) s.peer->Serve(*s.transport, TimePoint());
        Arm(w, slot, s.busy_until);
        return;
      }
      s.state = Slot::State::kRunning;
      break;
    case Slot::State::kRunning:
      break;
  }
  s.want = TimePoint::max();
  const Peer::Next next = s.peer->Pump(*s.transport);
  switch (next.kind) {
    case Peer::Next::Kind::kDone:
      Retire(w, slot, Status::Ok());
      return;
    case Peer::Next::Kind::kPaused:
      Arm(w, slot, next.at);
      return;
    case Peer::Next::Kind::kWait:
      Arm(w, slot, s.notifies ? next.at : std::min(next.at, DeadlineIn(kNoNotifierPollSeconds)));
      return;
    case Peer::Next::Kind::kCompute:
      break;
  }
  if (s.peer->ServesDuringCompute()) {
    // The job on a thread of its own; the worker serves the peer's messages meanwhile.
    s.state = Slot::State::kComputing;
    s.busy_until = TimePoint();
    s.job_busy = 0;
    s.job_done.store(false, std::memory_order_relaxed);
    Peer* peer = s.peer.get();
    s.job_running = true;
    s.job.Start([this, slot, peer, &s] {
      s.job_busy = peer->Compute();  // never throws
      s.job_done.store(true, std::memory_order_release);
      Notify(slot, TimePoint());
    });
    return;
  }
  const double busy = s.peer->Compute();
  if (busy > 0) {
    s.state = Slot::State::kComputing;
    s.busy_until = DeadlineIn(busy);
    Arm(w, slot, s.busy_until);
    return;
  }
  MakeReady(w, slot);  // to the back of the queue: the worker's other peers get their turn
}

void PeerPool::Retire(Worker& w, int slot, Status forced) {
  Slot& s = *slots_[slot];
  s.state = Slot::State::kClosed;
  s.want = TimePoint::max();
  w.live.erase(std::find(w.live.begin(), w.live.end(), slot));
  {
    std::lock_guard<std::mutex> lock(closer_->mu);
    closer_->queue.push_back(
        {std::move(s.transport), std::move(s.peer), std::move(s.done), std::move(forced)});
  }
  closer_->cv.notify_one();
}

void PeerPool::CloserLoop() {
  while (true) {
    Closer::Closing c;
    {
      std::unique_lock<std::mutex> lock(closer_->mu);
      closer_->cv.wait(lock, [&] { return closer_->quit || !closer_->queue.empty(); });
      if (closer_->queue.empty()) return;
      c = std::move(closer_->queue.front());
      closer_->queue.pop_front();
    }
    Status status;
    try {
      status = c.peer->Close(*c.transport);
    } catch (const std::exception& e) {
      status = Internal(std::string("closing a peer: ") + e.what());
    }
    if (!c.forced.ok()) status = c.forced;
    try {
      if (c.done) c.done(status, *c.peer);
    } catch (const std::exception& e) {
      HEARSAY_LOG_ERROR("in-process closer: {}", e.what());
    }
  }
}

}  // namespace hearsay
