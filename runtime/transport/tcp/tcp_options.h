// Internal to the TCP transport: the checks MakeTcpTransport (tcp_transport.h) runs on its
// options before it makes a transport (no Asio here).
#pragma once

#include "common/status.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay::tcp_internal {

// Ok, or InvalidArgument naming the first bad option; initialises libsodium (InitCrypto) and
// logs the development-secret warning once per process when that secret is accepted.
// Also EnsureDescriptors.
Status ValidateTcpOptions(const TcpTransportOptions& options);

// The open-file limit must cover a socket per neighbour and stream plus some: the soft limit is
// raised to what is needed when the hard limit allows (logged), otherwise ResourceExhausted
// names the numbers and the way out (ulimit -n, fewer streams) -- instead of a start that times
// out while accept fails with "Too many open files".
Status EnsureDescriptors(const TcpTransportOptions& options);

}  // namespace hearsay::tcp_internal
