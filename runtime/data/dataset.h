// Dataset and Batch: dense float features with integer class labels.
//
// A Dataset owns its rows (row-major, num_examples x num_features). A Batch is a non-owning view
// of a contiguous block of rows (peers gather their minibatch into a scratch Dataset first).
// Labels are 0..num_classes-1 (logistic regression uses 0/1).
// Thread-safety: immutable after construction; views are safe to share.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace hearsay {

struct Batch {
  const float* features = nullptr;  // rows x cols, row-major
  const int32_t* labels = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
};

struct Dataset {
  int64_t num_features = 0;
  int32_t num_classes = 0;
  std::vector<float> features;  // num_examples * num_features, row-major
  std::vector<int32_t> labels;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  Batch AsBatch() const { return Batch{features.data(), labels.data(), size(), num_features}; }
};

}  // namespace hearsay
