// Limits shared by the data-file readers (LIBSVM, CSV, IDX): how large a file they open and how
// much dense float32 data they may build from it.
//
// Every reader checks its dense matrix against a budget before it allocates it (issue 8: an index
// of 1e10 gave "internal error: std::bad_alloc"), and opens regular files only
// (common/regular_file.h: a device such as /dev/zero would be read for ever).
// Thread-safety: pure functions.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/status.h"

namespace hearsay {

// Largest data file a reader opens.
inline constexpr uint64_t kMaxDataFileBytes = uint64_t{64} << 30;
// Most distinct classes a data file may hold.
inline constexpr size_t kMaxDataClasses = 10000;

// Half the machine's memory: the dense feature matrix must leave room for the model, the replicas
// and the other peers of an in-process run.
inline uint64_t DefaultDenseBudgetBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return uint64_t{8} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 2;
}

// "1.5 GiB".
inline std::string FormatGiB(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f GiB", bytes / (1 << 30));
  return buf;
}

// Ok when every index of `rows` names one of the n examples of `path` (the readers of a subset of
// a file's examples: LoadIdxRows, CsvIndex::Rows, LibsvmIndex::Rows).
inline Status CheckExampleRows(const std::string& path, const std::vector<int64_t>& rows,
                               int64_t n) {
  for (int64_t r : rows) {
    if (r < 0 || r >= n) {
      return InvalidArgument(path + ": example " + std::to_string(r) + " asked for; the file has " +
                             std::to_string(n));
    }
  }
  return Status::Ok();
}

}  // namespace hearsay
