// ef(C): error feedback around any codec C. The sender keeps a residual e (what C dropped so
// far) and encodes p = x + e; after encoding it decodes its own bytes q and keeps e = p - q.
// Receivers decode with C unchanged: the wire format is C's. Over rounds the sum of decoded
// messages tracks the sum of inputs: sum_t q_t = sum_t x_t - e_T.
//
// Biased by construction (E[q] = x + e), which is why Unbiased() is false; used with CHOCO.
// Ownership/threading: one instance per sender and per tensor (the residual is sender state,
// sized by the first Encode); Encode is not thread-safe, Decode is const.
#pragma once

#include <memory>
#include <vector>

#include "compressors/compressor.h"

namespace hearsay {

class ErrorFeedback final : public Compressor {
 public:
  explicit ErrorFeedback(std::unique_ptr<Compressor> inner) : inner_(std::move(inner)) {}

  std::string Spec() const override { return "ef(" + inner_->Spec() + ")"; }
  bool Unbiased() const override { return false; }
  double BitsPerElement(size_t d) const override { return inner_->BitsPerElement(d); }
  // Fails with InvalidArgument if x's length differs from the first encoded vector's.
  Status Encode(std::span<const float> x, const RngKey& key, ByteBuffer* out) override;
  Status Decode(std::span<const uint8_t> bytes, const RngKey& key,
                std::span<float> out) const override {
    return inner_->Decode(bytes, key, out);
  }
  Status DecodeChunks(std::span<const uint8_t> bytes, const RngKey& key, size_t d,
                      std::vector<float>* scratch, DecodedChunks& sink) const override {
    return inner_->DecodeChunks(bytes, key, d, scratch, sink);
  }

  void SaveState(StateWriter& w) const override { w.Floats(residual_); }
  Status LoadState(StateReader& r) override { return r.AnyFloats(&residual_, "ef residual"); }

  // The current residual (empty before the first Encode).
  std::span<const float> residual() const { return residual_; }

 private:
  std::unique_ptr<Compressor> inner_;
  std::vector<float> residual_;
  FeedbackScratch scratch_;  // reused across calls
};

}  // namespace hearsay
