#include "runtime/transport/frame.h"

#include <cinttypes>
#include <cstdio>

#include "proto/wire.pb.h"

namespace hearsay {
namespace {

std::string Hex(uint64_t v, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%0*" PRIx64, digits, v);
  return buf;
}

void ToProto(const FrameHeader& h, wire::FrameHeader* p) {
  p->set_kind(static_cast<wire::FrameKind>(h.kind));
  p->set_sender(h.sender);
  p->set_receiver(h.receiver);
  p->set_round(h.round);
  p->set_tag(h.tag);
  p->set_seq(h.seq);
  p->set_ack(h.ack);
  p->set_incarnation(h.incarnation);
  p->set_peer_incarnation(h.peer_incarnation);
  p->set_stream(h.stream);
  p->set_parts(h.parts);
  if (!h.nonce.empty()) p->set_nonce(h.nonce);
  if (!h.proof.empty()) p->set_proof(h.proof);
  if (!h.reason.empty()) p->set_reason(h.reason);
  if (h.config) {
    wire::ClusterConfig* c = p->mutable_config();
    c->set_cluster_id(h.config->cluster_id);
    c->set_topology_hash(h.config->topology_hash);
    c->set_model_shape(h.config->model_shape);
    c->set_algorithm(h.config->algorithm);
    // 1 is the default and stays off the wire (headers of single-stream links are unchanged).
    c->set_streams(h.config->streams == 1 ? 0 : h.config->streams);
  }
}

bool KnownKind(int kind) {
  if (kind >= 1 && kind <= kMaxMessageKind) return true;
  return kind >= static_cast<int>(FrameKind::kHello) &&
         kind <= static_cast<int>(FrameKind::kRefuse);
}

}  // namespace

std::string FrameKindName(FrameKind kind) {
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
  if (IsMessageFrame(kind)) return "MESSAGE(" + std::to_string(static_cast<int>(kind)) + ")";
  return "UNKNOWN(" + std::to_string(static_cast<int>(kind)) + ")";
}

ByteBuffer EncodeFrameHead(const FrameHeader& header, uint32_t payload_bytes, bool with_mac) {
  wire::FrameHeader proto;
  ToProto(header, &proto);
  const auto header_bytes = static_cast<uint32_t>(proto.ByteSizeLong());
  ByteBuffer out;
  out.reserve(kFramePrefixBytes + header_bytes);
  AppendPod<uint32_t>(&out, kFrameMagic);
  AppendPod<uint16_t>(&out, kWireVersion);
  AppendPod<uint16_t>(&out, with_mac ? kFlagMac : 0);
  AppendPod<uint32_t>(&out, header_bytes);
  AppendPod<uint32_t>(&out, payload_bytes);
  out.resize(kFramePrefixBytes + header_bytes);
  proto.SerializeWithCachedSizesToArray(out.data() + kFramePrefixBytes);
  return out;
}

Result<FramePrefix> DecodeFramePrefix(std::span<const uint8_t> bytes, uint32_t max_payload_bytes) {
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
    return Corruption("bad frame magic " + Hex(magic, 8) + " (expected " + Hex(kFrameMagic, 8) +
                      ", \"HSAY\"): not a hearsay peer, or the stream is out of sync");
  }
  if (prefix.version != kWireVersion) {
    return Corruption("frame version " + std::to_string(prefix.version) +
                      " is not supported (this peer speaks version " +
                      std::to_string(kWireVersion) + ")");
  }
  if ((prefix.flags & ~kFlagMac) != 0) {
    return Corruption("frame flags " + Hex(prefix.flags, 4) + " have unknown bits set");
  }
  if (prefix.header_bytes == 0 || prefix.header_bytes > kMaxHeaderBytes) {
    return Corruption("frame header length " + std::to_string(prefix.header_bytes) +
                      " is outside 1.." + std::to_string(kMaxHeaderBytes));
  }
  if (prefix.payload_bytes > max_payload_bytes) {
    return Corruption("frame payload of " + std::to_string(prefix.payload_bytes) +
                      " bytes exceeds the limit of " + std::to_string(max_payload_bytes) +
                      " bytes");
  }
  return prefix;
}

Result<FrameHeader> DecodeFrameHeader(std::span<const uint8_t> bytes) {
  wire::FrameHeader p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Corruption("frame header of " + std::to_string(bytes.size()) +
                      " bytes is not a valid hearsay.wire.FrameHeader");
  }
  if (!KnownKind(p.kind())) return Corruption("unknown frame kind " + std::to_string(p.kind()));
  FrameHeader h;
  h.kind = static_cast<FrameKind>(p.kind());
  h.sender = p.sender();
  h.receiver = p.receiver();
  h.round = p.round();
  h.tag = p.tag();
  if (IsMessageFrame(h.kind) && p.seq() == 0) {
    return Corruption(FrameKindName(h.kind) + " frame without a sequence number");
  }
  h.seq = p.seq();
  h.ack = p.ack();
  h.incarnation = p.incarnation();
  h.peer_incarnation = p.peer_incarnation();
  h.stream = p.stream();
  h.parts = p.parts();
  h.nonce = p.nonce();
  h.proof = p.proof();
  h.reason = p.reason();
  if (p.has_config()) {
    const wire::ClusterConfig& c = p.config();
    h.config = ClusterConfig{c.cluster_id(), c.topology_hash(), c.model_shape(), c.algorithm(),
                             c.streams() == 0 ? 1u : c.streams()};
  }
  return h;
}

MacTag ComputeFrameMac(const SessionKey& key, uint64_t seq, std::span<const uint8_t> head,
                       std::span<const uint8_t> payload) {
  FrameMac mac(key, seq, head.size() + payload.size());
  mac.Update(head);
  mac.Update(payload);
  return mac.Final();
}

FrameHeader DataFrameHeader(const Message& msg, uint64_t seq, uint64_t ack) {
  FrameHeader h;
  h.kind = static_cast<FrameKind>(msg.kind);
  h.sender = msg.from;
  h.receiver = msg.to;
  h.round = msg.round;
  h.tag = msg.tag;
  h.seq = seq;
  h.ack = ack;
  return h;
}

uint64_t FrameWireBytes(const Message& msg, uint64_t seq, uint64_t ack) {
  wire::FrameHeader proto;
  ToProto(DataFrameHeader(msg, seq, ack), &proto);
  return kFramePrefixBytes + proto.ByteSizeLong() + msg.payload_size() + kMacBytes;
}

Result<Message> DataFrameToMessage(const FrameHeader& header, ByteBuffer payload,
                                   int expected_sender, int self) {
  if (!IsMessageFrame(header.kind)) {
    return Corruption("unexpected " + FrameKindName(header.kind) + " frame after the handshake");
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
  Message msg;
  msg.kind = static_cast<MessageKind>(header.kind);
  msg.from = header.sender;
  msg.to = header.receiver;
  msg.round = header.round;
  msg.tag = header.tag;
  msg.seq = header.seq;
  msg.payload = std::move(payload);
  return msg;
}

}  // namespace hearsay
