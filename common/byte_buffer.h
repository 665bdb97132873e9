// ByteBuffer: a growable byte vector used for encoded messages, plus little-endian helpers.
//
// All hearsay wire formats are little-endian. Reader never reads past its span: every Read*
// returns false when too few bytes remain, so decoders can turn that into a Corruption status.
// Thread-safety: none; one owner at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace hearsay {

using ByteBuffer = std::vector<uint8_t>;

inline void AppendBytes(ByteBuffer* out, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + n);
}

template <typename T>
inline void AppendPod(ByteBuffer* out, T v) {  // little-endian hosts only (checked below)
  AppendBytes(out, &v, sizeof(T));
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "hearsay assumes a little-endian host");

// Bounds-checked sequential reader over a byte span.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size() - pos_; }
  size_t position() const { return pos_; }

  template <typename T>
  bool ReadPod(T* v) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  // Returns a view of the next n bytes and advances; false if fewer remain.
  bool ReadSpan(size_t n, std::span<const uint8_t>* out) {
    if (remaining() < n) return false;
    *out = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace hearsay
