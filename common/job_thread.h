// JobThread: a thread of its own that runs one job at a time and is kept between jobs. An
// AD-PSGD peer computes on one while its driver keeps answering averaging requests; starting a
// thread per local step cost tens of microseconds, more than a small model's step.
//
// Thread-safety: Start, Wait and busy may be called from any thread, but one job at a time
// (Start after Wait). A job must not throw; if it does, the exception is logged and dropped (the
// thread lives on). The destructor waits for the job in flight and ends the thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace hearsay {

class JobThread {
 public:
  JobThread() = default;
  ~JobThread();
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  // Runs `job` on the thread (started on first use). Requires: no job in flight.
  void Start(std::function<void()> job);
  // Blocks until the job started last has returned (at once when there is none).
  void Wait();
  bool busy() const;

 private:
  void Loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> job_;  // set: a job is in flight (queued or running)
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace hearsay
