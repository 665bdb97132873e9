// Who runs a TcpTransport's io_context (docs/wire_format.md "Threads"): Receive, which runs it on
// the calling thread while it waits (and polls it when asked to poll), and the transport's I/O
// thread, which runs it while no thread is in Receive -- when woken (WakeIoThread, WillBeBusy)
// or after a lease without a Receive. A translation unit of its own (one of the four that include
// Asio) to keep tcp_transport.cc (listening, dialing, Start/Send/Shutdown) readable; the state it
// shares with the rest is guarded by drive_mu_ (tcp_transport_impl.h).
#include <exception>
#include <optional>
#include <string>

#include "common/logging.h"
#include "runtime/transport/tcp/tcp_transport_impl.h"

namespace hearsay::tcp_internal {
namespace {

// The transport whose io_ this thread runs inside Receive (arrivals it pushes need no wake-up).
thread_local const TcpTransport* t_receiving = nullptr;

}  // namespace

void TcpTransport::OnInboxPush() {
  // An arrival pushed by another thread than the one waiting in Receive (the I/O thread, a
  // second receiver) wakes the waiting one inside io_.
  if (receivers_.load() > (t_receiving == this ? 1 : 0)) asio::post(io_, [] {});
}

// Connection handlers catch their own exceptions (Connection::Guarded); this is the last line of
// defence for anything else that throws while io_ runs: report it to Start and Receive, keep
// serving the other connections, never let it reach std::terminate.
size_t TcpTransport::RunIoOnce(TimePoint deadline) {
  try {
    return deadline == TimePoint::max() ? io_.run_one() : io_.run_one_until(deadline);
  } catch (...) {
    ReportIoFailure(std::current_exception());
  }
  return 1;
}

void TcpTransport::ReportIoFailure(std::exception_ptr error) {
  std::string what;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an exception that is not a std::exception";
  }
  const std::string msg = name_ + ": an I/O thread of the transport failed: " + what;
  HEARSAY_LOG_ERROR("{}", msg);
  RecordFatal(-1, Internal(msg));
  inbox_.PushError(Internal(msg));
}

void TcpTransport::RunIoThread() {
  std::unique_lock<std::mutex> lock(drive_mu_);
  uint64_t seen = receive_epoch_;
  while (!io_exit_) {
    // No Receive ran io_ since the last look (a lease ago): nobody reads the sockets.
    const bool idle = receive_epoch_ == seen;
    seen = receive_epoch_;
    if (receivers_.load() > 0 || !(io_wanted_ || idle)) {
      drive_cv_.wait_for(lock, Duration(kIoLeaseS));
      continue;
    }
    io_wanted_ = false;
    io_running_ = true;
    lock.unlock();
    bool stopped = false;
    while (receivers_.load() == 0 && !stopped) {
      stopped = RunIoOnce(TimePoint::max()) == 0 && io_.stopped();
    }
    lock.lock();
    io_running_ = false;
    seen = receive_epoch_;
    if (stopped) return;
  }
}

void TcpTransport::WakeIoThread() {
  {
    std::lock_guard<std::mutex> lock(drive_mu_);
    if (io_running_ || receivers_.load() > 0) return;
    io_wanted_ = true;
  }
  drive_cv_.notify_one();
}

void TcpTransport::WillBeBusy(double seconds) {
  if (seconds >= kBusyHandOffS) WakeIoThread();
}

bool TcpTransport::EnterReceive(bool poll) {
  bool kick = false;
  {
    std::lock_guard<std::mutex> lock(drive_mu_);
    if (poll && io_running_) return false;
    receivers_.fetch_add(1);
    ++receive_epoch_;
    kick = io_running_;
  }
  t_receiving = this;
  // The I/O thread steps back once the handler it runs (this one, at the latest) returns.
  if (kick) asio::post(io_, [] {});
  return true;
}

void TcpTransport::PollIo() {
  // RunIoOnce's guard, for every handler that is ready now.
  while (true) {
    try {
      io_.poll();
      return;
    } catch (...) {
      ReportIoFailure(std::current_exception());
    }
  }
}

void TcpTransport::LeaveReceive() {
  t_receiving = nullptr;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(drive_mu_);
    wake = receivers_.fetch_sub(1) == 1 && io_wanted_;
  }
  if (wake) drive_cv_.notify_one();
}

Result<Message> TcpTransport::Receive(TimePoint deadline) {
  if (std::optional<Result<Message>> m = inbox_.TryPop()) return std::move(*m);
  if (!io_started_.load()) return inbox_.Pop(deadline);
  if (deadline <= Now()) {
    // A poll (an asynchronous peer may never wait): read what the sockets hold, without
    // blocking, unless the I/O thread runs the network anyway.
    if (EnterReceive(/*poll=*/true)) {
      PollIo();
      LeaveReceive();
    }
    return inbox_.Pop(deadline);
  }
  EnterReceive(/*poll=*/false);
  std::optional<Result<Message>> m;
  while (!m) {
    const size_t ran = RunIoOnce(deadline);
    m = inbox_.TryPop();
    if (m) break;
    if (ran == 0 && io_.stopped()) {
      m = inbox_.Pop(deadline);  // Shutdown: the inbox is cancelled too
    } else if (ran == 0) {
      // The deadline passed: run_one_until runs nothing once it has, so handlers that deliver
      // nothing (a large frame's chunks, probes, timers) do not keep the caller past it.
      m = Result<Message>(DeadlineExceeded(name_ + ": no message arrived before the deadline"));
    }
  }
  LeaveReceive();
  return std::move(*m);
}

}  // namespace hearsay::tcp_internal
