// TCP transport: Boost.Asio connections between peer processes (docs/wire_format.md).
//
// For every neighbour pair the lower id dials the higher id; one connection carries frames both
// ways. Dialing retries with exponential backoff (connect_backoff_initial_s doubling up to
// connect_backoff_max_s) until Start's deadline, so peers may start in any order. Each new
// connection runs the authenticated handshake of runtime/transport/handshake.h; a configuration
// mismatch (cluster, topology hash, model shape, algorithm, version) or a wrong secret is refused
// with an error naming both sides' values, returned by Start on the side that detects or receives
// the refusal and logged on the other. After the handshake, frames that are truncated,
// oversized, of an unknown kind, mis-addressed or fail their checksum are logged, close that
// connection, and surface as Unavailable from Receive; they are never delivered.
//
// Threading (DESIGN.md): one io_context run by `io_threads` threads owns all sockets; each
// connection's handlers run on its own strand with at most one write in flight. Send encodes the
// frame head and payload checksum on the caller's thread and posts the frame to the connection;
// Receive pops the thread-safe inbox. No Asio type appears in this header.
// Ownership: the transport owns its threads and sockets; Shutdown (or the destructor) joins them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/transport/transport.h"

namespace hearsay {

struct PeerAddress {
  std::string host;  // name or address, e.g. "127.0.0.1"
  uint16_t port = 0;
};

// What both ends of a connection must agree on (compared during the handshake).
struct HandshakeInfo {
  std::string cluster_id;      // refuse peers of another cluster
  uint64_t topology_hash = 0;  // hash of the topology file's fingerprint
  std::string model_shape;     // e.g. "softmax(d=32,k=4,l2=0.0001) params=132"
  std::string algorithm;       // e.g. "dcd/qsgd:8"
};

struct TcpTransportOptions {
  int self = 0;                        // this peer's id
  std::vector<PeerAddress> addresses;  // every node's address, index = peer id
  std::vector<int> neighbors;          // peers exchanged with (both directions), ascending
  HandshakeInfo handshake;
  std::string secret;                       // shared cluster secret ("" = no real authentication)
  uint32_t max_frame_bytes = 1u << 30;      // larger frames are refused (both directions)
  double connect_backoff_initial_s = 0.05;  // first retry delay when a neighbour is not up yet
  double connect_backoff_max_s = 1.0;       // cap of the doubling retry delay
  int io_threads = 1;                       // threads running the network io_context
  // Polled while Start waits for links (at least every 100 ms); once set, Start returns
  // Cancelled. Lets SIGTERM end a peer that is still waiting for its neighbours.
  const std::atomic<bool>* stop = nullptr;
};

// Validates the options (ids in range, neighbours ascending and distinct, addresses present)
// and returns an unstarted transport; Start listens, dials and handshakes.
Result<std::unique_ptr<Transport>> MakeTcpTransport(const TcpTransportOptions& options);

}  // namespace hearsay
