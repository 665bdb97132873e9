// StateWriter / StateReader: the little-endian encoding of a component's training state for
// checkpoints (docs/faults.md "Checkpoints"). Each stateful component (Algorithm, Compressor,
// Optimizer, PeerCore) writes its fields in a fixed order and reads them back in the same order;
// a checkpoint file wraps the result with a header and a checksum (runtime/peer/checkpoint.h).
//
// The reader never trusts its bytes: every Read* checks what remains, and a vector read into an
// existing vector must have that vector's size (the component was rebuilt from the same
// experiment, so its shapes are known); a mismatch is a Corruption naming the field.
// Thread-safety: none; one owner at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "common/byte_buffer.h"
#include "common/status.h"

namespace hearsay {

class StateWriter {
 public:
  explicit StateWriter(ByteBuffer* out) : out_(out) {}
  void I64(int64_t v) { AppendPod(out_, v); }
  void F64(double v) { AppendPod(out_, v); }
  void Floats(std::span<const float> v) {
    AppendPod<uint64_t>(out_, v.size());
    AppendBytes(out_, v.data(), v.size() * sizeof(float));
  }
  void Doubles(std::span<const double> v) {
    AppendPod<uint64_t>(out_, v.size());
    AppendBytes(out_, v.data(), v.size() * sizeof(double));
  }
  void Ints(std::span<const int64_t> v) {
    AppendPod<uint64_t>(out_, v.size());
    AppendBytes(out_, v.data(), v.size() * sizeof(int64_t));
  }
  void Chars(std::span<const char> v) {
    AppendPod<uint64_t>(out_, v.size());
    AppendBytes(out_, v.data(), v.size());
  }

 private:
  ByteBuffer* out_;
};

class StateReader {
 public:
  explicit StateReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size() - pos_; }

  Status I64(int64_t* v, const char* what) { return Pod(v, what); }
  Status F64(double* v, const char* what) { return Pod(v, what); }
  // Reads a vector that must have exactly v->size() elements.
  Status Floats(std::vector<float>* v, const char* what) { return Vector(v, what, false); }
  Status Doubles(std::vector<double>* v, const char* what) { return Vector(v, what, false); }
  Status Ints(std::vector<int64_t>* v, const char* what) { return Vector(v, what, false); }
  Status Chars(std::vector<char>* v, const char* what) { return Vector(v, what, false); }
  // Reads a vector of any size (at most what remains), resizing *v.
  Status AnyFloats(std::vector<float>* v, const char* what) { return Vector(v, what, true); }
  Status AnyInts(std::vector<int64_t>* v, const char* what) { return Vector(v, what, true); }

 private:
  template <typename T>
  Status Pod(T* v, const char* what) {
    if (remaining() < sizeof(T)) return Corruption(std::string("truncated at ") + what);
    std::memcpy(v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }
  template <typename T>
  Status Vector(std::vector<T>* v, const char* what, bool any_size) {
    uint64_t n = 0;
    HEARSAY_RETURN_IF_ERROR(Pod(&n, what));
    if (n > remaining() / sizeof(T)) return Corruption(std::string("truncated at ") + what);
    if (!any_size && n != v->size()) {
      return Corruption(std::string(what) + " has " + std::to_string(n) +
                        " values; this run's has " + std::to_string(v->size()));
    }
    v->resize(n);
    if (n > 0) std::memcpy(v->data(), bytes_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return Status::Ok();
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace hearsay
