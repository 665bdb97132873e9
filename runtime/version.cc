#include "runtime/version.h"

namespace hearsay {
const char* RuntimeVersion() { return HEARSAY_VERSION_STRING; }
const char* GitCommit() { return HEARSAY_GIT_DESCRIBE; }
const char* BuildOptions() { return HEARSAY_BUILD_OPTIONS; }
bool BuiltWithCuda() {
#ifdef HEARSAY_WITH_CUDA
  return true;
#else
  return false;
#endif
}
}  // namespace hearsay
