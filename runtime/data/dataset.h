// Dataset and Batch: dense float features with integer class labels.
//
// A Dataset owns its rows (row-major, num_examples x num_features). A Batch is a non-owning view
// of rows: either a contiguous block, or -- with row_index -- rows picked from a dataset in place
// (the minibatch sampler's view: no copy of the features). Labels are always one per batch row.
// Labels are 0..num_classes-1 (logistic regression uses 0/1).
// Thread-safety: immutable after construction; views are safe to share.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace hearsay {

struct Batch {
  const float* features = nullptr;  // row-major, cols floats per row (see row_index)
  const int32_t* labels = nullptr;  // rows labels, in batch order
  int64_t rows = 0;
  int64_t cols = 0;
  // nullptr: batch row i is features + i * cols. Otherwise batch row i is features +
  // row_index[i] * cols (features is then the whole dataset's).
  const int64_t* row_index = nullptr;

  const float* Row(int64_t i) const { return features + (row_index ? row_index[i] : i) * cols; }
};

// A contiguous view of `batch`: the batch itself when it already is one, else its rows copied
// into *scratch (for code that needs one matrix, e.g. an Eigen map or a device upload).
inline Batch Contiguous(const Batch& batch, std::vector<float>* scratch) {
  if (batch.row_index == nullptr) return batch;
  scratch->resize(static_cast<size_t>(batch.rows * batch.cols));
  for (int64_t i = 0; i < batch.rows; ++i) {
    const float* r = batch.Row(i);
    std::copy(r, r + batch.cols, scratch->data() + i * batch.cols);
  }
  return Batch{scratch->data(), batch.labels, batch.rows, batch.cols, nullptr};
}

struct Dataset {
  int64_t num_features = 0;
  int32_t num_classes = 0;
  std::vector<float> features;  // num_examples * num_features, row-major
  std::vector<int32_t> labels;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  Batch AsBatch() const { return Batch{features.data(), labels.data(), size(), num_features}; }
};

}  // namespace hearsay
