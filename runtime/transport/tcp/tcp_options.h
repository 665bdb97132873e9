// Internal to the TCP transport: the checks MakeTcpTransport (tcp_transport.h) runs on its
// options before it makes a transport (no Asio here).
#pragma once

#include "common/status.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay::tcp_internal {

// Ok, or InvalidArgument naming the first bad option; initialises libsodium (InitCrypto) and
// logs the development-secret warning once per process when that secret is accepted.
Status ValidateTcpOptions(const TcpTransportOptions& options);

}  // namespace hearsay::tcp_internal
