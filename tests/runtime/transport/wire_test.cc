// Authentication primitives and the frame codec (runtime/transport/{auth,frame}.h). Known-answer
// vectors come from independent implementations (RFC 8439 section 2.6.2 for the one-time key;
// Python's hashlib.blake2b and the `cryptography` package for the rest).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/transport/auth.h"
#include "runtime/transport/frame.h"

namespace hearsay {
namespace {

std::string Hex(std::span<const uint8_t> bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}
std::string Hex(const std::string& s) {
  return Hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}
std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

SessionKey RfcKey() {
  SessionKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0x80 + i);
  return k;
}

TEST(FrameMac, MatchesAnIndependentChaCha20Poly1305Implementation) {
  // RFC 8439 2.6.2 key and nonce (seq 0x0706050403020100 gives nonce 00000000 0001020304050607).
  FrameMac mac(RfcKey(), 0x0706050403020100ull);
  mac.Update(Bytes("hearsay frame MAC test vector"));
  const MacTag tag = mac.Final();
  EXPECT_EQ(Hex(tag), "9c45b4104a901595f4b7fee709d9afc9");
}

// Long frames are MAC'd by libcrypto (fed whole 128-byte blocks, the rest held back), short
// ones by libsodium: the two must agree on every length (the vectorised code has separate paths
// per block count and tail) and however the bytes arrive in pieces, or peers would reject each
// other's frames.
TEST(FrameMac, LongFramesGetTheSameTagFromLibcryptoAsFromLibsodium) {
  FrameMac rfc(RfcKey(), 0x0706050403020100ull, kLongFrameMacBytes);
  ASSERT_TRUE(rfc.vectorised())
      << "libcrypto's Poly1305 is unavailable: every frame uses libsodium";
  rfc.Update(Bytes("hearsay frame MAC test vector"));
  EXPECT_EQ(Hex(rfc.Final()), "9c45b4104a901595f4b7fee709d9afc9");

  std::string data(3 << 20, '\0');
  uint32_t x = 12345;
  for (char& c : data) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 1100; ++n) lengths.push_back(n);
  for (size_t n : {4095, 4096, 4097, 65536 + 13, 262144, 1 << 20, 3 << 20}) lengths.push_back(n);
  for (size_t n : lengths) {
    const uint64_t seq = n + 1;
    const std::span<const uint8_t> msg = Bytes(data).first(n);
    FrameMac sodium(RfcKey(), seq, 0);
    EXPECT_FALSE(sodium.vectorised());
    sodium.Update(msg);
    const MacTag expected = sodium.Final();
    FrameMac whole(RfcKey(), seq, n);
    EXPECT_EQ(whole.vectorised(), n >= kLongFrameMacBytes);
    whole.Update(msg);
    EXPECT_EQ(whole.Final(), expected) << n << " bytes at once";
    FrameMac pieces(RfcKey(), seq, kLongFrameMacBytes + n);  // vectorised at every length
    for (size_t at = 0, step = 1; at < n; at += step, step = step * 7 % 1031 + 1) {
      pieces.Update(msg.subspan(at, std::min(step, n - at)));
    }
    EXPECT_EQ(pieces.Final(), expected) << n << " bytes in pieces";
    EXPECT_EQ(ComputeFrameMac(RfcKey(), seq, msg.first(n / 3), msg.subspan(n / 3)), expected) << n;
  }
}

TEST(FrameMac, ChunkedEqualsWholeAndDependsOnKeySeqAndEveryByte) {
  const std::string msg(1000, 'x');
  const MacTag whole = ComputeFrameMac(RfcKey(), 7, Bytes(msg), {});
  FrameMac chunked(RfcKey(), 7);
  chunked.Update(Bytes(msg.substr(0, 333)));
  chunked.Update(Bytes(msg.substr(333)));
  EXPECT_EQ(chunked.Final(), whole);
  EXPECT_EQ(ComputeFrameMac(RfcKey(), 7, Bytes(msg.substr(0, 10)), Bytes(msg.substr(10))), whole);
  EXPECT_NE(ComputeFrameMac(RfcKey(), 8, Bytes(msg), {}), whole);
  SessionKey other = RfcKey();
  other[31] ^= 1;
  EXPECT_NE(ComputeFrameMac(other, 7, Bytes(msg), {}), whole);
  for (size_t i : {0, 500, 999}) {
    std::string flipped = msg;
    flipped[i] ^= 0x01;
    EXPECT_NE(ComputeFrameMac(RfcKey(), 7, Bytes(flipped), {}), whole) << "byte " << i;
  }
  EXPECT_TRUE(TagEquals(whole, whole));
  EXPECT_FALSE(TagEquals(whole, std::span<const uint8_t>(whole).first(15)));
}

