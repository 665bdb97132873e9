// Test-only fakes for the algorithm tests: a hand-built static topology and tiny codecs.
// They do not depend on topology/ generators or compressors/ codecs on purpose.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/byte_buffer.h"
#include "compressors/compressor.h"
#include "topology/topology.h"

namespace hearsay::testing {

// A fixed W given by rows of (j, W_ij), i included, ascending j.
class FixedTopology final : public Topology {
 public:
  explicit FixedTopology(std::vector<std::vector<Neighbor>> rows) : rows_(std::move(rows)) {
    const int n = static_cast<int>(rows_.size());
    in_.resize(n);
    out_.resize(n);
    for (int i = 0; i < n; ++i) {
      for (const Neighbor& nb : rows_[i]) {
        if (nb.id == i) continue;
        in_[i].push_back(nb.id);
        out_[nb.id].push_back(i);
      }
    }
  }
  int size() const override { return static_cast<int>(rows_.size()); }
  const std::vector<Neighbor>& Row(int i, int64_t) const override { return rows_[i]; }
  const std::vector<int>& OutNeighbors(int i, int64_t) const override { return out_[i]; }
  const std::vector<int>& InNeighbors(int i, int64_t) const override { return in_[i]; }
  std::string Fingerprint() const override { return "fixed"; }

 private:
  std::vector<std::vector<Neighbor>> rows_;
  std::vector<std::vector<int>> in_, out_;
};

// Undirected ring of n >= 3 peers with Metropolis weights (1/3 everywhere).
inline std::shared_ptr<const Topology> Ring(int n) {
  std::vector<std::vector<Neighbor>> rows(n);
  for (int i = 0; i < n; ++i) {
    std::vector<int> ids = {(i + n - 1) % n, i, (i + 1) % n};
    std::sort(ids.begin(), ids.end());
    for (int j : ids) rows[i].push_back({j, 1.0 / 3.0});
  }
  return std::make_shared<FixedTopology>(std::move(rows));
}

// 3-peer ring with dyadic weights W_ii = 1/2, W_ij = 1/4: float arithmetic is exact.
inline std::shared_ptr<const Topology> DyadicTriangle() {
  std::vector<std::vector<Neighbor>> rows(3);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) rows[i].push_back({j, i == j ? 0.5 : 0.25});
  }
  return std::make_shared<FixedTopology>(std::move(rows));
}

// Raw fp32 codec; `scale` != 1 makes it a deterministic biased codec (decode = scale * x).
class ScaleCodec final : public Compressor {
 public:
  explicit ScaleCodec(float scale = 1.0f) : scale_(scale) {}
  std::string Spec() const override { return scale_ == 1.0f ? "identity" : "test_scale"; }
  bool Unbiased() const override { return scale_ == 1.0f; }
  double BitsPerElement(size_t) const override { return 32; }
  Status Encode(std::span<const float> x, const RngKey&, ByteBuffer* out) override {
    for (float v : x) AppendPod(out, v * scale_);
    return Status::Ok();
  }
  Status Decode(std::span<const uint8_t> bytes, const RngKey&,
                std::span<float> out) const override {
    if (bytes.size() != out.size() * sizeof(float)) return Corruption("test codec: bad size");
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return Status::Ok();
  }

 private:
  float scale_;
};

}  // namespace hearsay::testing
