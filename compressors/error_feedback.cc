#include "compressors/error_feedback.h"

#include <string>

namespace hearsay {

Status ErrorFeedback::Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) {
  const size_t d = x.size();
  if (residual_.empty() && d != 0) residual_.assign(d, 0.0f);
  if (residual_.size() != d) {
    return InvalidArgument(Spec() + ": vector length changed from " +
                           std::to_string(residual_.size()) + " to " + std::to_string(d) +
                           "; use one ef codec per tensor");
  }
  // p and q live in member buffers: allocating (and page-faulting) d floats per call used to
  // cost more than the inner codec.
  std::vector<float>& p = sent_;
  p.resize(d);
  for (size_t i = 0; i < d; ++i) p[i] = x[i] + residual_[i];
  const size_t start = out->size();
  HEARSAY_RETURN_IF_ERROR(inner_->Encode(p, key, out));
  decoded_.resize(d);
  Status s = inner_->Decode(std::span<const uint8_t>(*out).subspan(start), key, decoded_);
  if (!s.ok()) {
    out->resize(start);
    return Internal(Spec() + ": could not decode its own encoding: " + s.message());
  }
  for (size_t i = 0; i < d; ++i) residual_[i] = p[i] - decoded_[i];
  return Status::Ok();
}

}  // namespace hearsay
