// libFuzzer target: the frame parser and the handshake, as a connection runs them.
//   byte 0 selects the mode and the read-chunk pattern:
//   mode 0  raw bytes from an unauthenticated dialer, at an acceptor's FrameReader + Handshake
//   mode 1  raw bytes from an unauthenticated acceptor, at a dialer that sent its HELLO
//   mode 2  records [u16 header length][header][u18 payload length][payload seed byte] turned
//           into frames MAC'd with the right session key (so parsing, chunked large payloads,
//           MAC verification, sequence and address checks after the handshake are reached)
// Invariants (trap on violation): without the secret the handshake never opens a link; a frame
// MAC'd with the right key always verifies, whatever the chunking; no crash, leak or
// out-of-bounds access (ASan/UBSan).
#include <cstring>
#include <memory>
#include <vector>

#include "runtime/transport/frame.h"
#include "runtime/transport/frame_reader.h"
#include "runtime/transport/handshake.h"

namespace {

using namespace hearsay;

std::shared_ptr<const ClusterKey> Key() {
  static const auto key = std::make_shared<const ClusterKey>("fuzz-cluster-secret");
  return key;
}

ClusterConfig Config() { return ClusterConfig{"fuzz", 42, "softmax params=10", "dpsgd"}; }

// Feeds `bytes` to the reader in pieces whose sizes follow `pattern`; calls on_frame for each
// frame until it returns false. Returns false when the stream turned out corrupt.
template <typename F>
bool Feed(FrameReader& reader, const uint8_t* bytes, size_t n, uint8_t pattern, F on_frame) {
  size_t off = 0, i = 0;
  while (off < n) {
    const std::span<uint8_t> space = reader.ReadSpace();
    if (space.empty()) __builtin_trap();
    const size_t piece = 1 + (pattern * 7919u + i++ * 104729u) % 70000u;
    const size_t k = std::min({space.size(), piece, n - off});
    std::memcpy(space.data(), bytes + off, k);
    reader.Commit(k);
    off += k;
    while (true) {
      InFrame f;
      Result<bool> next = reader.Next(&f);
      if (!next.ok()) return false;
      if (!*next) break;
      if (!on_frame(f)) return true;
    }
  }
  return true;
}

void RawHandshake(HandshakeRole role, const uint8_t* data, size_t size, uint8_t pattern) {
  HandshakeSetup s;
  s.role = role;
  s.self = role == HandshakeRole::kAcceptor ? 1 : 0;
  s.peer = role == HandshakeRole::kAcceptor ? -1 : 1;
  s.key = Key();
  s.config = Config();
  s.may_dial_us = [](int j) { return j == 0; };
  Handshake hs(std::move(s));
  if (role == HandshakeRole::kDialer) (void)hs.Hello();
  FrameReader reader;
  reader.set_max_payload_bytes(0);
  Feed(reader, data, size, pattern, [&](const InFrame& f) {
    const HandshakeStep step = hs.OnFrame(f);
    if (hs.keys_ready()) reader.set_receive_key(hs.receive_key());
    // The input cannot know the secret: opening would mean a forged proof was accepted.
    if (step.outcome == HandshakeStep::Outcome::kOpen) __builtin_trap();
    return step.outcome == HandshakeStep::Outcome::kContinue;
  });
}

void MacdStream(const uint8_t* data, size_t size, uint8_t pattern) {
  SessionKey key;
  key.fill(0x5a);
  // Buffers reused across inputs (a fresh ASan allocation per input is mostly page faults).
  static ByteBuffer stream, head, payload;
  static BufferPool pool(4, 8 << 20);
  stream.clear();
  size_t frames = 0;
  // At most 64 frames and about 256 KiB per input: large enough for the chunked large-payload
  // path (frames above the 64 KiB staging buffer), small enough for thousands of executions a
  // second.
  while (size >= 5 && frames < 64 && stream.size() < (256u << 10)) {
    const size_t header_len = std::min<size_t>(data[0] | data[1] << 8, size - 2);
    const uint8_t* header = data + 2;
    data += 2 + header_len;
    size -= 2 + header_len;
    if (size < 4) break;
    const size_t payload_len = (data[0] | data[1] << 8 | (data[2] & 0x03) << 16);  // < 256 KiB
    const uint8_t seed = data[3];
    data += 4;
    size -= 4;
    Result<FrameHeader> parsed = DecodeFrameHeader({header, header_len});
    const uint64_t seq = parsed.ok() ? parsed->seq : 0;
    head.clear();
    AppendPod<uint32_t>(&head, kFrameMagic);
    AppendPod<uint16_t>(&head, kWireVersion);
    AppendPod<uint16_t>(&head, kFlagMac);
    AppendPod<uint32_t>(&head, static_cast<uint32_t>(header_len));
    AppendPod<uint32_t>(&head, static_cast<uint32_t>(payload_len));
    head.insert(head.end(), header, header + header_len);
    payload.resize(payload_len);
    for (size_t i = 0; i < payload_len; ++i) payload[i] = static_cast<uint8_t>(seed + i * 13);
    const MacTag tag = ComputeFrameMac(key, seq, head, payload);
    stream.insert(stream.end(), head.begin(), head.end());
    stream.insert(stream.end(), payload.begin(), payload.end());
    stream.insert(stream.end(), tag.begin(), tag.end());
    ++frames;
  }
  FrameReader reader(&pool);
  reader.set_max_payload_bytes(1 << 20);
  reader.set_receive_key(key);
  uint64_t last_seq = 0;
  Feed(reader, stream.data(), stream.size(), pattern, [&](InFrame& f) {
    if (f.mac != MacCheck::kValid) __builtin_trap();  // MAC'd with the right key
    if (f.header.seq != last_seq + 1) return false;   // the connection closes the link here
    Result<Message> m = DataFrameToMessage(f.header, std::move(f.payload), 0, 1);
    if (!m.ok()) return false;
    last_seq = f.header.seq;
    pool.Release(std::move(m->payload));
    return true;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0] % 3, pattern = data[0] / 3;
  ++data;
  --size;
  switch (mode) {
    case 0:
      RawHandshake(HandshakeRole::kAcceptor, data, size, pattern);
      break;
    case 1:
      RawHandshake(HandshakeRole::kDialer, data, size, pattern);
      break;
    default:
      MacdStream(data, size, pattern);
  }
  return 0;
}
