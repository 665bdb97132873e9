// The index of a text data file (CSV, LIBSVM) on disk: what CsvIndex and LibsvmIndex keep --
// every example's label and where its line is -- saved by the launcher, which parses the file
// anyway, so that the peers it starts read their shards without parsing the whole file again.
//
// A saved index names the data file's identity when it was parsed (device, inode, size,
// modification time in ns) and the reader's options; a reader uses it only when all of these
// match the file now and the index is well-formed (sizes, label range, lines inside the file);
// otherwise it parses the file itself. The lines read through an index are parsed and checked
// again (CsvIndex::Rows, LibsvmIndex::Rows), so a file changed under an unchanged identity gives
// an error, never other data. Files are written whole under a temporary name, then renamed.
// Thread-safety: pure functions (they read and write files).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace hearsay {

struct FileIdentity {
  uint64_t device = 0, inode = 0, size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

// The identity of `path` now (stat, symbolic links followed).
Result<FileIdentity> IdentityOf(const std::string& path);

// Where each example's line is: its first byte, its length, its line number (for messages).
struct LineSpans {
  std::vector<uint64_t> offsets;
  std::vector<uint32_t> bytes;
  std::vector<int64_t> line_nos;
  void Add(uint64_t offset, uint32_t n, int64_t line_no) {
    offsets.push_back(offset);
    bytes.push_back(n);
    line_nos.push_back(line_no);
  }
  size_t size() const { return offsets.size(); }
};

struct TextIndexFile {
  std::string kind;    // "csv" or "libsvm"
  std::string params;  // the reader's options, as text: an index is for these only
  FileIdentity source;
  int64_t num_features = 0;
  int32_t num_classes = 0;
  int64_t extra = 0;                 // CSV: the label column; LIBSVM: the largest feature index
  std::vector<double> class_values;  // LIBSVM: the label value of each class id; CSV: none
  std::vector<int32_t> labels;
  LineSpans lines;
};

Status SaveTextIndex(const std::string& file, const TextIndexFile& index);
// The index in `file` if it is one for (kind, params) of the data file `source` as it is now:
// NotFound when there is none, FailedPrecondition when it is for another file, other options or
// an older version of the file, Corruption when it is malformed.
Result<TextIndexFile> LoadTextIndex(const std::string& file, const std::string& kind,
                                    const std::string& params, const std::string& source);

// The index file for data file `path` in folder `dir`: one name per data file.
std::string TextIndexPath(const std::string& dir, const std::string& path);

}  // namespace hearsay
