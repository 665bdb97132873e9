#include "runtime/version.h"

namespace hearsay {
const char* RuntimeVersion() { return HEARSAY_VERSION_STRING; }
bool BuiltWithCuda() {
#ifdef HEARSAY_WITH_CUDA
  return true;
#else
  return false;
#endif
}
}  // namespace hearsay
