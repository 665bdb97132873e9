// Checksums, HMAC, frame codec and handshake rules (runtime/transport/{crc32c,sha256,frame,
// handshake}.h).
#include <gtest/gtest.h>

#include <string>

#include "runtime/transport/crc32c.h"
#include "runtime/transport/frame.h"
#include "runtime/transport/handshake.h"
#include "runtime/transport/sha256.h"

namespace hearsay {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Crc32c, MatchesStandardCheckValue) {
  EXPECT_EQ(Crc32c(Bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32c(Bytes("")), 0u);
}

TEST(Crc32c, ExtendsAcrossChunks) {
  const std::string s = "hearsay frames carry a CRC32C of their payload, 37+ bytes long";
  const uint32_t whole = Crc32c(Bytes(s));
  for (size_t cut : {size_t{1}, size_t{7}, size_t{8}, size_t{13}, s.size() - 1}) {
    const uint32_t head = Crc32c(Bytes(s.substr(0, cut)));
    EXPECT_EQ(Crc32c(Bytes(s.substr(cut)), head), whole) << "cut at " << cut;
  }
}

TEST(Sha256, MatchesFips180Vectors) {
  EXPECT_EQ(DigestHex(Sha256Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(DigestHex(Sha256Of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(DigestHex(Sha256Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  EXPECT_EQ(DigestHex(Sha256Of(million)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HmacSha256, MatchesRfc4231Vectors) {
  EXPECT_EQ(DigestHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  EXPECT_EQ(DigestHex(HmacSha256(std::string(131, '\xaa'),
                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
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

TEST(Frame, DataFrameRoundTrips) {
  const Message m = SampleMessage();
  const ByteBuffer head = EncodeFrameHead(DataFrameHeader(m), m.payload.size());
  EXPECT_EQ(head.size() + m.payload.size(), FrameWireBytes(m));
  Result<FramePrefix> prefix = DecodeFramePrefix(head, 1u << 20);
  ASSERT_TRUE(prefix.ok()) << prefix.status().ToString();
  EXPECT_EQ(prefix->payload_bytes, m.payload.size());
  Result<FrameHeader> header = DecodeFrameHeader(
      std::span<const uint8_t>(head).subspan(kFramePrefixBytes, prefix->header_bytes));
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  Result<Message> back = DataFrameToMessage(*header, m.payload, 3, 5);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->round, m.round);
  EXPECT_EQ(back->payload, m.payload);
  EXPECT_EQ(back->kind, MessageKind::kGossip);
}

TEST(Frame, RejectsWrongMagic) {
  ByteBuffer head = EncodeFrameHead(DataFrameHeader(SampleMessage()), 9);
  head[0] = 'X';
  Result<FramePrefix> prefix = DecodeFramePrefix(head, 1u << 20);
  ASSERT_FALSE(prefix.ok());
  EXPECT_NE(prefix.status().message().find("magic"), std::string::npos);
}

TEST(Frame, RejectsWrongVersion) {
  ByteBuffer head = EncodeFrameHead(DataFrameHeader(SampleMessage()), 9);
  head[4] = 7;
  Result<FramePrefix> prefix = DecodeFramePrefix(head, 1u << 20);
  ASSERT_FALSE(prefix.ok());
  EXPECT_NE(prefix.status().message().find("version 7"), std::string::npos)
      << prefix.status().message();
}

TEST(Frame, RejectsOversizedFrame) {
  ByteBuffer head = EncodeFrameHead(DataFrameHeader(SampleMessage()), 5000);
  Result<FramePrefix> prefix = DecodeFramePrefix(head, 4096);
  ASSERT_FALSE(prefix.ok());
  EXPECT_NE(prefix.status().message().find("exceeds"), std::string::npos);
}

TEST(Frame, RejectsTruncatedPrefix) {
  ByteBuffer head = EncodeFrameHead(DataFrameHeader(SampleMessage()), 9);
  Result<FramePrefix> prefix =
      DecodeFramePrefix(std::span<const uint8_t>(head).first(10), 1u << 20);
  ASSERT_FALSE(prefix.ok());
  EXPECT_EQ(prefix.status().code(), StatusCode::kCorruption);
}

TEST(Frame, RejectsGarbageHeader) {
  const ByteBuffer garbage = {0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_FALSE(DecodeFrameHeader(garbage).ok());
}

TEST(Frame, RejectsPayloadWithBadChecksum) {
  const Message m = SampleMessage();
  FrameHeader h = DataFrameHeader(m);
  ByteBuffer corrupted = m.payload;
  corrupted[4] ^= 0x10;
  Result<Message> back = DataFrameToMessage(h, corrupted, 3, 5);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("checksum"), std::string::npos);
}

TEST(Frame, RejectsFrameFromAnotherSenderOrForAnotherReceiver) {
  const Message m = SampleMessage();
  EXPECT_FALSE(DataFrameToMessage(DataFrameHeader(m), m.payload, 2, 5).ok());
  EXPECT_FALSE(DataFrameToMessage(DataFrameHeader(m), m.payload, 3, 4).ok());
}

TEST(Handshake, MismatchNamesBothValues) {
  HelloInfo ours, theirs;
  ours.cluster_id = theirs.cluster_id = "c";
  ours.nonce = theirs.nonce = std::string(kNonceBytes, 'n');
  ours.topology_hash = 0x9f8e;
  theirs.topology_hash = 0x1a2b;
  const std::string why = HelloMismatch(theirs, ours);
  EXPECT_NE(why.find("0x0000000000001a2b"), std::string::npos) << why;
  EXPECT_NE(why.find("0x0000000000009f8e"), std::string::npos) << why;
  theirs.topology_hash = ours.topology_hash;
  EXPECT_EQ(HelloMismatch(theirs, ours), "");
  theirs.cluster_id = "other";
  EXPECT_NE(HelloMismatch(theirs, ours).find("\"other\""), std::string::npos);
}

TEST(Handshake, ProofDependsOnSecretRoleAndNonces) {
  const std::string a = MakeNonce(), b = MakeNonce();
  ASSERT_EQ(a.size(), kNonceBytes);
  ASSERT_NE(a, b);
  const std::string p = HandshakeProof(HandshakeRole::kDialer, "s", "c", 0, 1, a, b);
  EXPECT_TRUE(ProofsEqual(p, HandshakeProof(HandshakeRole::kDialer, "s", "c", 0, 1, a, b)));
  EXPECT_FALSE(ProofsEqual(p, HandshakeProof(HandshakeRole::kDialer, "t", "c", 0, 1, a, b)));
  EXPECT_FALSE(ProofsEqual(p, HandshakeProof(HandshakeRole::kAcceptor, "s", "c", 0, 1, a, b)));
  EXPECT_FALSE(ProofsEqual(p, HandshakeProof(HandshakeRole::kDialer, "s", "c", 0, 1, b, a)));
}

}  // namespace
}  // namespace hearsay
