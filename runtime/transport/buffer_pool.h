// BufferPool: payload buffers kept for reuse, so that a transport reads each large payload into
// memory that is already mapped and written (no allocation, no zero-fill, no page faults) -- the
// receive-side cost issue 13 measured. Buffers come back from two places: payloads the transport
// has finished writing, and payloads the consumer hands back with Transport::Recycle.
//
// Bounded: at most `max_buffers` buffers and `max_bytes` bytes of capacity are kept; buffers
// below `min_bytes` are not worth keeping (small vectors are cheap to allocate) and are freed.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "common/byte_buffer.h"

namespace hearsay {

class BufferPool {
 public:
  BufferPool(size_t max_buffers, size_t max_bytes, size_t min_bytes = 64 << 10)
      : max_buffers_(max_buffers), max_bytes_(max_bytes), min_bytes_(min_bytes) {}

  // A buffer whose capacity is at least n: the smallest pooled one that is not wastefully large
  // (capacity <= 4n), else a new empty buffer with that capacity reserved. Its size and contents
  // are unspecified: the caller resizes it as data arrives (resize only writes the part beyond the
  // current size). May throw std::bad_alloc.
  ByteBuffer Acquire(size_t n);
  // Keeps b for a later Acquire if the bounds allow; frees it otherwise.
  void Release(ByteBuffer b);

  size_t min_bytes() const { return min_bytes_; }
  size_t pooled_buffers() const;
  size_t pooled_bytes() const;

 private:
  const size_t max_buffers_, max_bytes_, min_bytes_;
  mutable std::mutex mu_;
  std::vector<ByteBuffer> free_;  // guarded by mu_
  size_t bytes_ = 0;              // sum of free_ capacities; guarded by mu_
};

// `b` as a buffer several owners read (one message payload written on several links): whoever
// lets go of it last gives it back to `pool` (Release), or frees it when the pool is gone. The
// shared pointer's own reference count decides who is last, with the ordering that makes every
// other holder's reads happen before the buffer is reused.
std::shared_ptr<const ByteBuffer> ShareFromPool(const std::shared_ptr<BufferPool>& pool,
                                                ByteBuffer b);

}  // namespace hearsay
