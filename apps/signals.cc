#include "apps/signals.h"

#include <csignal>

namespace hearsay::apps {
namespace {

std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_signal = 0;

extern "C" void OnStopSignal(int sig) {
  g_signal = sig;
  g_stop.store(true);
}

}  // namespace

const std::atomic<bool>& InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return g_stop;
}

int StopSignal() { return g_signal; }

}  // namespace hearsay::apps
