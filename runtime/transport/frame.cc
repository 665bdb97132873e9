#include "runtime/transport/frame.h"

#include <cinttypes>
#include <cstdio>

#include "proto/wire.pb.h"
#include "runtime/transport/crc32c.h"

namespace hearsay {
namespace {

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08" PRIx32, v);
  return buf;
}

void ToProto(const FrameHeader& h, wire::FrameHeader* p) {
  p->set_kind(static_cast<wire::FrameKind>(h.kind));
  p->set_sender(h.sender);
  p->set_receiver(h.receiver);
  p->set_round(h.round);
  p->set_payload_crc32c(h.payload_crc32c);
  if (h.kind == FrameKind::kHello) {
    wire::Hello* hello = p->mutable_hello();
    hello->set_protocol_version(h.hello.protocol_version);
    hello->set_cluster_id(h.hello.cluster_id);
    hello->set_peer(h.hello.peer);
    hello->set_topology_hash(h.hello.topology_hash);
    hello->set_model_shape(h.hello.model_shape);
    hello->set_algorithm(h.hello.algorithm);
    hello->set_nonce(h.hello.nonce);
    hello->set_proof(h.hello.proof);
  }
  if (!h.proof.empty()) p->set_proof(h.proof);
  if (!h.reason.empty()) p->set_reason(h.reason);
}

bool KnownKind(int kind) {
  switch (kind) {
    case 1:
    case 2:
    case 16:
    case 17:
    case 18:
    case 19:
      return true;
    default:
      return false;
  }
}

}  // namespace

const char* FrameKindName(FrameKind kind) {
  switch (kind) {
    case FrameKind::kGossip:
      return "GOSSIP";
    case FrameKind::kDone:
      return "DONE";
    case FrameKind::kHello:
      return "HELLO";
    case FrameKind::kAuth:
      return "AUTH";
    case FrameKind::kWelcome:
      return "WELCOME";
    case FrameKind::kRefuse:
      return "REFUSE";
  }
  return "UNKNOWN";
}

ByteBuffer EncodeFrameHead(const FrameHeader& header, uint32_t payload_bytes) {
  wire::FrameHeader proto;
  ToProto(header, &proto);
  const auto header_bytes = static_cast<uint32_t>(proto.ByteSizeLong());
  ByteBuffer out;
  out.reserve(kFramePrefixBytes + header_bytes);
  AppendPod<uint32_t>(&out, kFrameMagic);
  AppendPod<uint16_t>(&out, kWireVersion);
  AppendPod<uint16_t>(&out, 0);  // flags, reserved
  AppendPod<uint32_t>(&out, header_bytes);
  AppendPod<uint32_t>(&out, payload_bytes);
  out.resize(kFramePrefixBytes + header_bytes);
  proto.SerializeWithCachedSizesToArray(out.data() + kFramePrefixBytes);
  return out;
}

Result<FramePrefix> DecodeFramePrefix(std::span<const uint8_t> bytes, uint64_t max_frame_bytes) {
  ByteReader reader(bytes);
  uint32_t magic = 0;
  FramePrefix prefix;
  if (!reader.ReadPod(&magic) || !reader.ReadPod(&prefix.version) ||
      !reader.ReadPod(&prefix.flags) || !reader.ReadPod(&prefix.header_bytes) ||
      !reader.ReadPod(&prefix.payload_bytes)) {
    return Corruption("truncated frame prefix: " + std::to_string(bytes.size()) + " of " +
                      std::to_string(kFramePrefixBytes) + " bytes");
  }
  if (magic != kFrameMagic) {
    return Corruption("bad frame magic " + Hex32(magic) + " (expected " + Hex32(kFrameMagic) +
                      ", \"HSAY\"): not a hearsay peer, or the stream is out of sync");
  }
  if (prefix.version != kWireVersion) {
    return Corruption("frame version " + std::to_string(prefix.version) +
                      " is not supported (this peer speaks version " +
                      std::to_string(kWireVersion) + ")");
  }
  if (prefix.header_bytes == 0 || prefix.header_bytes > kMaxHeaderBytes) {
    return Corruption("frame header length " + std::to_string(prefix.header_bytes) +
                      " is outside 1.." + std::to_string(kMaxHeaderBytes));
  }
  if (prefix.frame_bytes() > max_frame_bytes) {
    return Corruption("frame of " + std::to_string(prefix.frame_bytes()) +
                      " bytes exceeds the limit of " + std::to_string(max_frame_bytes) + " bytes");
  }
  return prefix;
}

