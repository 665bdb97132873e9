// ef(C) and the generic forms of Compressor::EncodeWithFeedback and Compressor::DecodeChunks.
//
// Why ef(topk) used to cost 1.9x topk: besides the unavoidable p = x + e (read x and e, write p),
// it decoded its own bytes into a dense vector -- zero-filling d floats and scattering k -- and
// then read p and that vector again to write e: about seven extra passes over d floats, plus
// topk's own allocations. Codecs whose decoding is sparse now override EncodeWithFeedback and
// touch only the kept elements after forming p (sparse.cc).
#include "compressors/error_feedback.h"

#include <string>

namespace hearsay {

Status Compressor::DecodeChunks(std::span<const uint8_t> bytes, const RngKey& key, size_t d,
                                std::vector<float>* scratch, DecodedChunks& sink) const {
  scratch->resize(d);
  HEARSAY_RETURN_IF_ERROR(Decode(bytes, key, *scratch));
  sink.Take(0, *scratch);
  return Status::Ok();
}

Status Compressor::EncodeWithFeedback(std::span<const float> x, std::span<float> residual,
                                      const RngKey& key, ByteBuffer* out,
                                      FeedbackScratch* scratch) {
  const size_t d = x.size();
  std::vector<float>& p = scratch->sent;
  p.resize(d);
  for (size_t i = 0; i < d; ++i) p[i] = x[i] + residual[i];
  const size_t start = out->size();
  HEARSAY_RETURN_IF_ERROR(Encode(p, key, out));
  std::vector<float>& q = scratch->decoded;
  q.resize(d);
  Status s = Decode(std::span<const uint8_t>(*out).subspan(start), key, q);
  if (!s.ok()) {
    out->resize(start);
    return Internal(Spec() + ": could not decode its own encoding: " + s.message());
  }
  for (size_t i = 0; i < d; ++i) residual[i] = p[i] - q[i];
  return Status::Ok();
}

Status ErrorFeedback::Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) {
  const size_t d = x.size();
  if (residual_.empty() && d != 0) residual_.assign(d, 0.0f);
  if (residual_.size() != d) {
    return InvalidArgument(Spec() + ": vector length changed from " +
                           std::to_string(residual_.size()) + " to " + std::to_string(d) +
                           "; use one ef codec per tensor");
  }
  // Scratch lives in members: allocating (and page-faulting) d floats per call used to cost more
  // than the inner codec.
  return inner_->EncodeWithFeedback(x, residual_, key, out, &scratch_);
}

}  // namespace hearsay
