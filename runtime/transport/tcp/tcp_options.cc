// MakeTcpTransport's option checks (tcp_transport.h): ids, neighbours, identity sizes, limits,
// streams, and the secret rule (the development secret only where every address is loopback).
// Without Asio: a translation unit that builds fast.
#include "runtime/transport/tcp/tcp_options.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <cmath>
#include <mutex>
#include <string>
#include <utility>

#include "common/logging.h"
#include "runtime/transport/auth.h"
#include "runtime/transport/frame.h"

namespace hearsay::tcp_internal {
namespace {

bool IsLoopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// The development secret (or none) protects nothing: it is public. Allowed only when every peer
// is on this machine's loopback interface, where no outsider can connect.
Status CheckSecret(const TcpTransportOptions& options) {
  if (!options.secret.empty() && options.secret != kDevelopmentSecret) return Status::Ok();
  for (size_t i = 0; i < options.addresses.size(); ++i) {
    if (!IsLoopback(options.addresses[i].host)) {
      return InvalidArgument(
          "no cluster secret: peer " + std::to_string(i) + " is at " + options.addresses[i].host +
          ", not a loopback address, so the built-in development secret (or an empty one) would "
          "let anyone who can reach the peers join the run; set HEARSAY_SECRET or `secret_file:` "
          "(docs/security.md)");
    }
  }
  // Listening on a public interface (bind: 0.0.0.0) exposes the peer however it is advertised.
  if (!options.bind.host.empty() && !IsLoopback(options.bind.host)) {
    return InvalidArgument(
        "no cluster secret: this peer listens on " + options.bind.host +
        ", not a loopback address, so the built-in development secret (or an empty one) would "
        "let anyone who can reach it join the run; set HEARSAY_SECRET or `secret_file:` "
        "(docs/security.md)");
  }
  static std::once_flag warned;
  std::call_once(warned, [] {
    HEARSAY_LOG_WARN(
        "no cluster secret configured: using the built-in development secret, accepted only "
        "because every peer address is loopback (set HEARSAY_SECRET or `secret_file:` for real "
        "clusters)");
  });
  return Status::Ok();
}

}  // namespace

Status EnsureDescriptors(const TcpTransportOptions& options) {
  // One socket per neighbour and stream, the listening socket, handshakes in flight (bounded by
  // max_unauthenticated), and room for the peer's files and pipes.
  const uint64_t needed =
      static_cast<uint64_t>(options.neighbors.size()) * static_cast<uint64_t>(options.streams) +
      static_cast<uint64_t>(options.max_unauthenticated) + 64;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY ||
      limit.rlim_cur >= needed) {
    return Status::Ok();
  }
  if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= needed) {
    // Raising the soft limit up to the hard one needs no privilege: do it rather than fail
    // later with "Too many open files" at accept.
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = static_cast<rlim_t>(needed);
    if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      HEARSAY_LOG_INFO(
          "peer {}: raised the open-file limit from {} to {} ({} neighbours x {} "
          "streams)",
          options.self, before, needed, options.neighbors.size(), options.streams);
      return Status::Ok();
    }
  }
  return FailedPrecondition(fmt::format(
      "tcp transport: peer {} needs about {} file descriptors ({} neighbours x {} streams, plus "
      "up to {} handshakes in flight and 64 for files), but its limit is {} (hard limit {}); "
      "raise it (ulimit -n) or use fewer `streams:`",
      options.self, needed, options.neighbors.size(), options.streams, options.max_unauthenticated,
      static_cast<uint64_t>(limit.rlim_cur),
      limit.rlim_max == RLIM_INFINITY ? std::string("unlimited")
                                      : std::to_string(static_cast<uint64_t>(limit.rlim_max))));
}

Status ValidateTcpOptions(const TcpTransportOptions& options) {
  const int n = static_cast<int>(options.addresses.size());
  if (options.self < 0 || options.self >= n) {
    return InvalidArgument("tcp transport: self id " + std::to_string(options.self) +
                           " is outside 0.." + std::to_string(n - 1) + " (" + std::to_string(n) +
                           " addresses given)");
  }
  int prev = -1;
  for (int j : options.neighbors) {
    if (j < 0 || j >= n || j == options.self) {
      return InvalidArgument("tcp transport: peer " + std::to_string(options.self) +
                             " has an invalid neighbour " + std::to_string(j) + " (peers are 0.." +
                             std::to_string(n - 1) + ")");
    }
    if (j <= prev) {
      return InvalidArgument("tcp transport: neighbours of peer " + std::to_string(options.self) +
                             " must be ascending and distinct");
    }
    prev = j;
  }
  for (const auto& [what, value] :
       {std::pair<const char*, const std::string*>{"cluster id", &options.handshake.cluster_id},
        {"model shape", &options.handshake.model_shape},
        {"algorithm label", &options.handshake.algorithm}}) {
    if (value->size() > kMaxIdentityBytes) {
      return InvalidArgument(
          "tcp transport: the " + std::string(what) + " has " + std::to_string(value->size()) +
          " bytes; the handshake carries at most " + std::to_string(kMaxIdentityBytes));
    }
  }
  if (options.max_message_bytes == 0 || options.max_queued_bytes == 0) {
    return InvalidArgument(
        "tcp transport: max_message_bytes and max_queued_bytes must be positive");
  }
  if (!(options.handshake_timeout_s > 0) || !std::isfinite(options.handshake_timeout_s) ||
      !(options.send_timeout_s > 0) || !std::isfinite(options.send_timeout_s)) {
    return InvalidArgument(
        "tcp transport: handshake_timeout_s and send_timeout_s must be positive and finite");
  }
  if (!(options.ping_interval_s >= 0) || !std::isfinite(options.ping_interval_s)) {
    return InvalidArgument("tcp transport: ping_interval_s must be finite and >= 0 (0: no probes)");
  }
  if (options.streams < 1 || options.streams > kMaxTcpStreams) {
    return InvalidArgument("tcp transport: streams must be 1.." + std::to_string(kMaxTcpStreams) +
                           " (TCP connections per link), got " + std::to_string(options.streams));
  }
  if (options.max_unauthenticated < 1) {
    return InvalidArgument("tcp transport: max_unauthenticated must be at least 1");
  }
  if (!(options.connect_backoff_initial_s > 0) ||
      options.connect_backoff_max_s < options.connect_backoff_initial_s) {
    return InvalidArgument(
        "tcp transport: connect backoff must satisfy 0 < initial <= max seconds");
  }
  HEARSAY_RETURN_IF_ERROR(InitCrypto());
  HEARSAY_RETURN_IF_ERROR(CheckSecret(options));
  return EnsureDescriptors(options);
}

}  // namespace hearsay::tcp_internal
