// Internal to the TCP transport (not part of the public API; only tcp_connection.cc, tcp_io.cc,
// tcp_link.cc and tcp_transport.cc include it, the translation units that include Asio): one TCP
// connection between two peers. It feeds the bytes it reads to a FrameReader (frame_reader.h), runs
// the Handshake state machine (handshake.h) until the link opens, then checks every message frame's
// MAC and sequence number and hands it to the transport's inbox; it writes queued frames with
// vectored writes (docs/wire_format.md). Once open it probes the link's round-trip time: a kPing
// every ping_interval_s carrying this side's clock, answered at once by the other side's read
// handler with a kPong echoing it; neither reaches the inbox (both are numbered and MAC'd like any
// message frame, and the delivered messages are renumbered 1, 2, ... without them).
//
// Threading: every member below is touched only on the connection's strand (the socket's
// executor) -- except the send state (send_mu_): SendMessage numbers, MACs and writes a frame
// from the caller's thread. When no write is in flight and nothing is queued, the frame is written
// at once with a non-blocking sendmsg on the caller's thread (no hand-off to the I/O thread: the
// common case of a peer sending its round's messages); whatever the socket does not take goes to
// the queue, which the strand writes with vectored async writes, at most one in flight. The queue
// and the write flags are guarded by send_mu_, so a direct write and the strand never overlap and
// frames reach the wire in seq order. Begin, CloseWhenFlushed and CloseNow may be called from any
// thread: they post to the strand. Calls back into the owning TcpTransport
// (tcp_transport_impl.h) are made on the strand, or after SendMessage returns.
// Ownership: pending handlers keep the connection alive (shared_from_this); the transport holds
// open links and outlives the connections' handlers (its io_context is destroyed after them).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
#include <vector>

#include <boost/asio.hpp>

#include "runtime/transport/frame.h"
#include "runtime/transport/frame_reader.h"
#include "runtime/transport/handshake.h"

namespace hearsay::tcp_internal {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

struct Unacked;
enum class LinkEnd;

struct OutFrame {
  ByteBuffer head;     // prefix + header
  ByteBuffer payload;  // sent as is (never copied); goes back to the buffer pool once written
  // A message's payload, shared with the link's unacknowledged list (used instead of payload).
  std::shared_ptr<const ByteBuffer> shared;
  MacTag tag{};
  bool has_tag = false;
  bool counted = false;    // a message frame counted in TcpTransport's queue bounds...
  uint64_t accounted = 0;  // ...with this many bytes (the estimate made before encoding)
  uint64_t written = 0;    // bytes of it already on the wire (a partial direct write)
  std::span<const uint8_t> shared_body;  // the bytes of *shared this frame carries
  std::span<const uint8_t> body() const {
    return shared ? shared_body : std::span<const uint8_t>(payload.data(), payload.size());
  }
  uint64_t bytes() const { return head.size() + body().size() + (has_tag ? tag.size() : 0); }
};

// What SendMessage did with a message.
struct SendOutcome {
  uint64_t bytes = 0;    // the frame's size on the wire; 0: the connection is not open
  bool written = false;  // all of it was written at once (not queued: no FramesDone follows)
};

class TcpTransport;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `counted`: an accepted connection counted against the cap on unauthenticated connections
  // until it opens or closes. `stream`: the dialer's stream of the link (an acceptor learns it).
  Connection(TcpTransport* owner, tcp::socket socket, HandshakeRole role, int expected_peer,
             int stream, bool counted);

  void Begin();
  // Any thread, once the link is open (the caller holds the link's mutex, so frames go out in the
  // link's order): frames message u, MACs it and writes it at once when the connection is idle,
  // otherwise queues it (then counted in the transport's pending frames until written). bytes 0:
  // the connection is not open (nothing queued; u stays unacknowledged and is resent on the next
  // connection).
  SendOutcome SendMessage(const Unacked& u);
  // Any thread: close without reporting anything (a newer connection replaced this one).
  void Detach();
  // Any thread: messages of this stream became whole at the receiver (striped messages): send
  // their acknowledgement as MaybeAck would after a delivery of `kind`.
  void AckSoon(MessageKind kind);
  // Any thread: half-close once queued writes are out; the read side runs until the peer's EOF.
  void CloseWhenFlushed();
  // Any thread: close now.
  void CloseNow();

