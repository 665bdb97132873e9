#include "runtime/data/idx.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/regular_file.h"
#include "runtime/data/data_limits.h"

namespace hearsay {
namespace {

struct IdxHeader {
  std::vector<uint64_t> dims;
  size_t data_offset = 0;  // bytes before the first element
};

const char* TypeName(uint8_t code) {
  switch (code) {
    case 0x08:
      return "uint8";
    case 0x09:
      return "int8";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return nullptr;
  }
}

uint32_t BigEndian32(const std::string& b, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(b[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3]));
}

std::string Shape(const std::vector<uint64_t>& dims) {
  std::string s;
  for (uint64_t d : dims) s += (s.empty() ? "" : " x ") + std::to_string(d);
  return s;
}

// Reads and checks the header at the start of `bytes` (at least the whole header, or the whole
// file when it is shorter): magic, type, dimensions, and that the data that follows has exactly
// the size they announce in a file of file_size bytes.
Result<IdxHeader> ParseHeader(const std::string& path, const std::string& bytes,
                              uint64_t file_size) {
  if (bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f &&
      static_cast<uint8_t>(bytes[1]) == 0x8b) {
    return InvalidArgument(path +
                           ": a gzip-compressed file; hearsay reads IDX files "
                           "uncompressed (gunzip it first)");
  }
  if (bytes.size() < 4) {
    return InvalidArgument(path + ": " + std::to_string(bytes.size()) +
                           " bytes; an IDX file starts with a 4-byte magic number");
  }
  if (bytes[0] != 0 || bytes[1] != 0) {
    return InvalidArgument(path +
                           ": byte 0: not an IDX file (the magic number must start with "
                           "two zero bytes)");
  }
  const auto type = static_cast<uint8_t>(bytes[2]);
  if (type != 0x08) {
    const char* name = TypeName(type);
    return InvalidArgument(path + ": byte 2: element type " +
                           (name ? std::string(name) : "code " + std::to_string(type)) +
                           "; hearsay reads uint8 IDX files (type 0x08)");
  }
  const auto rank = static_cast<uint8_t>(bytes[3]);
  if (rank == 0) return InvalidArgument(path + ": byte 3: zero dimensions");
  IdxHeader h;
  h.data_offset = 4 + 4 * static_cast<size_t>(rank);
  if (file_size < h.data_offset) {
    return InvalidArgument(path + ": the header announces " + std::to_string(rank) +
                           " dimensions (" + std::to_string(h.data_offset) +
                           " header bytes), the file has " + std::to_string(file_size) +
                           " bytes (truncated?)");
  }
  uint64_t elements = 1;
  for (size_t k = 0; k < rank; ++k) {
    const uint64_t d = BigEndian32(bytes, 4 + 4 * k);
    if (d == 0) {
      return InvalidArgument(path + ": byte " + std::to_string(4 + 4 * k) + ": dimension " +
                             std::to_string(k) + " has size 0");
    }
    h.dims.push_back(d);
    // Saturates above the file-size cap, so a header of 2^32 x 2^32 x ... cannot overflow.
    elements = elements > kMaxDataFileBytes / d ? kMaxDataFileBytes + 1 : elements * d;
  }
  const uint64_t expected = h.data_offset + elements;
  if (elements > kMaxDataFileBytes || expected != file_size) {
    return InvalidArgument(path + ": IDX header says " + Shape(h.dims) + " bytes of data (" +
                           (elements > kMaxDataFileBytes ? std::string("more than 64 GiB")
                                                         : std::to_string(expected) + " bytes") +
                           " in all), the file has " + std::to_string(file_size) + " bytes" +
                           (expected > file_size ? " (truncated?)" : " (extra bytes at the end)"));
  }
  return h;
}

}  // namespace

namespace {

// The header of an opened IDX file, checked against the file's size.
Result<IdxHeader> ReadHeader(const std::string& path, const RegularFile& file) {
  constexpr size_t kMaxHeader = 4 + 4 * 255;
  std::string head(static_cast<size_t>(std::min<uint64_t>(file.size(), kMaxHeader)), '\0');
  HEARSAY_RETURN_IF_ERROR(file.ReadAt(0, head.data(), head.size()));
  return ParseHeader(path, head, file.size());
}

}  // namespace

Status CheckIdxHeader(const std::string& path) {
  HEARSAY_ASSIGN_OR_RETURN(RegularFile file,
                           RegularFile::Open(path, kMaxDataFileBytes, "IDX file"));
  return ReadHeader(path, file).status();
}

