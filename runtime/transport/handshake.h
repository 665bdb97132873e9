// Handshake: the state machine that authenticates one hearsay connection and checks that both
// ends belong to the same run (docs/wire_format.md "Handshake"). Pure: it consumes parsed frames
// (frame_reader.h) and says what to send and whether the link opens; the TCP connection does the
// I/O, the fuzz target fuzz/frame_fuzz.cc feeds it arbitrary frames.
//
//   dialer (lower id)                           acceptor (higher id)
//   HELLO{nonce_d}                        ->
//                                         <-    HELLO{nonce_a, proof_a}    | REFUSE{reason}
//   AUTH{proof_d, config_d}  (MAC)        ->    (dialer checked proof_a)
//                                         <-    WELCOME{config_a} (MAC)    | REFUSE{reason} (MAC)
//
// Why this order: nothing about the cluster (cluster id, topology hash, model shape, algorithm)
// is sent before the other side has proven the secret -- the acceptor proves it first (proof_a),
// so the dialer's configuration only ever goes to an authenticated acceptor, and the acceptor's
// only to an authenticated dialer. Before authentication a REFUSE carries only facts about the
// frame received (ids, version) and only closes that connection: it can come from anyone. After
// authentication a configuration mismatch is a real misconfiguration of the cluster, so it is
// fatal (`Start` fails on both sides with both values named). Session keys (auth.h) exist from the
// acceptor's HELLO on; AUTH, WELCOME and authenticated REFUSE frames carry a MAC with seq 0, and
// message frames start at seq 1.
// Thread-safety: none; one connection's strand owns it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/transport/auth.h"
#include "runtime/transport/frame.h"
#include "runtime/transport/frame_reader.h"

namespace hearsay {

// Where a link stands, exchanged in AUTH and WELCOME so that a reconnect resumes it exactly
// (docs/wire_format.md "Reconnect"): this side's incarnation, the other side's incarnation it
// knows (0: none) and how many messages it has delivered from that incarnation.
struct LinkResume {
  uint64_t incarnation = 0;
  uint64_t peer_incarnation = 0;
  uint64_t delivered = 0;
};

struct HandshakeSetup {
  HandshakeRole role = HandshakeRole::kDialer;
  int self = -1;
  int peer = -1;  // dialer: the peer dialed; acceptor: -1, learned from the HELLO
  std::shared_ptr<const ClusterKey> key;
  ClusterConfig config;  // ours
  // Acceptor: whether peer j may dial us (a neighbour with a lower id).
  std::function<bool(int)> may_dial_us;
  // Dialer: the link stream this connection carries (0 .. config.streams - 1); acceptor: learned
  // from the AUTH (docs/wire_format.md "Streams").
  int stream = 0;
  // Dialer: the state of (peer, stream)'s link when AUTH is sent (nullptr: a fresh link,
  // incarnation 0).
  std::function<LinkResume(int, int)> resume;
};

// A handshake frame to send; `mac`: append the MAC under the send key with seq 0.
struct ControlFrame {
  FrameHeader header;
  bool mac = false;
};

struct HandshakeStep {
  enum class Outcome {
    kContinue,  // send `reply` if any, wait for the next frame
    kOpen,      // authenticated and agreed: open the link (the acceptor then sends `reply`)
    kFail,      // send `reply` if any (a REFUSE), then close
  };
  Outcome outcome = Outcome::kContinue;
  std::optional<ControlFrame> reply;
  // kFail: why, for the log (remote text escaped); `fatal`: an authenticated peer disagrees with
  // our configuration, so waiting for it is pointless (Start fails with this text).
  std::string error;
  bool fatal = false;
};

// "" when `theirs` may talk to `ours`; otherwise the first difference, written from our side:
// "topology hash 0x1a2b... differs from ours 0x9f8e..." (their text escaped).
std::string ConfigMismatch(const ClusterConfig& theirs, const ClusterConfig& ours);
// "0x" and 16 hex digits.
std::string Hex64(uint64_t v);

class Handshake {
 public:
  explicit Handshake(HandshakeSetup setup);

  // The dialer's first frame.
  ControlFrame Hello();
  // One frame received before the link opened.
  HandshakeStep OnFrame(const InFrame& frame);
  // A MAC'd REFUSE, for refusals the connection decides after authentication (e.g. the link is
  // already up). Requires authenticated().
  ControlFrame Refusal(const std::string& reason) const;

  int peer() const { return peer_; }
  // The link stream this connection carries (acceptor: valid once the AUTH was accepted).
  int stream() const { return stream_; }
  // Once the link opens: what the other side said in its AUTH (dialer's) or WELCOME (acceptor's),
  // and, at the dialer, what it said itself in AUTH. The acceptor fills WELCOME's resume fields
  // (SetResume on the reply) once it has registered the link.
  const LinkResume& theirs() const { return theirs_; }
  const LinkResume& ours() const { return ours_; }
  static void SetResume(FrameHeader& header, const LinkResume& r) {
    header.incarnation = r.incarnation;
    header.peer_incarnation = r.peer_incarnation;
    header.ack = r.delivered;
  }
  // The other side proved the secret.
  bool authenticated() const { return authenticated_; }
  // Session keys exist (from the acceptor's HELLO on); then send_key / receive_key are valid.
  bool keys_ready() const { return keys_.has_value(); }
  const SessionKey& send_key() const;
  const SessionKey& receive_key() const;

 private:
  enum class State { kStart, kAwaitHello, kAwaitAuth, kAwaitWelcome, kDone };

  HandshakeStep OnHelloAtAcceptor(const InFrame& f);
  HandshakeStep OnHelloAtDialer(const InFrame& f);
  HandshakeStep OnAuth(const InFrame& f);
  HandshakeStep OnWelcome(const InFrame& f);
  HandshakeStep OnRefuse(const InFrame& f);
  HandshakeStep Fail(std::string error, bool fatal = false);
  HandshakeStep Refuse(const std::string& reason, std::string error, bool fatal = false);
  FrameHeader Header(FrameKind kind) const;
  std::string Who() const;

  HandshakeSetup setup_;
  State state_ = State::kStart;
  int peer_;
  int stream_;
  bool authenticated_ = false;
  Transcript transcript_;
  std::optional<SessionKeys> keys_;
  LinkResume theirs_, ours_;
};

}  // namespace hearsay
