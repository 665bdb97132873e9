#include "common/job_thread.h"

#include <exception>
#include <utility>

#include "common/logging.h"

namespace hearsay {

JobThread::~JobThread() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !job_; });
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JobThread::Start(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = std::move(job);
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }
  cv_.notify_all();
}

void JobThread::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !job_; });
}

bool JobThread::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<bool>(job_);
}

void JobThread::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || job_; });
    if (!job_) return;  // stop_, nothing in flight
    std::function<void()> job = job_;
    lock.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      HEARSAY_LOG_ERROR("a job thread's job threw: {}", e.what());
    } catch (...) {
      HEARSAY_LOG_ERROR("a job thread's job threw an exception that is not a std::exception");
    }
    lock.lock();
    job_ = nullptr;
    cv_.notify_all();
  }
}

}  // namespace hearsay