namespace {

// An images file, opened and checked, and its labels: everything of the pair but the pixels.
struct IdxPair {
  RegularFile images;
  IdxHeader header;
  Dataset labels;  // num_features, num_classes and labels of every example; no features
};

Result<IdxPair> OpenIdxPair(const std::string& images_path, const std::string& labels_path) {
  HEARSAY_ASSIGN_OR_RETURN(RegularFile images,
                           RegularFile::Open(images_path, kMaxDataFileBytes, "IDX images file"));
  HEARSAY_ASSIGN_OR_RETURN(IdxHeader ih, ReadHeader(images_path, images));
  if (ih.dims.size() < 2) {
    return InvalidArgument(images_path +
                           ": an images file needs at least 2 dimensions "
                           "(examples x features...), this one has 1 (" +
                           Shape(ih.dims) + "; is it the labels file?)");
  }
  HEARSAY_ASSIGN_OR_RETURN(std::string labels,
                           ReadRegularFile(labels_path, kMaxDataFileBytes, "IDX labels file"));
  HEARSAY_ASSIGN_OR_RETURN(IdxHeader lh, ParseHeader(labels_path, labels, labels.size()));
  if (lh.dims.size() != 1) {
    return InvalidArgument(labels_path + ": a labels file has 1 dimension, this one has " +
                           std::to_string(lh.dims.size()) + " (" + Shape(lh.dims) +
                           "; is it the images file?)");
  }
  const uint64_t n = ih.dims[0];
  if (lh.dims[0] != n) {
    return InvalidArgument(labels_path + ": " + std::to_string(lh.dims[0]) + " labels for the " +
                           std::to_string(n) + " images of " + images_path);
  }
  IdxPair pair{std::move(images), ih, Dataset{}};
  Dataset& data = pair.labels;
  data.num_features = static_cast<int64_t>((pair.images.size() - ih.data_offset) / n);
  data.labels.resize(static_cast<size_t>(n));
  const auto* lab = reinterpret_cast<const uint8_t*>(labels.data() + lh.data_offset);
  int32_t max_label = 0;
  for (size_t i = 0; i < n; ++i) {
    data.labels[i] = lab[i];
    max_label = std::max<int32_t>(max_label, lab[i]);
  }
  data.num_classes = std::max(max_label + 1, 2);
  return pair;
}

// The examples `rows` of the pair. `whole`: rows is every example in order (for the messages).
Result<Dataset> ReadRows(const std::string& images_path, IdxPair& pair,
                         const std::vector<int64_t>& rows, uint64_t max_dense_bytes, bool whole) {
  const uint64_t budget = max_dense_bytes > 0 ? max_dense_bytes : DefaultDenseBudgetBytes();
  const Dataset& all = pair.labels;
  const auto n = static_cast<int64_t>(all.labels.size());
  const auto d = static_cast<size_t>(all.num_features);
  const double dense_bytes = 4.0 * static_cast<double>(rows.size()) * static_cast<double>(d);
  if (dense_bytes > static_cast<double>(budget)) {
    return InvalidArgument(
        images_path + ": " + (whole ? "" : std::to_string(rows.size()) + " of the ") +
        Shape(pair.header.dims) + " images need " + FormatGiB(dense_bytes) +
        " as dense float32, more than the " + FormatGiB(static_cast<double>(budget)) +
        " allowed (half of this machine's memory)");
  }
  HEARSAY_RETURN_IF_ERROR(CheckExampleRows(images_path, rows, n));
  Dataset data;
  data.num_features = all.num_features;
  data.num_classes = all.num_classes;
  data.features.resize(rows.size() * d);
  data.labels.resize(rows.size());
  // Runs of consecutive examples are read together, at most kChunkBytes at a time: the file's
  // bytes are never all in memory, whatever its size.
  constexpr size_t kChunkBytes = 1 << 20;
  const size_t chunk_rows = std::max<size_t>(1, kChunkBytes / std::max<size_t>(d, 1));
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < rows.size();) {
    size_t k = 1;
    while (i + k < rows.size() && k < chunk_rows &&
           rows[i + k] == rows[i] + static_cast<int64_t>(k)) {
      ++k;
    }
    bytes.resize(k * d);
    HEARSAY_RETURN_IF_ERROR(pair.images.ReadAt(
        pair.header.data_offset + static_cast<uint64_t>(rows[i]) * d, bytes.data(), bytes.size()));
    float* out = data.features.data() + i * d;
    for (size_t j = 0; j < bytes.size(); ++j) out[j] = static_cast<float>(bytes[j]) / 255.0f;
    for (size_t j = 0; j < k; ++j) {
      data.labels[i + j] = all.labels[static_cast<size_t>(rows[i + j])];
    }
    i += k;
  }
  return data;
}

}  // namespace

Result<Dataset> LoadIdxLabels(const std::string& images_path, const std::string& labels_path) {
  HEARSAY_ASSIGN_OR_RETURN(IdxPair pair, OpenIdxPair(images_path, labels_path));
  return std::move(pair.labels);
}

Result<Dataset> LoadIdx(const std::string& images_path, const std::string& labels_path,
                        uint64_t max_dense_bytes) {
  HEARSAY_ASSIGN_OR_RETURN(IdxPair pair, OpenIdxPair(images_path, labels_path));
  std::vector<int64_t> all(pair.labels.labels.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  return ReadRows(images_path, pair, all, max_dense_bytes, /*whole=*/true);
}

Result<Dataset> LoadIdxRows(const std::string& images_path, const std::string& labels_path,
                            const std::vector<int64_t>& rows, uint64_t max_dense_bytes) {
  HEARSAY_ASSIGN_OR_RETURN(IdxPair pair, OpenIdxPair(images_path, labels_path));
  return ReadRows(images_path, pair, rows, max_dense_bytes, /*whole=*/false);
}

}  // namespace hearsay
