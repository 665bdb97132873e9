// libFuzzer target: the LIBSVM reader. Dense data is capped at 64 MiB here (the reader's budget
// is a parameter), so large declared indices must come back as validation errors, not as
// allocations. Invariants: a dataset or an error status, no crash or out-of-bounds access; the
// index a peer reads its shard through (LibsvmIndex) fails with the same message, or gives the
// same rows (read back to front, so every line is found by its offset).
#include <cstdlib>

#include "fuzz/fuzz_util.h"
#include "runtime/data/libsvm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hearsay;
  const std::string path = fuzz::WriteScratch("data.svm", data, size);
  constexpr uint64_t kBudget = 64 << 20;
  Result<Dataset> whole = LoadLibsvm(path, 0, kBudget);
  Result<LibsvmIndex> index = LibsvmIndex::Build(path, 0);
  if (!whole.ok()) {
    // Build does not hold the dense matrix, so only the budget error may differ.
    if (index.ok() && whole.status().message().find("as dense float32") == std::string::npos) {
      std::abort();
    }
    if (!index.ok() && index.status().message() != whole.status().message()) std::abort();
    return 0;
  }
  if (!index.ok()) std::abort();
  std::vector<int64_t> rows;
  for (int64_t r = whole->size() - 1; r >= 0; --r) rows.push_back(r);
  Result<Dataset> back = index->Rows(rows, kBudget);
  if (!back.ok() || back->num_features != whole->num_features ||
      back->num_classes != whole->num_classes || index->labels().labels != whole->labels) {
    std::abort();
  }
  const auto d = static_cast<size_t>(whole->num_features);
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto r = static_cast<size_t>(rows[k]);
    if (back->labels[k] != whole->labels[r]) std::abort();
    for (size_t j = 0; j < d; ++j) {
      const float a = back->features[k * d + j], b = whole->features[r * d + j];
      if (a != b && !(a != a && b != b)) std::abort();
    }
  }
  return 0;
}
