// FrameReader: the incremental parser of one connection's incoming byte stream (no I/O; the TCP
// connection feeds it, the fuzz target fuzz/frame_fuzz.cc feeds it arbitrary bytes).
//
// Usage: read from the socket into ReadSpace(), Commit(n), then call Next() until it returns
// false (more bytes needed). Small frames are parsed in place from a fixed staging buffer (many
// frames per socket read). A frame larger than that buffer is read in chunks straight into its
// payload buffer (its final place; from the BufferPool when one is given) while the MAC is
// computed chunk by chunk, as the bytes are still in cache.
//
// Checks, in order: prefix (magic, version, flags, header length, payload against
// max_payload_bytes -- before any payload buffer is allocated), header (parses, known kind),
// then the MAC when the frame has one: against the receive key, with the header's seq as nonce.
// The MAC result is reported, not enforced: the handshake decides what an unauthenticated frame
// means. Any other failure is a Corruption status after which the stream is unusable.
// Thread-safety: none; one connection's strand owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "common/byte_buffer.h"
#include "common/status.h"
#include "runtime/transport/auth.h"
#include "runtime/transport/buffer_pool.h"
#include "runtime/transport/frame.h"

namespace hearsay {

enum class MacCheck {
  kAbsent,   // the frame has no MAC trailer
  kValid,    // checked against the receive key
  kInvalid,  // wrong, or no receive key yet
};

struct InFrame {
  FramePrefix prefix;
  FrameHeader header;
  ByteBuffer payload;
  MacCheck mac = MacCheck::kAbsent;
};

class FrameReader {
 public:
  static constexpr size_t kStagingBytes = 64 << 10;
  static constexpr size_t kChunkBytes = 64 << 10;

  // `pool` (may be null) supplies large payload buffers; it must outlive the reader.
  explicit FrameReader(BufferPool* pool = nullptr);

  void set_max_payload_bytes(uint32_t n) { max_payload_ = n; }
  void set_receive_key(const SessionKey& key) { key_ = key; }

  // Where the next socket read should write; never empty.
  std::span<uint8_t> ReadSpace();
  // n bytes were written at the start of the last ReadSpace().
  void Commit(size_t n);
  // The next complete frame: true with *out set; false when more bytes are needed; an error when
  // the stream is corrupt (or a payload buffer could not be allocated).
  Result<bool> Next(InFrame* out);
  // True when part of a frame has been read (an end of stream now truncates it).
  bool mid_frame() const;
  // True while a large frame's payload is being read: ReadSpace() is a piece of it.
  bool in_payload() const { return state_ == State::kPayload; }

 private:
  enum class State { kHead, kPayload, kTrailer };

  void Compact();
  Result<bool> StartFrame(InFrame* out);
  MacCheck CheckTag(std::span<const uint8_t> tag);

  BufferPool* const pool_;
  ByteBuffer staging_;
  size_t pos_ = 0, end_ = 0;  // unread bytes are staging_[pos_, end_)
  uint32_t max_payload_ = 0;
  std::optional<SessionKey> key_;
  State state_ = State::kHead;
  // The frame being read when it is larger than the staging buffer.
  InFrame large_;
  size_t payload_got_ = 0;
  std::optional<FrameMac> mac_;
};

}  // namespace hearsay
