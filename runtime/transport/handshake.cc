#include "runtime/transport/handshake.h"

#include <cinttypes>
#include <cstdio>

#include "common/logging.h"

namespace hearsay {
namespace {

std::string Quoted(const std::string& s) { return "\"" + EscapeForLog(s) + "\""; }

}  // namespace

std::string Hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
  return buf;
}

std::string ConfigMismatch(const ClusterConfig& theirs, const ClusterConfig& ours) {
  if (theirs.cluster_id != ours.cluster_id) {
    return "cluster id " + Quoted(theirs.cluster_id) + " differs from ours " +
           Quoted(ours.cluster_id);
  }
  if (theirs.topology_hash != ours.topology_hash) {
    return "topology hash " + Hex64(theirs.topology_hash) + " differs from ours " +
           Hex64(ours.topology_hash);
  }
  if (theirs.model_shape != ours.model_shape) {
    return "model shape " + Quoted(theirs.model_shape) + " differs from ours " +
           Quoted(ours.model_shape);
  }
  if (theirs.algorithm != ours.algorithm) {
    return "algorithm " + Quoted(theirs.algorithm) + " differs from ours " + Quoted(ours.algorithm);
  }
  if (theirs.streams != ours.streams) {
    return "streams " + std::to_string(theirs.streams) + " differs from ours " +
           std::to_string(ours.streams) + " (TCP connections per link: every peer needs the same)";
  }
  return "";
}

Handshake::Handshake(HandshakeSetup setup)
    : setup_(std::move(setup)), peer_(setup_.peer), stream_(setup_.stream) {}

const SessionKey& Handshake::send_key() const {
  return setup_.role == HandshakeRole::kDialer ? keys_->dialer_to_acceptor
                                               : keys_->acceptor_to_dialer;
}

const SessionKey& Handshake::receive_key() const {
  return setup_.role == HandshakeRole::kDialer ? keys_->acceptor_to_dialer
                                               : keys_->dialer_to_acceptor;
}

std::string Handshake::Who() const {
  return peer_ >= 0 ? "peer " + std::to_string(peer_) : std::string("an unknown peer");
}

FrameHeader Handshake::Header(FrameKind kind) const {
  FrameHeader h;
  h.kind = kind;
  h.sender = setup_.self;
  h.receiver = peer_;
  return h;
}

HandshakeStep Handshake::Fail(std::string error, bool fatal) {
  state_ = State::kDone;
  HandshakeStep step;
  step.outcome = HandshakeStep::Outcome::kFail;
  step.error = std::move(error);
  step.fatal = fatal;
  return step;
}

HandshakeStep Handshake::Refuse(const std::string& reason, std::string error, bool fatal) {
  HandshakeStep step = Fail(std::move(error), fatal);
  // Once the other side is authenticated the REFUSE is MAC'd, so it can tell a real refusal from
  // a forged one; before that it is plain and the other side treats it as untrusted.
  if (authenticated_) {
    step.reply = Refusal(reason);
  } else {
    ControlFrame refuse{Header(FrameKind::kRefuse), false};
    refuse.header.reason = reason;
    step.reply = std::move(refuse);
  }
  return step;
}

ControlFrame Handshake::Refusal(const std::string& reason) const {
  ControlFrame refuse{Header(FrameKind::kRefuse), true};
  refuse.header.reason = reason;
  return refuse;
}

ControlFrame Handshake::Hello() {
  transcript_.dialer = setup_.self;
  transcript_.acceptor = setup_.peer;
  transcript_.dialer_nonce = MakeNonce();
  state_ = State::kAwaitHello;
  ControlFrame hello{Header(FrameKind::kHello), false};
  hello.header.nonce = transcript_.dialer_nonce;
  return hello;
}

