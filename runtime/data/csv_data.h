// Numeric CSV classification files: one example per line, a label column and feature columns.
//
//   label,pixel0,pixel1,...        <- optional header (see CsvHeader)
//   5,0,0.25,...
//
// Format (docs/experiment_format.md "Data files"):
//   - fields are separated by `delimiter` (one character; ',' by default). With ' ' as the
//     delimiter, runs of spaces separate fields and leading/trailing spaces are ignored;
//   - a field may be quoted ("1.5", with "" for a quote inside); spaces around a field and a
//     trailing '\r' (CRLF files) are ignored, as is a UTF-8 byte-order mark at the start;
//   - blank lines are skipped; there are no comment lines (CSV has none);
//   - every line has as many fields as the first one;
//   - the label is a non-negative integer (written 3 or 3.0), used as the class id directly, so
//     train and test files agree on classes; num_classes = max(largest label + 1, 2);
//   - every feature is a finite number (no empty fields, no nan / inf).
// Errors name "path:line" (and the column, 1-based, where one field is at fault) and the reason.
// Only regular files of at most kMaxDataFileBytes are opened; the dense matrix must fit in
// max_dense_bytes (0 = half the machine's memory), checked while reading.
// Thread-safety: pure function (reads the file).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/data/dataset.h"
#include "runtime/data/text_index.h"

namespace hearsay {

enum class CsvHeader {
  kAuto,  // the first non-blank line is a header when its label field is not a number
  kYes,   // the first non-blank line is a header
  kNo,    // every line is an example
};

struct CsvOptions {
  int64_t label_column = 0;             // 0-based column of the label; -1 = the last column
  CsvHeader header = CsvHeader::kAuto;  // auto
  char delimiter = ',';                 // field separator
};

// "auto" | "true" | "false" (also yes/no): the names experiment files use.
const char* CsvHeaderName(CsvHeader header);

class CsvIndex;

// `index` (may be null): also set to the file's index (CsvIndex), from the same pass.
Result<Dataset> LoadCsv(const std::string& path, const CsvOptions& options,
                        uint64_t max_dense_bytes = 0, CsvIndex* index = nullptr);

// A CSV file indexed for reading some of its examples (a peer's shard) without holding the rest:
// Build checks every line as LoadCsv does (the same errors) but keeps only the labels and where
// each example's line is (20 bytes per example); Rows then parses the listed examples alone.
// Save and Load keep an index on disk for other processes (runtime/data/text_index.h).
class CsvIndex {
 public:
  CsvIndex() = default;
  static Result<CsvIndex> Build(const std::string& path, const CsvOptions& options);
  // The index saved in `file` for `path` read with `options`, if it is for the file as it is
  // now (LoadTextIndex's errors otherwise).
  static Result<CsvIndex> Load(const std::string& file, const std::string& path,
                               const CsvOptions& options);
  Status Save(const std::string& file) const;

  // num_features, num_classes and every example's label, as LoadCsv gives them; no features.
  Dataset labels() const { return Dataset{t_.num_features, t_.num_classes, {}, t_.labels}; }
  // Examples `rows` (indices into labels(), in that order) as rows 0..m-1: the same values as
  // the same rows of LoadCsv. The budget applies to the m rows; an index out of range, or a file
  // changed since Build, is an error.
  Result<Dataset> Rows(const std::vector<int64_t>& rows, uint64_t max_dense_bytes = 0) const;

 private:
  friend Result<Dataset> LoadCsv(const std::string&, const CsvOptions&, uint64_t, CsvIndex*);
  CsvIndex(std::string path, CsvOptions options) : path_(std::move(path)), options_(options) {}
  std::string path_;
  CsvOptions options_;
  TextIndexFile t_;  // what is saved; t_.extra is the label column
};

}  // namespace hearsay
