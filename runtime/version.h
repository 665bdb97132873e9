// Build identity of the runtime: version string and protocol version, printed by `--version`.
#pragma once

namespace hearsay {
const char* RuntimeVersion();  // "0.1.0"
bool BuiltWithCuda();          // true when the CUDA backend was compiled in
const char* GitCommit();       // `git describe --always --dirty` at configure time, or "unknown"
const char* BuildOptions();    // "type=Release compiler=GNU-12.2.0 cuda=ON native=OFF ..."
}  // namespace hearsay