HandshakeStep Handshake::OnFrame(const InFrame& f) {
  if (state_ == State::kDone) return Fail("frame after the handshake ended");
  if (setup_.role == HandshakeRole::kAcceptor && state_ == State::kStart) {
    state_ = State::kAwaitHello;
  }
  if (f.header.kind == FrameKind::kRefuse) return OnRefuse(f);
  switch (state_) {
    case State::kAwaitHello:
      if (f.header.kind == FrameKind::kHello) {
        return setup_.role == HandshakeRole::kAcceptor ? OnHelloAtAcceptor(f) : OnHelloAtDialer(f);
      }
      break;
    case State::kAwaitAuth:
      if (f.header.kind == FrameKind::kAuth) return OnAuth(f);
      break;
    case State::kAwaitWelcome:
      if (f.header.kind == FrameKind::kWelcome) return OnWelcome(f);
      break;
    default:
      break;
  }
  return Fail("unexpected " + FrameKindName(f.header.kind) + " frame during the handshake" +
              (authenticated_ ? "" : " (not authenticated)"));
}

// Acceptor, first frame. Nothing is known about the sender yet: only the ids it claims are
// checked, and a refusal names nothing but those.
HandshakeStep Handshake::OnHelloAtAcceptor(const InFrame& f) {
  const FrameHeader& h = f.header;
  const std::string self = "peer " + std::to_string(setup_.self);
  if (h.receiver != setup_.self) {
    return Refuse("dialed peer " + std::to_string(h.receiver) + " but reached " + self +
                      " (check the addresses)",
                  "a HELLO for peer " + std::to_string(h.receiver) + " reached " + self);
  }
  if (!setup_.may_dial_us || !setup_.may_dial_us(h.sender)) {
    return Refuse("peer " + std::to_string(h.sender) + " may not dial " + self,
                  "peer " + std::to_string(h.sender) + " is not a neighbour that dials " + self);
  }
  if (h.nonce.size() != kNonceBytes) {
    return Fail("HELLO nonce has " + std::to_string(h.nonce.size()) + " bytes, expected " +
                std::to_string(kNonceBytes));
  }
  peer_ = h.sender;
  transcript_ = Transcript{peer_, setup_.self, h.nonce, MakeNonce()};
  keys_ = setup_.key->DeriveSessionKeys(transcript_);
  ControlFrame reply{Header(FrameKind::kHello), false};
  reply.header.nonce = transcript_.acceptor_nonce;
  reply.header.proof = setup_.key->Proof(HandshakeRole::kAcceptor, transcript_);
  state_ = State::kAwaitAuth;
  HandshakeStep step;
  step.reply = std::move(reply);
  return step;
}

// Dialer: the acceptor's answer must prove the secret before we say anything about the cluster.
HandshakeStep Handshake::OnHelloAtDialer(const InFrame& f) {
  const FrameHeader& h = f.header;
  if (h.sender != peer_) {
    return Fail("dialed peer " + std::to_string(peer_) + " but peer " + std::to_string(h.sender) +
                " answered (check the addresses)");
  }
  if (h.receiver != setup_.self) {
    return Fail("peer " + std::to_string(peer_) + " addressed its HELLO to peer " +
                std::to_string(h.receiver));
  }
  if (h.nonce.size() != kNonceBytes) {
    return Fail("HELLO nonce has " + std::to_string(h.nonce.size()) + " bytes, expected " +
                std::to_string(kNonceBytes));
  }
  transcript_.acceptor_nonce = h.nonce;
  if (!BytesEqual(setup_.key->Proof(HandshakeRole::kAcceptor, transcript_), h.proof)) {
    return Refuse("authentication failed: your proof does not match our cluster secret",
                  "authentication failed: " + Who() +
                      "'s proof does not match our cluster secret (is HEARSAY_SECRET or "
                      "secret_file the same on both peers?)");
  }
  authenticated_ = true;
  keys_ = setup_.key->DeriveSessionKeys(transcript_);
  ControlFrame auth{Header(FrameKind::kAuth), true};
  auth.header.proof = setup_.key->Proof(HandshakeRole::kDialer, transcript_);
  auth.header.config = setup_.config;
  auth.header.stream = static_cast<uint32_t>(stream_);
  if (setup_.resume) ours_ = setup_.resume(peer_, stream_);
  SetResume(auth.header, ours_);
  state_ = State::kAwaitWelcome;
  HandshakeStep step;
  step.reply = std::move(auth);
  return step;
}

