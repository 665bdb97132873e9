// The handshake state machine (runtime/transport/handshake.h), driven without sockets: frames go
// through the real encoder and FrameReader, so MACs are checked as on the wire.
#include "runtime/transport/handshake.h"

#include <gtest/gtest.h>

#include <string>

namespace hearsay {
namespace {

ClusterConfig Config() {
  return ClusterConfig{"test-cluster", 0x1234abcd5678ef00ull, "softmax(d=4,k=2) params=10",
                       "dpsgd"};
}

HandshakeSetup MakeSetup(HandshakeRole role, int self, int peer, const std::string& secret,
                         ClusterConfig config = Config()) {
  HandshakeSetup s;
  s.role = role;
  s.self = self;
  s.peer = peer;
  s.key = std::make_shared<const ClusterKey>(secret);
  s.config = std::move(config);
  s.may_dial_us = [self](int j) { return j == 0 && self == 1; };
  return s;
}

// One side of a connection: its state machine and the reader of what it receives.
struct Side {
  explicit Side(HandshakeSetup s) : hs(std::move(s)) {}
  Handshake hs;
  FrameReader reader;
  ByteBuffer last_bytes;  // the bytes of the last frame delivered to this side

  // Delivers `cf`, sent by `from`, through the encoder and this side's reader.
  HandshakeStep Receive(const ControlFrame& cf, const Handshake& from) {
    ByteBuffer bytes = EncodeFrameHead(cf.header, 0, cf.mac);
    if (cf.mac) {
      const MacTag tag = ComputeFrameMac(from.send_key(), cf.header.seq, bytes, {});
      bytes.insert(bytes.end(), tag.begin(), tag.end());
    }
    return ReceiveBytes(bytes);
  }
  HandshakeStep ReceiveBytes(const ByteBuffer& bytes) {
    last_bytes = bytes;
    const std::span<uint8_t> space = reader.ReadSpace();
    std::memcpy(space.data(), bytes.data(), bytes.size());
    reader.Commit(bytes.size());
    InFrame f;
    Result<bool> next = reader.Next(&f);
    EXPECT_TRUE(next.ok() && *next) << next.status().ToString();
    HandshakeStep step = hs.OnFrame(f);
    if (hs.keys_ready()) reader.set_receive_key(hs.receive_key());
    return step;
  }
};

std::string Text(const ByteBuffer& b) { return std::string(b.begin(), b.end()); }

TEST(Handshake, AgreeingPeersOpenWithMatchingKeysAndRevealNothingFirst) {
  Side dialer(MakeSetup(HandshakeRole::kDialer, 0, 1, "s3cret"));
  Side acceptor(MakeSetup(HandshakeRole::kAcceptor, 1, -1, "s3cret"));
  const ControlFrame hello = dialer.hs.Hello();
  HandshakeStep a1 = acceptor.Receive(hello, dialer.hs);
  ASSERT_EQ(a1.outcome, HandshakeStep::Outcome::kContinue) << a1.error;
  ASSERT_TRUE(a1.reply.has_value());
  // Neither HELLO says anything about the cluster.
  for (const ByteBuffer& bytes :
       {acceptor.last_bytes, EncodeFrameHead(a1.reply->header, 0, false)}) {
    const std::string text = Text(bytes);
    for (const std::string secret_info : {"test-cluster", "softmax", "dpsgd"}) {
      EXPECT_EQ(text.find(secret_info), std::string::npos) << secret_info;
    }
  }
  EXPECT_FALSE(acceptor.hs.authenticated());
  HandshakeStep d1 = dialer.Receive(*a1.reply, acceptor.hs);
  ASSERT_EQ(d1.outcome, HandshakeStep::Outcome::kContinue) << d1.error;
  EXPECT_TRUE(dialer.hs.authenticated());
  ASSERT_TRUE(d1.reply && d1.reply->mac && d1.reply->header.kind == FrameKind::kAuth);
  HandshakeStep a2 = acceptor.Receive(*d1.reply, dialer.hs);
  ASSERT_EQ(a2.outcome, HandshakeStep::Outcome::kOpen) << a2.error;
  EXPECT_TRUE(acceptor.hs.authenticated());
  ASSERT_TRUE(a2.reply && a2.reply->header.kind == FrameKind::kWelcome);
  HandshakeStep d2 = dialer.Receive(*a2.reply, acceptor.hs);
  ASSERT_EQ(d2.outcome, HandshakeStep::Outcome::kOpen) << d2.error;
  EXPECT_EQ(dialer.hs.send_key(), acceptor.hs.receive_key());
  EXPECT_EQ(acceptor.hs.send_key(), dialer.hs.receive_key());
  EXPECT_NE(dialer.hs.send_key(), dialer.hs.receive_key());
  EXPECT_EQ(acceptor.hs.peer(), 0);
}

// Runs the handshake until one side fails; returns {dialer's last step, acceptor's last step}.
std::pair<HandshakeStep, HandshakeStep> RunUntilFailure(Side& dialer, Side& acceptor) {
  HandshakeStep a = acceptor.Receive(dialer.hs.Hello(), dialer.hs);
  if (a.outcome == HandshakeStep::Outcome::kFail) {
    HandshakeStep d = a.reply ? dialer.Receive(*a.reply, acceptor.hs) : HandshakeStep{};
    return {d, a};
  }
  HandshakeStep d = dialer.Receive(*a.reply, acceptor.hs);
  if (d.outcome == HandshakeStep::Outcome::kFail) {
    HandshakeStep a2 = d.reply ? acceptor.Receive(*d.reply, dialer.hs) : HandshakeStep{};
    return {d, a2};
  }
  a = acceptor.Receive(*d.reply, dialer.hs);
  d = dialer.Receive(*a.reply, acceptor.hs);
  return {d, a};
}

TEST(Handshake, AuthenticatedMismatchIsFatalOnBothSidesNamingBothValues) {
  struct Case {
    ClusterConfig theirs;
    std::vector<std::string> named;
  };
  ClusterConfig topo = Config(), cluster = Config(), model = Config(), algo = Config();
  topo.topology_hash = 0x9f8e;
  cluster.cluster_id = "other-cluster";
  model.model_shape = "mlp params=99";
  algo.algorithm = "choco/qsgd:4";
  for (const Case& c : {Case{topo, {"topology hash", "0x1234abcd5678ef00", "0x0000000000009f8e"}},
                        Case{cluster, {"cluster id", "test-cluster", "other-cluster"}},
                        Case{model, {"model shape", "mlp params=99"}},
                        Case{algo, {"algorithm", "dpsgd", "choco/qsgd:4"}}}) {
    Side dialer(MakeSetup(HandshakeRole::kDialer, 0, 1, "s3cret"));
    Side acceptor(MakeSetup(HandshakeRole::kAcceptor, 1, -1, "s3cret", c.theirs));
    auto [d, a] = RunUntilFailure(dialer, acceptor);
    ASSERT_EQ(a.outcome, HandshakeStep::Outcome::kFail);
    EXPECT_TRUE(a.fatal);
    ASSERT_TRUE(a.reply && a.reply->mac) << "an authenticated refusal is MAC'd";
    ASSERT_EQ(d.outcome, HandshakeStep::Outcome::kFail);
    EXPECT_TRUE(d.fatal) << d.error;
    for (const std::string& v : c.named) {
      EXPECT_NE(d.error.find(v), std::string::npos) << d.error;
      EXPECT_NE(a.error.find(v), std::string::npos) << a.error;
    }
    EXPECT_NE(d.error.find("peer 0 refused by peer 1"), std::string::npos) << d.error;
  }
}

TEST(Handshake, WrongSecretFailsWithoutFatalityOrClusterInformation) {
  Side dialer(MakeSetup(HandshakeRole::kDialer, 0, 1, "s3cret"));
  Side acceptor(MakeSetup(HandshakeRole::kAcceptor, 1, -1, "not the secret"));
  auto [d, a] = RunUntilFailure(dialer, acceptor);
  ASSERT_EQ(d.outcome, HandshakeStep::Outcome::kFail);
  EXPECT_FALSE(d.fatal);
  EXPECT_NE(d.error.find("authentication failed"), std::string::npos) << d.error;
  ASSERT_TRUE(d.reply.has_value());
  EXPECT_FALSE(d.reply->mac);
  EXPECT_FALSE(d.reply->header.config.has_value());
  ASSERT_EQ(a.outcome, HandshakeStep::Outcome::kFail);
  EXPECT_FALSE(a.fatal) << "an unauthenticated REFUSE must not end the acceptor's start";
  EXPECT_NE(a.error.find("not authenticated"), std::string::npos) << a.error;
}

TEST(Handshake, ForgedHelloFromAStrangerIsRefusedQuietly) {
  Side acceptor(MakeSetup(HandshakeRole::kAcceptor, 1, -1, "s3cret"));
  FrameHeader forged;
  forged.kind = FrameKind::kHello;
  forged.sender = 5;  // not a neighbour
  forged.receiver = 1;
  forged.nonce = MakeNonce();
  HandshakeStep step = acceptor.Receive(ControlFrame{forged, false}, acceptor.hs);
  ASSERT_EQ(step.outcome, HandshakeStep::Outcome::kFail);
  EXPECT_FALSE(step.fatal);
  ASSERT_TRUE(step.reply.has_value());
  EXPECT_FALSE(step.reply->header.config.has_value());
  const std::string reply = Text(EncodeFrameHead(step.reply->header, 0, false));
  EXPECT_EQ(reply.find("test-cluster"), std::string::npos);
}

TEST(Handshake, ForgedAuthWithoutTheSecretIsRefused) {
  Side acceptor(MakeSetup(HandshakeRole::kAcceptor, 1, -1, "s3cret"));
  Side impostor(MakeSetup(HandshakeRole::kDialer, 0, 1, "guess"));
  HandshakeStep a = acceptor.Receive(impostor.hs.Hello(), impostor.hs);
  ASSERT_EQ(a.outcome, HandshakeStep::Outcome::kContinue);
  // The impostor cannot check proof_a; it sends an AUTH with its own (wrong) proof anyway.
  FrameHeader auth;
  auth.kind = FrameKind::kAuth;
  auth.sender = 0;
  auth.receiver = 1;
  auth.proof = std::string(kProofBytes, 'x');
  auth.config = Config();
  HandshakeStep step = acceptor.ReceiveBytes(EncodeFrameHead(auth, 0, false));
  ASSERT_EQ(step.outcome, HandshakeStep::Outcome::kFail);
  EXPECT_FALSE(step.fatal);
  EXPECT_NE(step.error.find("authentication failed"), std::string::npos) << step.error;
  EXPECT_FALSE(acceptor.hs.authenticated());
}

TEST(Handshake, UnauthenticatedRefuseOnlyClosesAndIsEscaped) {
  Side dialer(MakeSetup(HandshakeRole::kDialer, 0, 1, "s3cret"));
  (void)dialer.hs.Hello();
  FrameHeader refuse;
  refuse.kind = FrameKind::kRefuse;
  refuse.sender = 1;
  refuse.receiver = 0;
  refuse.reason = "go away\n[error] fake log line\x1b[31m";
  HandshakeStep step = dialer.ReceiveBytes(EncodeFrameHead(refuse, 0, false));
  ASSERT_EQ(step.outcome, HandshakeStep::Outcome::kFail);
  EXPECT_FALSE(step.fatal) << "a squatter's REFUSE must not end the dialer's start";
  EXPECT_EQ(step.error.find('\n'), std::string::npos) << step.error;
  EXPECT_EQ(step.error.find('\x1b'), std::string::npos) << step.error;
  EXPECT_NE(step.error.find("go away"), std::string::npos) << step.error;
}

TEST(Handshake, ImpostorAcceptorCannotObtainTheDialersConfiguration) {
  Side dialer(MakeSetup(HandshakeRole::kDialer, 0, 1, "s3cret"));
  const ControlFrame hello = dialer.hs.Hello();
  FrameHeader fake;
  fake.kind = FrameKind::kHello;
  fake.sender = 1;
  fake.receiver = 0;
  fake.nonce = MakeNonce();
  fake.proof = std::string(kProofBytes, 'p');
  HandshakeStep step = dialer.ReceiveBytes(EncodeFrameHead(fake, 0, false));
  ASSERT_EQ(step.outcome, HandshakeStep::Outcome::kFail);
  EXPECT_FALSE(step.fatal);
  ASSERT_TRUE(step.reply.has_value());
  EXPECT_EQ(step.reply->header.kind, FrameKind::kRefuse);
  EXPECT_FALSE(step.reply->header.config.has_value());
  (void)hello;
}

TEST(Handshake, RecordedAuthDoesNotReplayOnANewConnection) {
  Side dialer(MakeSetup(HandshakeRole::kDialer, 0, 1, "s3cret"));
  Side acceptor(MakeSetup(HandshakeRole::kAcceptor, 1, -1, "s3cret"));
  const ControlFrame hello = dialer.hs.Hello();
  HandshakeStep a = acceptor.Receive(hello, dialer.hs);
  HandshakeStep d = dialer.Receive(*a.reply, acceptor.hs);
  ASSERT_TRUE(d.reply.has_value());
  ByteBuffer auth_bytes = EncodeFrameHead(d.reply->header, 0, true);
  const MacTag tag = ComputeFrameMac(dialer.hs.send_key(), 0, auth_bytes, {});
  auth_bytes.insert(auth_bytes.end(), tag.begin(), tag.end());
  // An eavesdropper replays HELLO and AUTH to a fresh acceptor: it picks a new nonce_a.
  Side fresh(MakeSetup(HandshakeRole::kAcceptor, 1, -1, "s3cret"));
  ASSERT_EQ(fresh.Receive(hello, dialer.hs).outcome, HandshakeStep::Outcome::kContinue);
  HandshakeStep replay = fresh.ReceiveBytes(auth_bytes);
  ASSERT_EQ(replay.outcome, HandshakeStep::Outcome::kFail);
  EXPECT_FALSE(fresh.hs.authenticated());
}

TEST(Handshake, TamperedAuthFailsItsMac) {
  Side dialer(MakeSetup(HandshakeRole::kDialer, 0, 1, "s3cret"));
  Side acceptor(MakeSetup(HandshakeRole::kAcceptor, 1, -1, "s3cret"));
  HandshakeStep a = acceptor.Receive(dialer.hs.Hello(), dialer.hs);
  HandshakeStep d = dialer.Receive(*a.reply, acceptor.hs);
  ByteBuffer auth_bytes = EncodeFrameHead(d.reply->header, 0, true);
  const MacTag tag = ComputeFrameMac(dialer.hs.send_key(), 0, auth_bytes, {});
  auth_bytes.insert(auth_bytes.end(), tag.begin(), tag.end());
  auth_bytes[auth_bytes.size() - 1] ^= 1;
  HandshakeStep step = acceptor.ReceiveBytes(auth_bytes);
  ASSERT_EQ(step.outcome, HandshakeStep::Outcome::kFail);
  EXPECT_NE(step.error.find("MAC"), std::string::npos) << step.error;
}

TEST(Handshake, ConfigMismatchEscapesTheirText) {
  ClusterConfig ours = Config(), theirs = Config();
  theirs.cluster_id = "evil\n\x1b[2J";
  const std::string why = ConfigMismatch(theirs, ours);
  EXPECT_EQ(why.find('\n'), std::string::npos);
  EXPECT_EQ(why.find('\x1b'), std::string::npos);
  EXPECT_NE(why.find("\"test-cluster\""), std::string::npos) << why;
  EXPECT_EQ(ConfigMismatch(ours, ours), "");
}

}  // namespace
}  // namespace hearsay