Result<FrameHeader> DecodeFrameHeader(std::span<const uint8_t> bytes) {
  wire::FrameHeader p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Corruption("frame header of " + std::to_string(bytes.size()) +
                      " bytes is not a valid hearsay.wire.FrameHeader");
  }
  if (!KnownKind(p.kind())) {
    return Corruption("unknown frame kind " + std::to_string(p.kind()));
  }
  FrameHeader h;
  h.kind = static_cast<FrameKind>(p.kind());
  h.sender = p.sender();
  h.receiver = p.receiver();
  h.round = p.round();
  h.payload_crc32c = p.payload_crc32c();
  if (p.has_hello()) {
    const wire::Hello& hello = p.hello();
    h.hello.protocol_version = hello.protocol_version();
    h.hello.cluster_id = hello.cluster_id();
    h.hello.peer = hello.peer();
    h.hello.topology_hash = hello.topology_hash();
    h.hello.model_shape = hello.model_shape();
    h.hello.algorithm = hello.algorithm();
    h.hello.nonce = hello.nonce();
    h.hello.proof = hello.proof();
  }
  h.proof = p.proof();
  h.reason = p.reason();
  return h;
}

FrameHeader DataFrameHeader(const Message& msg) {
  FrameHeader h;
  h.kind = msg.kind == MessageKind::kDone ? FrameKind::kDone : FrameKind::kGossip;
  h.sender = msg.from;
  h.receiver = msg.to;
  h.round = msg.round;
  h.payload_crc32c = Crc32c(msg.payload);
  return h;
}

uint64_t FrameWireBytes(const Message& msg) {
  // The CRC is a fixed32 field, so the header size does not depend on its value.
  FrameHeader h;
  h.kind = msg.kind == MessageKind::kDone ? FrameKind::kDone : FrameKind::kGossip;
  h.sender = msg.from;
  h.receiver = msg.to;
  h.round = msg.round;
  h.payload_crc32c = 1;
  wire::FrameHeader proto;
  ToProto(h, &proto);
  return kFramePrefixBytes + proto.ByteSizeLong() + msg.payload.size();
}

Result<Message> DataFrameToMessage(const FrameHeader& header, ByteBuffer payload,
                                   int expected_sender, int self) {
  if (header.kind != FrameKind::kGossip && header.kind != FrameKind::kDone) {
    return Corruption(std::string("unexpected ") + FrameKindName(header.kind) +
                      " frame after the handshake");
  }
  if (header.sender != expected_sender) {
    return Corruption("frame claims sender " + std::to_string(header.sender) +
                      " on the connection authenticated as peer " +
                      std::to_string(expected_sender));
  }
  if (header.receiver != self) {
    return Corruption("frame addressed to peer " + std::to_string(header.receiver) +
                      " arrived at peer " + std::to_string(self));
  }
  const uint32_t crc = Crc32c(payload);
  if (crc != header.payload_crc32c) {
    return Corruption("payload checksum " + Hex32(crc) + " does not match the header's " +
                      Hex32(header.payload_crc32c) + " (" + std::to_string(payload.size()) +
                      " bytes, round " + std::to_string(header.round) + ")");
  }
  Message msg;
  msg.kind = header.kind == FrameKind::kDone ? MessageKind::kDone : MessageKind::kGossip;
  msg.from = header.sender;
  msg.to = header.receiver;
  msg.round = header.round;
  msg.payload = std::move(payload);
  return msg;
}

}  // namespace hearsay
