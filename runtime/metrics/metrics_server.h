// MetricsServer: the HTTP endpoint of `hearsay peer --metrics-port` (Prometheus scrapes it).
//
//   GET /metrics  200, Content-Type text/plain; version=0.0.4, the text `render` returns
//   GET /         200, a one-line pointer to /metrics
//   other paths   404;  other methods 405
//
// HTTP/1.1 with keep-alive (Prometheus reuses its connection). Bounded: requests above 8 KiB are
// refused, a connection idle or slow for 10 s is closed, at most 32 connections are served at
// once (more are closed at once). Boost.Beast is used in metrics_server.cc only.
//
// Threading: one I/O thread of its own; `render` runs on it (it must be thread-safe, e.g.
// PeerMetrics::RenderPrometheus). Nothing escapes the thread: a failing `render` gives a 500.
// Ownership: the server owns its thread and sockets; the destructor stops and joins them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace hearsay {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;

  // Listens on host:port (port 0: any free port; port() tells which) and starts serving.
  // Unavailable, naming host:port and the reason, when it cannot listen (the port is in use).
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& host, uint16_t port,
                                                      Render render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const;
  uint64_t requests_served() const;  // requests answered (any status), for tests

  struct Impl;

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearsay
