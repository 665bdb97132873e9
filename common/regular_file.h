// Input files that must be regular files: data, edge lists, codec inputs, secrets. A device
// (/dev/zero, /dev/urandom), FIFO or socket never ends or blocks a reader, and a directory is not
// data; each is refused up front with a one-line error naming the file, as is a file larger than
// the caller's cap.
// Thread-safety: pure functions (they read the file system).
#pragma once

#include <cstddef>
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

// An open regular file (the same checks), read in pieces at given offsets: for a reader that
// needs only part of a large file (a peer's shard of an IDX images file). Move-only; closes the
// file when destroyed.
class RegularFile {
 public:
  static Result<RegularFile> Open(const std::string& path, uint64_t max_bytes,
                                  const std::string& what);
  RegularFile(RegularFile&& other) noexcept;
  RegularFile& operator=(RegularFile&& other) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();

  uint64_t size() const { return size_; }  // as seen at Open
  // Exactly n bytes from `offset` into out; an error naming the file when they cannot be read
  // (past the end, or the file shrank since Open).
  Status ReadAt(uint64_t offset, void* out, size_t n) const;

 private:
  RegularFile(int fd, uint64_t size, std::string path, std::string what)
      : fd_(fd), size_(size), path_(std::move(path)), what_(std::move(what)) {}
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_, what_;
};

}  // namespace hearsay
