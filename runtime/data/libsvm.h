// LIBSVM-format classification files ("label index:value index:value ...", indices from 1).
//
// Lines may be blank or start with '#' (skipped); a '#' after the features starts a comment.
// Indices must be strictly ascending within a line. Labels must be integers; the distinct label
// values of the file are mapped in ascending order to 0..k-1 (so {-1,+1} -> {0,1}, {1,2,3} ->
// {0,1,2}, {0,1} stays). The mapping is per file: load train and test from one file and split
// them (SplitTrainTest) when a class may be missing from one of them.
// num_classes = max(number of distinct labels, 2). Features are stored densely
// (num_examples x num_features floats).
// Thread-safety: pure function (reads the file).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/data/data_limits.h"
#include "runtime/data/dataset.h"
#include "runtime/data/text_index.h"

namespace hearsay {

// Only regular files of at most kMaxLibsvmFileBytes are read (a device such as /dev/zero would be
// read for ever). The dense matrix must fit in max_dense_bytes and the labels be at
// most kMaxLibsvmClasses distinct values; both are checked before anything large is allocated.
inline constexpr uint64_t kMaxLibsvmFileBytes = kMaxDataFileBytes;
inline constexpr size_t kMaxLibsvmClasses = kMaxDataClasses;

// num_features = 0 infers the dimension from the largest index; otherwise an index above
// num_features is an error. max_dense_bytes bounds the dense matrix (0 = half the machine's
// memory). Errors name "path:line" and the problem.
class LibsvmIndex;

// `index` (may be null): also set to the file's index (LibsvmIndex), from the same pass.
Result<Dataset> LoadLibsvm(const std::string& path, int64_t num_features,
                           uint64_t max_dense_bytes = 0, LibsvmIndex* index = nullptr);

// A LIBSVM file indexed for reading some of its examples (a peer's shard) without holding the
// rest: Build parses and checks every line as LoadLibsvm does (the same errors) but keeps only
// the labels and where each example's line is (20 bytes per example); Rows then parses the
// listed examples alone. Save and Load keep an index on disk for other processes
// (runtime/data/text_index.h).
class LibsvmIndex {
 public:
  LibsvmIndex() = default;
  static Result<LibsvmIndex> Build(const std::string& path, int64_t num_features);
  // The index saved in `file` for `path` read with `num_features`, if it is for the file as it
  // is now (LoadTextIndex's errors otherwise).
  static Result<LibsvmIndex> Load(const std::string& file, const std::string& path,
                                  int64_t num_features);
  Status Save(const std::string& file) const;

  // num_features, num_classes and every example's class id, as LoadLibsvm gives them; no
  // features.
  Dataset labels() const { return Dataset{t_.num_features, t_.num_classes, {}, t_.labels}; }
  // Examples `rows` (indices into labels(), in that order) as rows 0..m-1: the same values as
  // the same rows of LoadLibsvm. The budget applies to the m rows; an index out of range, or a
  // file changed since Build, is an error.
  Result<Dataset> Rows(const std::vector<int64_t>& rows, uint64_t max_dense_bytes = 0) const;

 private:
  friend Result<Dataset> LoadLibsvm(const std::string&, int64_t, uint64_t, LibsvmIndex*);
  explicit LibsvmIndex(std::string path) : path_(std::move(path)) {}
  std::string path_;
  // What is saved: t_.extra is the largest feature index, t_.class_values the label value of
  // each class id (a re-read line's label is checked against it).
  TextIndexFile t_;
};

}  // namespace hearsay
