// TCP transport: Boost.Asio connections between peer processes (docs/wire_format.md,
// docs/security.md).
//
// For every neighbour pair the lower id dials the higher id; one connection carries frames both
// ways. Dialing retries with exponential backoff (connect_backoff_initial_s doubling up to
// connect_backoff_max_s) until Start's deadline, so peers may start in any order. Each new
// connection runs the authenticated handshake of runtime/transport/handshake.h within
// handshake_timeout_s. An authenticated peer whose configuration differs (cluster, topology hash,
// model shape, algorithm) is refused with an error naming both sides' values, returned by Start on
// both sides. Anything unauthenticated -- a wrong secret, a forged HELLO or REFUSE, junk -- only
// closes that connection (logged, rate-limited, remote text escaped); Start keeps waiting for the
// real neighbour and names the last failure if it times out. After the handshake every frame
// carries a MAC under a per-connection session key and a per-direction sequence number; a frame
// that is malformed, mis-addressed, fails its MAC or is out of sequence ends the link for good
// (a kLinkDown from Receive); it is never delivered. A connection that merely breaks is redialed
// and resumed: messages are numbered per link, kept until acknowledged, resent on the next
// connection and deduplicated, so each is delivered exactly once, in order; a new process with
// the neighbour's id (a restart) replaces the link (docs/wire_format.md "Reconnect").
//
// Resources are bounded: at most max_unauthenticated connections in the handshake at a time
// (more are closed at once); payloads above max_message_bytes are refused before anything is
// allocated, larger ones are read in chunks into pooled buffers; Send blocks (backpressure) while
// more than max_queued_bytes wait to be written to one neighbour, and fails with Unavailable if
// they do not drain within send_timeout_s; accept errors (EMFILE) back off up to 1 s with
// rate-limited logging. An exception inside an I/O handler fails that connection; one escaping an
// I/O thread is reported through Receive. None ends the process.
//
// Threading (DESIGN.md): one io_context owns all sockets; each connection's handlers run on its
// own strand with at most one write in flight. Send numbers the frame and computes its MAC on the
// caller's thread, and writes it at once when the connection is idle (else posts it to the
// connection). The thread waiting in Receive runs the network itself while it waits: it reads,
// checks and returns the message without any hand-off between threads. While no thread waits in
// Receive the transport's own I/O thread runs it -- at once when a frame is queued, during Start
// and Shutdown, and when the receiving thread says it will be busy (WillBeBusy, e.g. a compute
// step longer than kBusyHandOffS), else after a short lease (kIoLeaseS) -- so acknowledgements,
// round-trip probes and reads go on while a peer computes. No Asio type appears in this header.
// Ownership: the transport owns its threads and sockets; Shutdown (or the destructor) joins them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/transport/secret.h"  // kDevelopmentSecret
#include "runtime/transport/transport.h"

namespace hearsay {

inline constexpr int kMaxTcpStreams = 16;
// WillBeBusy(seconds) hands the network to the I/O thread for at least this long a busy spell
// (shorter ones: what arrives meanwhile waits in the kernel until the next Receive).
inline constexpr double kBusyHandOffS = 200e-6;
// The I/O thread takes the network after at most about two leases without a Receive.
inline constexpr double kIoLeaseS = 0.010;

struct PeerAddress {
  std::string host;  // name or address, e.g. "127.0.0.1"
  uint16_t port = 0;
};

// What both ends of a connection must agree on (compared during the handshake, after both sides
// proved the secret). Each string is at most kMaxIdentityBytes (frame.h) long.
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
  // Where this peer listens when that is not addresses[self] (a container, NAT, 0.0.0.0): host
  // "" = addresses[self].host, port 0 = addresses[self].port. Others still dial addresses[self].
  PeerAddress bind;
  HandshakeInfo handshake;
  // Shared cluster secret. "" or kDevelopmentSecret are accepted only when every address is a
  // loopback address (then a warning is logged once per process); anything else is refused.
  std::string secret;
  // Largest payload accepted or sent, checked before anything is allocated. Peers set it from
  // their model size (the largest message their algorithm can produce); 256 MiB otherwise.
  uint32_t max_message_bytes = 256u << 20;
  // Per neighbour: Send blocks while more than this many bytes wait to be written to it...
  uint64_t max_queued_bytes = 256u << 20;
  double send_timeout_s = 60;       // ...and returns Unavailable if they do not drain in this time
  double handshake_timeout_s = 10;  // a connection not authenticated by then is closed
  int max_unauthenticated = 64;     // connections in the handshake at once; more are closed
  size_t buffer_pool_bytes = 256u << 20;    // receive/send buffers kept for reuse (BufferPool)
  double connect_backoff_initial_s = 0.05;  // first retry delay when a neighbour is not up yet
  double connect_backoff_max_s = 1.0;       // cap of the doubling retry delay
  // A link that breaks (EOF, reset, write error) before the neighbour said DONE or FAILED is
  // redialed (the lower id dials) with the same backoff for as long as this transport runs;
  // unacknowledged messages are resent on the new connection and duplicates dropped, so every
  // message is delivered exactly once, in order (docs/wire_format.md "Reconnect"). If the link
  // is not back within this many seconds, Receive gets a kLinkDown with tag 1 (the neighbour may
  // still return). Messages sent meanwhile wait, up to max_queued_bytes.
  double reconnect_grace_s = 1.0;
  // > 0: Start also returns once this many seconds have passed with at least one link up (a
  // restarted peer whose other neighbours are down; their links come up when they return). 0:
  // Start waits for every link.
  double start_with_some_after_s = 0;
  // Neighbours Start does not wait for (late joiners: their links come up when they start).
  std::vector<int> late_neighbors;
  double late_backoff_max_s = 0.2;  // cap of the retry delay to a late joiner (cheap refusals)
  // TCP connections per link, 1..kMaxTcpStreams (`streams:`): messages of at least 128 KiB are
  // striped over them in parts of at least 64 KiB and reassembled in order at the receiver, for
  // long fat pipes where one connection's window limits the throughput (docs/wire_format.md
  // "Streams"). Each stream reconnects and resends on its own. Every peer of a run needs the same
  // value (checked in the handshake).
  int streams = 1;
  // Round-trip probes: each open link sends a kPing this often (the first when it opens) and
  // the transport keeps a smoothed RTT per neighbour (TransportStats::rtt_s). 0: none.
  double ping_interval_s = 1.0;
  // Polled while Start waits for links (at least every 100 ms); once set, Start returns
  // Cancelled. Lets SIGTERM end a peer that is still waiting for its neighbours.
  const std::atomic<bool>* stop = nullptr;
};

// Validates the options (ids in range, neighbours ascending and distinct, addresses present,
// handshake identity fields at most kMaxIdentityBytes, limits positive, a real secret unless every
// address is loopback) and returns an unstarted transport; Start listens, dials and handshakes.
Result<std::unique_ptr<Transport>> MakeTcpTransport(const TcpTransportOptions& options);

}  // namespace hearsay
