// Frames: the unit hearsay peers exchange over a byte stream (docs/wire_format.md).
//
//   [16-byte prefix: magic "HSAY", version, flags, header length, payload length]
//   [header: protobuf hearsay.wire.FrameHeader, at most kMaxHeaderBytes]
//   [payload: raw bytes]
//   [16-byte MAC when flags has kFlagMac: Poly1305 over prefix, header and payload (auth.h)]
//
// This file holds the plain-C++ view of a frame and the codec between it and bytes; generated
// protobuf types stay inside frame.cc. Decoders never trust their input: every failure is a
// Corruption status whose message says what was wrong (remote text escaped).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/byte_buffer.h"
#include "common/status.h"
#include "runtime/transport/auth.h"
#include "runtime/transport/transport.h"

namespace hearsay {

inline constexpr uint32_t kFrameMagic = 0x59415348u;  // bytes 'H' 'S' 'A' 'Y'
inline constexpr uint16_t kWireVersion = 2;
inline constexpr size_t kFramePrefixBytes = 16;
inline constexpr uint32_t kMaxHeaderBytes = 4096;
inline constexpr uint16_t kFlagMac = 1;  // a kMacBytes MAC trailer follows the payload
// Longest cluster id, model shape or algorithm label a handshake carries (keeps every header far
// below kMaxHeaderBytes); longer ones are refused when the transport is made.
inline constexpr size_t kMaxIdentityBytes = 1024;

// Kinds 1..kMaxMessageKind are message frames whose value is a MessageKind; the rest are the
// handshake's.
enum class FrameKind : uint8_t {
  kGossip = 1,
  kDone = 2,
  kHello = 16,
  kAuth = 17,
  kWelcome = 18,
  kRefuse = 19,
};
inline constexpr int kMaxMessageKind = 15;
inline bool IsMessageFrame(FrameKind kind) {
  return static_cast<int>(kind) >= 1 && static_cast<int>(kind) <= kMaxMessageKind;
}
// "GOSSIP", "HELLO", ...; "MESSAGE(7)" for other message kinds.
std::string FrameKindName(FrameKind kind);

// What both ends of a link must agree on (compared once both sides are authenticated).
struct ClusterConfig {
  std::string cluster_id;
  uint64_t topology_hash = 0;
  std::string model_shape;
  std::string algorithm;
  uint32_t streams = 1;  // TCP connections per link (docs/wire_format.md "Streams")
};

struct FrameHeader {
  FrameKind kind = FrameKind::kGossip;
  int32_t sender = -1;
  int32_t receiver = -1;
  int64_t round = 0;
  uint32_t tag = 0;  // message frames: Message::tag
  uint64_t seq = 0;  // message frames: per-link, per-direction sequence number (1, 2, ...)
  // Message frames: messages the sender has delivered from the receiver on this link, counted
  // across reconnects; AUTH/WELCOME: the same count, where the receiver resumes sending.
  uint64_t ack = 0;
  uint64_t incarnation = 0;       // AUTH, WELCOME: the sender's process incarnation
  uint64_t peer_incarnation = 0;  // AUTH, WELCOME: the receiver's incarnation `ack` refers to
  uint32_t stream = 0;            // AUTH, WELCOME: the connection's stream of the link
  uint32_t parts = 0;  // message frames on stream 0: parts the message is striped into (0: 1)
  std::string nonce;   // kHello
  std::string proof;   // kHello (acceptor's), kAuth
  std::string reason;  // kRefuse
  std::optional<ClusterConfig> config;  // kAuth, kWelcome
};

struct FramePrefix {
  uint16_t version = 0;
  uint16_t flags = 0;
  uint32_t header_bytes = 0;
  uint32_t payload_bytes = 0;
  bool has_mac() const { return (flags & kFlagMac) != 0; }
  uint64_t frame_bytes() const {
    return kFramePrefixBytes + header_bytes + payload_bytes + (has_mac() ? kMacBytes : 0);
  }
};

// Prefix + header bytes of a frame whose payload (sent separately, never copied) has
// `payload_bytes` bytes; `with_mac` sets kFlagMac (the caller appends the tag).
ByteBuffer EncodeFrameHead(const FrameHeader& header, uint32_t payload_bytes, bool with_mac);
// Checks magic, version, flags and sizes: header 1..kMaxHeaderBytes, payload at most
// max_payload_bytes. `bytes` must hold at least kFramePrefixBytes bytes.
Result<FramePrefix> DecodeFramePrefix(std::span<const uint8_t> bytes, uint32_t max_payload_bytes);
Result<FrameHeader> DecodeFrameHeader(std::span<const uint8_t> bytes);

// The MAC of a frame whose head (prefix + header) and payload are given.
MacTag ComputeFrameMac(const SessionKey& key, uint64_t seq, std::span<const uint8_t> head,
                       std::span<const uint8_t> payload);

// Header of the message frame carrying msg.
FrameHeader DataFrameHeader(const Message& msg, uint64_t seq, uint64_t ack);
// Bytes the frame carrying msg occupies on the wire: prefix + header + payload + MAC. seq and ack
// are varints, so the size depends on them by a few bytes; without them this is the size of a
// link's early frames (seq and ack below 128), which the emulator and the in-process transport
// charge for every frame.
uint64_t FrameWireBytes(const Message& msg, uint64_t seq = 1, uint64_t ack = 1);
// Validates a received message frame from the connection to `expected_sender` at peer `self`
// (kind, sender, receiver) and turns it into a Message (seq copied).
Result<Message> DataFrameToMessage(const FrameHeader& header, ByteBuffer payload,
                                   int expected_sender, int self);

}  // namespace hearsay
