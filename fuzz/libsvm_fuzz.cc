// libFuzzer target: the LIBSVM reader. Dense data is capped at 64 MiB here (the reader's budget
// is a parameter), so large declared indices must come back as validation errors, not as
// allocations. Invariant: a dataset or an error status; no crash or out-of-bounds access.
#include "fuzz/fuzz_util.h"
#include "runtime/data/libsvm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hearsay;
  const std::string path = fuzz::WriteScratch("data.svm", data, size);
  (void)LoadLibsvm(path, 0, /*max_dense_bytes=*/64 << 20);
  return 0;
}
