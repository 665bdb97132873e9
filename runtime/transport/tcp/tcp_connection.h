// Internal to the TCP transport (not part of the public API; only tcp_connection.cc and
// tcp_transport.cc include it, the two translation units that include Asio): one TCP connection
// between two peers. It runs the authenticated handshake of runtime/transport/handshake.h, then
// framed reads and queued writes (docs/wire_format.md). Frames that are truncated, oversized, of
// an unknown kind, mis-addressed or fail their checksum are logged and close the connection.
//
// Threading: every member below is touched only on the connection's strand (the socket's
// executor), with at most one write in flight. Begin, Enqueue, CloseWhenFlushed and CloseNow may
// be called from any thread: they post to the strand. Calls back into the owning TcpTransport
// (tcp_transport_impl.h) are made on the strand.
// Ownership: pending handlers keep the connection alive (shared_from_this); the transport holds
// open links and outlives the connections' handlers (its io_context is destroyed after them).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>

#include "runtime/transport/frame.h"
#include "runtime/transport/handshake.h"

namespace hearsay::tcp_internal {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

struct OutFrame {
  ByteBuffer head;
  ByteBuffer payload;
  bool counted = false;  // a data frame counted in TcpTransport::pending_frames_
};

class TcpTransport;

// One TCP connection: handshake, then framed reads and queued writes. Every member below is
// touched only on the connection's strand (the socket's executor).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(TcpTransport* owner, tcp::socket socket, HandshakeRole role, int expected_peer)
      : owner_(owner), socket_(std::move(socket)), role_(role), peer_(expected_peer) {}

  void Begin();
  // Any thread: queue a frame (dropped if the connection is closed).
  void Enqueue(OutFrame frame);
  // Any thread: half-close once queued writes are out; the read side runs until the peer's EOF.
  void CloseWhenFlushed();
  // Any thread: close now.
  void CloseNow();
  int peer() const { return peer_; }

 private:
  // kRefused: we sent REFUSE; frames are ignored until the other side closes.
  enum class State { kAwaitHello, kAwaitAuth, kAwaitWelcome, kOpen, kRefused, kClosed };

  void ReadPrefix();
  void ReadBody(const FramePrefix& prefix);
  void OnFrame(const FrameHeader& header, ByteBuffer payload);
  void OnHandshakeFrame(const FrameHeader& header);
  void SendControl(FrameHeader header);
  void Push(OutFrame frame);
  void WriteNext();
  void OnReadError(const ErrorCode& ec);
  void Refuse(const std::string& reason, bool fatal);
  void Fail(const std::string& why, bool log_as_error);
  void Close();
  void HalfCloseIfFlushed();
  std::string Remote() const;

  TcpTransport* const owner_;
  tcp::socket socket_;
  const HandshakeRole role_;
  int peer_;  // -1 until an acceptor has read the dialer's HELLO
  State state_ = State::kAwaitHello;
  std::string our_nonce_, their_nonce_;
  std::array<uint8_t, kFramePrefixBytes> prefix_buf_{};
  ByteBuffer header_buf_;
  ByteBuffer payload_buf_;
  std::deque<OutFrame> queue_;
  bool writing_ = false;
  bool half_close_requested_ = false;
  bool peer_eof_ = false;
  bool done_received_ = false;
  bool registered_ = false;
};

}  // namespace hearsay::tcp_internal
