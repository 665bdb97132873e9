// Input files that must be regular files: data, edge lists, codec inputs, secrets. A device
// (/dev/zero, /dev/urandom), FIFO or socket never ends or blocks a reader, and a directory is not
// data; each is refused up front with a one-line error naming the file, as is a file larger than
// the caller's cap.
// Thread-safety: pure functions (they read the file system).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace hearsay {

// Ok when `path` is a regular file (symbolic links followed) of at most max_bytes bytes.
// `what` names the file's role in messages, e.g. "LIBSVM file": "data/x.svm: LIBSVM file is a
// character device, not a regular file". NotFound when it does not exist.
Status CheckRegularFile(const std::string& path, uint64_t max_bytes, const std::string& what);

// The whole content of a regular file of at most max_bytes bytes (same checks, made on the opened
// descriptor, and a FIFO never blocks the open).
Result<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes,
                                    const std::string& what);

}  // namespace hearsay
