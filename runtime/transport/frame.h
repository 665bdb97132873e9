// Frames: the unit hearsay peers exchange over a byte stream (docs/wire_format.md).
//
//   [16-byte prefix: magic "HSAY", version, flags, header length, payload length]
//   [header: protobuf hearsay.wire.FrameHeader, at most kMaxHeaderBytes]
//   [payload: raw bytes, CRC32C in the header]
//
// This file holds the plain-C++ view of a frame and the codec between it and bytes; generated
// protobuf types stay inside frame.cc. Decoders never trust their input: every failure is a
// Corruption status whose message says what was wrong.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/byte_buffer.h"
#include "common/status.h"
#include "runtime/transport/transport.h"

namespace hearsay {

inline constexpr uint32_t kFrameMagic = 0x59415348u;  // bytes 'H' 'S' 'A' 'Y'
inline constexpr uint16_t kWireVersion = 1;
inline constexpr size_t kFramePrefixBytes = 16;
inline constexpr uint32_t kMaxHeaderBytes = 4096;
// Frames received before the handshake completes may not be larger than this (an unauthenticated
// peer cannot make us allocate much).
inline constexpr uint32_t kMaxHandshakeFrameBytes = 8192;

enum class FrameKind : uint8_t {
  kGossip = 1,
  kDone = 2,
  kHello = 16,
  kAuth = 17,
  kWelcome = 18,
  kRefuse = 19,
};
const char* FrameKindName(FrameKind kind);

// What a HELLO frame carries (docs/wire_format.md "Handshake").
struct HelloInfo {
  uint32_t protocol_version = kWireVersion;
  std::string cluster_id;
  int32_t peer = -1;
  uint64_t topology_hash = 0;
  std::string model_shape;
  std::string algorithm;
  std::string nonce;  // 16 random bytes
  std::string proof;  // acceptor's reply only
};

struct FrameHeader {
  FrameKind kind = FrameKind::kGossip;
  int32_t sender = -1;
  int32_t receiver = -1;
  int64_t round = 0;
  uint32_t payload_crc32c = 0;
  HelloInfo hello;     // kHello
  std::string proof;   // kAuth
  std::string reason;  // kRefuse
};

struct FramePrefix {
  uint16_t version = 0;
  uint16_t flags = 0;
  uint32_t header_bytes = 0;
  uint32_t payload_bytes = 0;
  uint64_t frame_bytes() const { return kFramePrefixBytes + header_bytes + payload_bytes; }
};

// Prefix + header bytes of a frame whose payload (sent separately, never copied) has
// `payload_bytes` bytes.
ByteBuffer EncodeFrameHead(const FrameHeader& header, uint32_t payload_bytes);
// Checks magic, version and sizes: header at most kMaxHeaderBytes, whole frame at most
// max_frame_bytes. `bytes` must hold kFramePrefixBytes bytes.
Result<FramePrefix> DecodeFramePrefix(std::span<const uint8_t> bytes, uint64_t max_frame_bytes);
Result<FrameHeader> DecodeFrameHeader(std::span<const uint8_t> bytes);

// Header of the data frame carrying msg (computes the payload CRC32C).
FrameHeader DataFrameHeader(const Message& msg);
// Bytes the frame carrying msg occupies on the wire: prefix + header + payload.
uint64_t FrameWireBytes(const Message& msg);
// Validates a received data frame from the connection to `expected_sender` at peer `self`
// (kind, sender, receiver, payload CRC32C) and turns it into a Message.
Result<Message> DataFrameToMessage(const FrameHeader& header, ByteBuffer payload,
                                   int expected_sender, int self);

}  // namespace hearsay
