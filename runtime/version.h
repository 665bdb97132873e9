// Build identity of the runtime: version string and protocol version, printed by `--version`.
#pragma once

namespace hearsay {
const char* RuntimeVersion();  // "0.1.0"
bool BuiltWithCuda();          // true when the CUDA backend was compiled in
}  // namespace hearsay