// Acceptor: the dialer's proof, then (authenticated) its configuration.
HandshakeStep Handshake::OnAuth(const InFrame& f) {
  const FrameHeader& h = f.header;
  if (h.sender != peer_ || h.receiver != setup_.self) {
    return Fail("AUTH frame from peer " + std::to_string(h.sender) + " to peer " +
                std::to_string(h.receiver) + " on the connection of " + Who());
  }
  if (!BytesEqual(setup_.key->Proof(HandshakeRole::kDialer, transcript_), h.proof)) {
    return Refuse("authentication failed: your proof does not match our cluster secret",
                  "authentication failed: " + Who() + "'s proof does not match our cluster secret");
  }
  if (f.mac != MacCheck::kValid) return Fail("AUTH frame from " + Who() + " failed its MAC check");
  authenticated_ = true;
  const std::string self = "peer " + std::to_string(setup_.self);
  if (!h.config) {
    return Refuse("AUTH without a configuration",
                  Who() + " refused by " + self + ": its AUTH carries no configuration", true);
  }
  const std::string mismatch = ConfigMismatch(*h.config, setup_.config);
  if (!mismatch.empty())
    return Refuse(mismatch, Who() + " refused by " + self + ": " + mismatch, true);
  // Same configuration, so the same number of streams: another index is a broken or hostile peer.
  if (h.stream >= setup_.config.streams) {
    const std::string why = "AUTH for stream " + std::to_string(h.stream) + " of a link with " +
                            std::to_string(setup_.config.streams) + " streams";
    return Refuse(why, Who() + " refused by " + self + ": " + why, true);
  }
  stream_ = static_cast<int>(h.stream);
  theirs_ = LinkResume{h.incarnation, h.peer_incarnation, h.ack};
  state_ = State::kDone;
  HandshakeStep step;
  step.outcome = HandshakeStep::Outcome::kOpen;
  ControlFrame welcome{Header(FrameKind::kWelcome), true};
  welcome.header.config = setup_.config;
  welcome.header.stream = h.stream;
  step.reply = std::move(welcome);
  return step;
}

// Dialer: the acceptor accepted; its configuration is checked too (symmetry, and it costs
// nothing).
HandshakeStep Handshake::OnWelcome(const InFrame& f) {
  if (f.mac != MacCheck::kValid) {
    return Fail("WELCOME frame from " + Who() + " failed its MAC check");
  }
  if (!f.header.config) return Fail(Who() + "'s WELCOME carries no configuration", true);
  const std::string mismatch = ConfigMismatch(*f.header.config, setup_.config);
  if (!mismatch.empty()) {
    return Fail("peer " + std::to_string(setup_.self) + " refused " + Who() + ": " + mismatch,
                true);
  }
  if (f.header.stream != static_cast<uint32_t>(stream_)) {
    return Fail(Who() + "'s WELCOME is for stream " + std::to_string(f.header.stream) +
                    ", this connection carries stream " + std::to_string(stream_),
                true);
  }
  theirs_ = LinkResume{f.header.incarnation, f.header.peer_incarnation, f.header.ack};
  state_ = State::kDone;
  HandshakeStep step;
  step.outcome = HandshakeStep::Outcome::kOpen;
  return step;
}

// A REFUSE is trusted (and fatal) only when it carries a valid MAC, i.e. comes from a peer that
// proved the secret; anyone could send a plain one, so that only closes this connection.
HandshakeStep Handshake::OnRefuse(const InFrame& f) {
  const std::string reason = EscapeForLog(f.header.reason);
  const std::string self = "peer " + std::to_string(setup_.self);
  if (f.mac == MacCheck::kValid && keys_) {
    return Fail(self + " refused by " + Who() + ": " + reason, true);
  }
  return Fail(self + " refused by " + Who() + " (not authenticated): " + reason);
}

}  // namespace hearsay
