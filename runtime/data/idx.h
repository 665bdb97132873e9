// IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a pair
// of files, images and labels.
//
// Layout of one file (all integers big-endian):
//   bytes 0-1  zero
//   byte  2    element type: 0x08 = unsigned byte (the only type hearsay reads; 0x09 int8,
//              0x0B int16, 0x0C int32, 0x0D float32 and 0x0E float64 are refused by name)
//   byte  3    number of dimensions D (>= 1)
//   4 x D      the size of each dimension, uint32 (each >= 1)
//   then       the elements, row-major: exactly prod(sizes) bytes, nothing after them.
// The images file has D >= 2: example count, then the shape of one example (28 x 28 for MNIST),
// flattened to num_features = prod(sizes[1..]). Pixels are scaled to [0, 1] (byte / 255).
// The labels file has D = 1 and as many entries as there are images; a label is the class id
// (num_classes = max(largest label + 1, 2)).
// A file whose header disagrees with its size is refused in one line that gives both
// ("t10k-images-idx3-ubyte: IDX header says 10000 x 28 x 28 bytes of data (7840016 bytes in
// all), the file has 7840000 bytes (truncated?)"); a gzip-compressed file is recognised and
// refused ("gunzip it first"). Errors name the file and the byte offset of the bad field.
// Only regular files of at most kMaxDataFileBytes are read, and the dense float matrix must fit
// in max_dense_bytes (0 = half the machine's memory), checked before it is allocated.
// Thread-safety: pure function (reads the files).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/data/dataset.h"

namespace hearsay {

// Checks one IDX file's header against its size without reading its data (experiment
// validation: a truncated download is reported before any run starts). Same messages as LoadIdx.
Status CheckIdxHeader(const std::string& path);

Result<Dataset> LoadIdx(const std::string& images_path, const std::string& labels_path,
                        uint64_t max_dense_bytes = 0);

// The pair without its pixels: num_features, num_classes and every label as LoadIdx gives them,
// `features` empty (the same checks and errors, bar the dense-size budget). What a peer needs to
// compute the split and partition before it reads its shard with LoadIdxRows.
Result<Dataset> LoadIdxLabels(const std::string& images_path, const std::string& labels_path);

// Examples `rows` (indices into the files, in that order) as rows 0..m-1, only their bytes read:
// the same values, labels, num_features and num_classes (from the whole labels file) as the
// same rows of LoadIdx. The budget applies to the m rows. An index outside the file is an error.
Result<Dataset> LoadIdxRows(const std::string& images_path, const std::string& labels_path,
                            const std::vector<int64_t>& rows, uint64_t max_dense_bytes = 0);

}  // namespace hearsay
