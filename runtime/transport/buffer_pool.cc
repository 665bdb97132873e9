#include "runtime/transport/buffer_pool.h"

#include <utility>

namespace hearsay {

ByteBuffer BufferPool::Acquire(size_t n) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t best = free_.size();
    for (size_t i = 0; i < free_.size(); ++i) {
      const size_t cap = free_[i].capacity();
      if (cap < n || cap / 4 > n) continue;
      if (best == free_.size() || cap < free_[best].capacity()) best = i;
    }
    if (best != free_.size()) {
      ByteBuffer b = std::move(free_[best]);
      free_[best] = std::move(free_.back());
      free_.pop_back();
      bytes_ -= b.capacity();
      return b;
    }
  }
  // A fresh buffer: reserve without touching, so that pages are mapped only as data arrives.
  ByteBuffer b;
  b.reserve(n);
  return b;
}

void BufferPool::Release(ByteBuffer b) {
  const size_t cap = b.capacity();
  if (cap < min_bytes_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.size() >= max_buffers_ || bytes_ + cap > max_bytes_) return;  // b is freed
  bytes_ += cap;
  free_.push_back(std::move(b));
}

std::shared_ptr<const ByteBuffer> ShareFromPool(const std::shared_ptr<BufferPool>& pool,
                                                ByteBuffer b) {
  // One allocation, no deleter, for a buffer the pool would not keep (a small message's).
  if (b.capacity() < pool->min_bytes()) return std::make_shared<const ByteBuffer>(std::move(b));
  auto owned = std::make_unique<ByteBuffer>(std::move(b));
  return std::shared_ptr<const ByteBuffer>(
      owned.release(), [weak = std::weak_ptr<BufferPool>(pool)](const ByteBuffer* p) noexcept {
        // Created non-const above; only the holders' view of it is const.
        std::unique_ptr<ByteBuffer> last(const_cast<ByteBuffer*>(p));
        if (std::shared_ptr<BufferPool> to = weak.lock()) {
          try {
            to->Release(std::move(*last));
          } catch (...) {  // keeping it failed (no memory for the list): it is freed instead
          }
        }
      });
}

size_t BufferPool::pooled_buffers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_.size();
}

size_t BufferPool::pooled_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace hearsay