 private:
  // Round-trip probes (strand). SendProbe numbers and queues a kPing/kPong like SendMessage,
  // uncounted in the queue bounds and totals; nothing once DONE/FAILED went out.
  void SchedulePing(double delay_s);
  void SendProbe(MessageKind kind, ByteBuffer payload);
  void OnPong(const ByteBuffer& payload);
  // After a delivery: acknowledge now (kAck) when much is unacknowledged or the message ended the
  // stream, otherwise within kAckDelay unless another frame carries the ack first.
  void MaybeAck(MessageKind delivered_kind, uint64_t wire_bytes);
  // The link's delivered count for an outgoing frame's ack field (recorded as sent).
  uint64_t TakeAck();

  // kRefused: we sent REFUSE; reads are discarded until the other side closes (or the handshake
  // timer fires), so the REFUSE is read rather than lost to a reset.
  enum class State { kHandshake, kOpen, kRefused, kClosed };

  // Reading.
  void ReadMore();
  void OnRead(const ErrorCode& ec, size_t n);
  void OnHandshakeFrame(const InFrame& frame);
  void OnMessageFrame(InFrame frame);
  void OnReadError(const ErrorCode& ec);
  // Handshake outcomes.
  void ApplyStep(HandshakeStep step);
  void OpenLink(std::optional<ControlFrame> welcome);
  void EndHandshake(const HandshakeStep& step);
  void OnHandshakeTimeout();
  void LeaveHandshakeCount();
  // Writing.
  OutFrame ControlOut(const ControlFrame& frame);
  void SendControl(const ControlFrame& frame);
  void Push(OutFrame frame);
  // send_mu_ held: writes f at once if the connection is idle and its socket takes all of it
  // (true), else queues what is left of it and has the strand write it (false).
  bool WriteOrQueue(OutFrame& f);
  void WriteNext();
  void OnWritten(const ErrorCode& ec);
  void HalfCloseIfFlushed();
  // Ending. Fail: an I/O failure (`violation` false: the link reconnects) or a protocol violation
  // (the link ends for good); `log_as_error` for the log level.
  void Fail(const std::string& why, bool log_as_error, bool violation = false);
  void Close(LinkEnd end, const std::string& why = "");
  // Runs a handler body; an exception (e.g. std::bad_alloc) fails this connection cleanly instead
  // of escaping into the I/O thread.
  template <typename F>
  void Guarded(F&& body);
  std::string Who() const;

  TcpTransport* const owner_;
  tcp::socket socket_;
  const HandshakeRole role_;
  const std::string remote_;  // "address:port", captured while the socket is connected
  std::atomic<int> peer_;     // -1 until an acceptor has read the dialer's HELLO
  std::atomic<int> stream_;   // the link's stream (an acceptor's: set from the dialer's AUTH)
  Handshake handshake_;
  FrameReader reader_;
  bool keyed_ = false;  // reader_ has the receive key
  State state_ = State::kHandshake;
  asio::steady_timer handshake_timer_;
  asio::steady_timer ping_timer_;
  asio::steady_timer ack_timer_;
  bool ack_timer_armed_ = false;
  uint64_t bytes_since_ack_ = 0;
  bool counted_ = false;
  bool detached_ = false;

  std::vector<asio::const_buffer> write_buffers_;  // the async write's; strand, while writing_
  bool half_close_requested_ = false;
  bool peer_eof_ = false;
  bool done_received_ = false;  // DONE or FAILED received: the peer's EOF is a normal end
  bool registered_ = false;
  uint64_t last_seq_ = 0;  // last frame seq received on this connection (probes included)
  uint64_t rx_next_ = 1;   // the link number of the next message frame (RegisterLink)

  std::mutex send_mu_;
  bool send_open_ = false;   // guarded by send_mu_
  SessionKey send_key_{};    // guarded by send_mu_
  uint64_t send_seq_ = 0;    // guarded by send_mu_
  bool final_sent_ = false;  // DONE or FAILED queued: no probes but acks after it; send_mu_
  // The write side, guarded by send_mu_ (written by the strand and by direct writes).
  std::deque<OutFrame> queue_;
  size_t in_flight_ = 0;      // frames of queue_'s front being written by the strand
  bool writing_ = false;      // an async write is in flight
  bool hold_writes_ = false;  // while the link opens: frames queue (the WELCOME goes first)
  bool send_shut_ = false;    // the send side is shut down (half-close or close): nothing goes
};

template <typename F>
void Connection::Guarded(F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    Fail(std::string("internal error in the connection's handler: ") + e.what(), true);
  }
}

}  // namespace hearsay::tcp_internal
