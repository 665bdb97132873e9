#include "runtime/transport/frame_reader.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace hearsay {

FrameReader::FrameReader(BufferPool* pool) : pool_(pool), staging_(kStagingBytes) {}

bool FrameReader::mid_frame() const { return state_ != State::kHead || end_ > pos_; }

void FrameReader::Compact() {
  if (pos_ == 0) return;
  std::memmove(staging_.data(), staging_.data() + pos_, end_ - pos_);
  end_ -= pos_;
  pos_ = 0;
}

std::span<uint8_t> FrameReader::ReadSpace() {
  if (state_ == State::kPayload) {
    // Straight into the payload's final place, one chunk at a time (Commit MACs it while hot).
    const size_t total = large_.prefix.payload_bytes;
    const size_t want = std::min(kChunkBytes, total - payload_got_);
    // Grows a fresh buffer only as data arrives: memory follows the bytes actually received, not
    // the announced length. A pooled buffer is usually large enough already (no write at all).
    if (large_.payload.size() < payload_got_ + want) large_.payload.resize(payload_got_ + want);
    return {large_.payload.data() + payload_got_, want};
  }
  if (pos_ == end_) pos_ = end_ = 0;
  if (staging_.size() - end_ < kStagingBytes / 4) Compact();
  return {staging_.data() + end_, staging_.size() - end_};
}

void FrameReader::Commit(size_t n) {
  if (state_ != State::kPayload) {
    end_ += n;
    return;
  }
  if (mac_) mac_->Update({large_.payload.data() + payload_got_, n});
  payload_got_ += n;
  if (payload_got_ == large_.prefix.payload_bytes) {
    large_.payload.resize(payload_got_);  // a pooled buffer may be longer; shrinking writes nothing
    state_ = State::kTrailer;
  }
}

MacCheck FrameReader::CheckTag(std::span<const uint8_t> tag) {
  if (!mac_) return MacCheck::kInvalid;
  const MacTag expected = mac_->Final();
  mac_.reset();
  return TagEquals(expected, tag) ? MacCheck::kValid : MacCheck::kInvalid;
}

Result<bool> FrameReader::Next(InFrame* out) {
  if (state_ == State::kPayload) return false;
  if (state_ == State::kTrailer) {
    const size_t need = large_.prefix.has_mac() ? kMacBytes : 0;
    if (end_ - pos_ < need) return false;
    large_.mac = need > 0 ? CheckTag({staging_.data() + pos_, need}) : MacCheck::kAbsent;
    pos_ += need;
    *out = std::move(large_);
    large_ = InFrame();
    state_ = State::kHead;
    return true;
  }
  return StartFrame(out);
}

Result<bool> FrameReader::StartFrame(InFrame* out) {
  const size_t avail = end_ - pos_;
  if (avail < kFramePrefixBytes) return false;
  const uint8_t* p = staging_.data() + pos_;
  HEARSAY_ASSIGN_OR_RETURN(FramePrefix prefix,
                           DecodeFramePrefix({p, kFramePrefixBytes}, max_payload_));
  const size_t head = kFramePrefixBytes + prefix.header_bytes;
  if (avail < head) return false;
  const uint64_t total = prefix.frame_bytes();
  const size_t n = prefix.payload_bytes;

  if (total <= staging_.size()) {
    // Small frame: wait until all of it is staged, then parse it in place.
    if (avail < total) return false;
    HEARSAY_ASSIGN_OR_RETURN(FrameHeader header,
                             DecodeFrameHeader({p + kFramePrefixBytes, prefix.header_bytes}));
    InFrame f;
    f.payload.assign(p + head, p + head + n);
    if (prefix.has_mac()) {
      if (key_) {
        const MacTag tag = ComputeFrameMac(*key_, header.seq, {p, head}, {p + head, n});
        f.mac = TagEquals(tag, {p + head + n, kMacBytes}) ? MacCheck::kValid : MacCheck::kInvalid;
      } else {
        f.mac = MacCheck::kInvalid;
      }
    }
    f.prefix = prefix;
    f.header = std::move(header);
    pos_ += total;
    *out = std::move(f);
    return true;
  }

  // Large frame: the header is staged; the payload goes straight to its buffer.
  HEARSAY_ASSIGN_OR_RETURN(FrameHeader header,
                           DecodeFrameHeader({p + kFramePrefixBytes, prefix.header_bytes}));
  ByteBuffer payload;
  try {
    payload = pool_ ? pool_->Acquire(n) : ByteBuffer();
    if (!pool_) payload.reserve(n);
  } catch (const std::bad_alloc&) {
    return Unavailable("cannot allocate " + std::to_string(n) + " bytes for the payload of a " +
                       FrameKindName(header.kind) + " frame (out of memory)");
  }
  mac_.reset();
  if (prefix.has_mac() && key_) {
    mac_.emplace(*key_, header.seq, head + n);
    mac_->Update({p, head});
  }
  large_ = InFrame();
  large_.prefix = prefix;
  large_.header = std::move(header);
  large_.payload = std::move(payload);
  pos_ += head;
  payload_got_ = 0;
  state_ = State::kPayload;
  // Payload bytes that came with the header are copied once; the rest is read in place.
  const size_t have = std::min(end_ - pos_, n);
  if (have > 0) {
    if (large_.payload.size() < have) large_.payload.resize(have);
    std::memcpy(large_.payload.data(), staging_.data() + pos_, have);
    pos_ += have;
    Commit(have);  // in state kPayload: MACs and counts them
  }
  return Next(out);
}

}  // namespace hearsay