Transcript FixedTranscript() {
  return Transcript{0, 1, std::string(kNonceBytes, '\x01'), std::string(kNonceBytes, '\x02')};
}

TEST(ClusterKey, ProofAndKeysMatchBlake2bComputedIndependently) {
  const ClusterKey key("s3cret");
  EXPECT_EQ(Hex(key.Proof(HandshakeRole::kDialer, FixedTranscript())),
            "3d36b744887fa8b0d1dd8bcfcd17cd28b9abb5d6fc5fe7979d88ae09a69cc510");
  EXPECT_EQ(Hex(key.DeriveSessionKeys(FixedTranscript()).dialer_to_acceptor),
            "2c46a2c7e1dd0cbf96715796691a4f6719305896b64c5b0eca9dd82ff86f6006");
}

TEST(ClusterKey, ProofDependsOnSecretRoleIdsAndNonces) {
  const ClusterKey key("s"), other("t");
  const Transcript t = FixedTranscript();
  const std::string p = key.Proof(HandshakeRole::kDialer, t);
  ASSERT_EQ(p.size(), kProofBytes);
  EXPECT_TRUE(BytesEqual(p, key.Proof(HandshakeRole::kDialer, t)));
  EXPECT_FALSE(BytesEqual(p, other.Proof(HandshakeRole::kDialer, t)));
  EXPECT_FALSE(BytesEqual(p, key.Proof(HandshakeRole::kAcceptor, t)));
  Transcript swapped = t;
  std::swap(swapped.dialer_nonce, swapped.acceptor_nonce);
  EXPECT_FALSE(BytesEqual(p, key.Proof(HandshakeRole::kDialer, swapped)));
  Transcript ids = t;
  ids.acceptor = 2;
  EXPECT_FALSE(BytesEqual(p, key.Proof(HandshakeRole::kDialer, ids)));
  const SessionKeys k = key.DeriveSessionKeys(t);
  EXPECT_NE(k.dialer_to_acceptor, k.acceptor_to_dialer);
  EXPECT_NE(key.DeriveSessionKeys(swapped).dialer_to_acceptor, k.dialer_to_acceptor);
}

TEST(Nonce, IsFreshRandomBytes) {
  const std::string a = MakeNonce(), b = MakeNonce();
  EXPECT_EQ(a.size(), kNonceBytes);
  EXPECT_NE(a, b);
  EXPECT_NE(a, std::string(kNonceBytes, '\0'));
}

Message SampleMessage() {
  Message m;
  m.kind = MessageKind::kGossip;
  m.from = 3;
  m.to = 5;
  m.round = 1234567;
  m.payload = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  return m;
}

TEST(Frame, DataFrameRoundTripsAndWireBytesAreExact) {
  const Message m = SampleMessage();
  for (uint64_t seq : {1ull, 300ull, ~0ull}) {
    const ByteBuffer head = EncodeFrameHead(DataFrameHeader(m, seq, seq / 2), m.payload.size(),
                                            /*with_mac=*/true);
    EXPECT_EQ(head.size() + m.payload.size() + kMacBytes, FrameWireBytes(m, seq, seq / 2)) << seq;
    Result<FramePrefix> prefix = DecodeFramePrefix(head, 1u << 20);
    ASSERT_TRUE(prefix.ok()) << prefix.status().ToString();
    EXPECT_TRUE(prefix->has_mac());
    EXPECT_EQ(prefix->payload_bytes, m.payload.size());
    EXPECT_EQ(prefix->frame_bytes(), FrameWireBytes(m, seq, seq / 2));
    Result<FrameHeader> header = DecodeFrameHeader(
        std::span<const uint8_t>(head).subspan(kFramePrefixBytes, prefix->header_bytes));
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    EXPECT_EQ(header->seq, seq);
    EXPECT_EQ(header->ack, seq / 2);
    Result<Message> back = DataFrameToMessage(*header, m.payload, 3, 5);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->round, m.round);
    EXPECT_EQ(back->seq, seq);
    EXPECT_EQ(back->payload, m.payload);
    EXPECT_EQ(back->kind, MessageKind::kGossip);
  }
}

TEST(Frame, MessageKindsBeyondTheKnownOnesTravelUnchanged) {
  // The lead adds MessageKinds (issue 11) without touching the wire code.
  Message m = SampleMessage();
  m.kind = static_cast<MessageKind>(9);
  m.tag = 77;
  const ByteBuffer head = EncodeFrameHead(DataFrameHeader(m, 1, 0), 0, true);
  Result<FrameHeader> h = DecodeFrameHeader(std::span<const uint8_t>(head).subspan(16));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(FrameKindName(h->kind), "MESSAGE(9)");
  Result<Message> back = DataFrameToMessage(*h, {}, 3, 5);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(static_cast<int>(back->kind), 9);
  EXPECT_EQ(back->tag, 77u);  // the all-reduce step travels too
}

