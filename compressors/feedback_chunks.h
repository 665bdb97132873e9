// The chunked forms of Compressor::DecodeChunks (DecodeInChunks, below) and of
// Compressor::EncodeWithFeedback for codecs whose encoding of a range of
// elements depends on that range alone (element-wise codecs, and block codecs cut at block
// boundaries): p = x + e, its encoding, its decoding q and e = p - q, one cache-sized chunk at a
// time, so that x and e are read from memory once and e written once -- where the generic path
// (error_feedback.cc) streams d floats through memory eight times. The bytes and residuals are
// the generic path's, bit for bit (ErrorFeedback.FusedPathsEqualTheDefinition): each element's
// p, q and e are the same IEEE operations on the same values.
// Thread-safety: none (the scratch is the caller's).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "common/status.h"
#include "compressors/compressor.h"

namespace hearsay {

namespace kernels {
// out[i] = a[i] + b[i] and out[i] = a[i] - b[i] (element-wise; vectorised at run time, the same
// results on every path).
void AddFloats(const float* a, const float* b, float* out, size_t n);
void SubFloats(const float* a, const float* b, float* out, size_t n);
}  // namespace kernels

// Elements per chunk: p and q (64 KiB each) stay in the 2nd-level cache.
inline constexpr size_t kFeedbackChunk = 16384;

// Elements per chunk of Compressor::DecodeChunks: 32 KiB of floats, in cache while the caller
// adds them into its state.
inline constexpr size_t kDecodeChunk = 8192;

// The loop of a DecodeChunks override, for a payload that passed every check: decode(lo, n, q)
// writes elements [lo, lo + n) into q; chunks of `chunk` elements (a multiple of the codec's
// alignment: 8 for a sign plane, the block for block codecs) go through the first elements of
// *scratch to `sink`.
template <typename Decode>
void DecodeInChunks(size_t d, size_t chunk, std::vector<float>* scratch, DecodedChunks& sink,
                    Decode&& decode) {
  if (scratch->size() < std::min(d, chunk)) scratch->resize(std::min(d, chunk));
  for (size_t lo = 0; lo < d; lo += chunk) {
    const size_t n = std::min(chunk, d - lo);
    decode(lo, n, scratch->data());
    sink.Take(lo, std::span<const float>(scratch->data(), n));
  }
}

// `chunk`: elements per chunk, a multiple of the codec's alignment (8 for a sign plane, the block
// for a block codec). encode(p, lo, n) writes the encoding of elements [lo, lo + n), given as p,
// into its place in the output (or fails, having undone the output); decode(lo, n, q) decodes the
// same elements from the output into q. On failure the chunks before the failing one already
// hold their new residual.
template <typename Encode, typename Decode>
Status ChunkedFeedback(std::span<const float> x, std::span<float> residual, size_t chunk,
                       FeedbackScratch* scratch, Encode&& encode, Decode&& decode) {
  const size_t d = x.size();
  std::vector<float>& p = scratch->sent;
  std::vector<float>& q = scratch->decoded;
  p.resize(std::min(d, chunk));
  q.resize(std::min(d, chunk));
  for (size_t lo = 0; lo < d; lo += chunk) {
    const size_t n = std::min(chunk, d - lo);
    kernels::AddFloats(x.data() + lo, residual.data() + lo, p.data(), n);
    HEARSAY_RETURN_IF_ERROR(encode(static_cast<const float*>(p.data()), lo, n));
    decode(lo, n, q.data());
    kernels::SubFloats(p.data(), q.data(), residual.data() + lo, n);
  }
  return Status::Ok();
}

}  // namespace hearsay