TEST(Frame, HandshakeFieldsRoundTrip) {
  FrameHeader h;
  h.kind = FrameKind::kAuth;
  h.sender = 0;
  h.receiver = 1;
  h.proof = std::string(kProofBytes, 'p');
  h.config = ClusterConfig{"cluster", 0x1234, "softmax params=10", "dcd/qsgd:8"};
  const ByteBuffer head = EncodeFrameHead(h, 0, true);
  Result<FrameHeader> back = DecodeFrameHeader(std::span<const uint8_t>(head).subspan(16));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->proof, h.proof);
  ASSERT_TRUE(back->config.has_value());
  EXPECT_EQ(back->config->cluster_id, "cluster");
  EXPECT_EQ(back->config->topology_hash, 0x1234u);
  EXPECT_EQ(back->config->algorithm, "dcd/qsgd:8");
}

TEST(Frame, RejectsWrongMagic) {
  ByteBuffer head = EncodeFrameHead(DataFrameHeader(SampleMessage(), 1, 0), 9, true);
  head[0] = 'X';
  Result<FramePrefix> prefix = DecodeFramePrefix(head, 1u << 20);
  ASSERT_FALSE(prefix.ok());
  EXPECT_NE(prefix.status().message().find("magic"), std::string::npos);
}

TEST(Frame, RejectsOtherVersionsIncludingProtocolOne) {
  for (uint8_t version : {1, 7}) {
    ByteBuffer head = EncodeFrameHead(DataFrameHeader(SampleMessage(), 1, 0), 9, true);
    head[4] = version;
    Result<FramePrefix> prefix = DecodeFramePrefix(head, 1u << 20);
    ASSERT_FALSE(prefix.ok());
    EXPECT_NE(prefix.status().message().find("version " + std::to_string(version)),
              std::string::npos)
        << prefix.status().message();
  }
}

TEST(Frame, RejectsUnknownFlags) {
  ByteBuffer head = EncodeFrameHead(DataFrameHeader(SampleMessage(), 1, 0), 9, true);
  head[6] = 0x82;
  Result<FramePrefix> prefix = DecodeFramePrefix(head, 1u << 20);
  ASSERT_FALSE(prefix.ok());
  EXPECT_NE(prefix.status().message().find("flags"), std::string::npos);
}

TEST(Frame, RejectsPayloadAboveTheLimitBeforeAnythingIsAllocated) {
  ByteBuffer head = EncodeFrameHead(DataFrameHeader(SampleMessage(), 1, 0), 1u << 30, true);
  Result<FramePrefix> prefix = DecodeFramePrefix(head, 4096);
  ASSERT_FALSE(prefix.ok());
  EXPECT_NE(prefix.status().message().find("1073741824 bytes exceeds the limit of 4096"),
            std::string::npos)
      << prefix.status().message();
}

TEST(Frame, RejectsTruncatedPrefixAndGarbageHeader) {
  ByteBuffer head = EncodeFrameHead(DataFrameHeader(SampleMessage(), 1, 0), 9, true);
  Result<FramePrefix> prefix =
      DecodeFramePrefix(std::span<const uint8_t>(head).first(10), 1u << 20);
  ASSERT_FALSE(prefix.ok());
  EXPECT_EQ(prefix.status().code(), StatusCode::kCorruption);
  const ByteBuffer garbage = {0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_FALSE(DecodeFrameHeader(garbage).ok());
}

TEST(Frame, RejectsMessageFrameWithoutSequenceNumber) {
  FrameHeader h;
  h.kind = FrameKind::kHello;  // encoded without seq/ack...
  h.sender = 3;
  ByteBuffer head = EncodeFrameHead(h, 0, false);
  head[kFramePrefixBytes + 1] = 1;  // ...then relabelled GOSSIP (field 1 is the first byte pair)
  Result<FrameHeader> back = DecodeFrameHeader(std::span<const uint8_t>(head).subspan(16));
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("sequence number"), std::string::npos);
}

TEST(Frame, RejectsFrameFromAnotherSenderOrForAnotherReceiver) {
  const Message m = SampleMessage();
  EXPECT_FALSE(DataFrameToMessage(DataFrameHeader(m, 1, 0), m.payload, 2, 5).ok());
  EXPECT_FALSE(DataFrameToMessage(DataFrameHeader(m, 1, 0), m.payload, 3, 4).ok());
  FrameHeader welcome;
  welcome.kind = FrameKind::kWelcome;
  welcome.sender = 3;
  welcome.receiver = 5;
  Result<Message> r = DataFrameToMessage(welcome, {}, 3, 5);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unexpected WELCOME"), std::string::npos);
}

}  // namespace
}  // namespace hearsay
