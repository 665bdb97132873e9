#include "runtime/data/idx.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace hearsay {
namespace {

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// An IDX file of uint8 elements with the given dimensions.
std::string Idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                uint8_t type = 0x08) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) s += Be32(d);
  s.append(data.begin(), data.end());
  return s;
}

std::string WriteFile(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/hearsay_idx_" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(LoadIdx, RoundTripsImagesScaledToUnitRangeAndLabels) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < 3 * 2 * 2; ++i) pixels.push_back(static_cast<uint8_t>(i * 23));
  const std::string images = WriteFile("ok-images", Idx({3, 2, 2}, pixels));
  const std::string labels = WriteFile("ok-labels", Idx({3}, {4, 0, 9}));
  ASSERT_TRUE(CheckIdxHeader(images).ok());
  ASSERT_TRUE(CheckIdxHeader(labels).ok());
  auto r = LoadIdx(images, labels);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 3);
  EXPECT_EQ(r->num_features, 4);
  EXPECT_EQ(r->num_classes, 10);
  EXPECT_EQ(r->labels, (std::vector<int32_t>{4, 0, 9}));
  ASSERT_EQ(r->features.size(), pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) {
    EXPECT_EQ(r->features[i], static_cast<float>(pixels[i]) / 255.0f) << i;
    // Round trip back to the byte.
    EXPECT_EQ(static_cast<int>(std::lround(r->features[i] * 255.0f)), pixels[i]);
  }
  EXPECT_EQ(r->features.back(), 253.0f / 255.0f);
}

// One case per class of malformed file: the message names the file, the offset where one field is
// at fault, and the reason, in one line.
TEST(LoadIdx, EachMalformedHeaderClassIsOneLineWithOffsetAndReason) {
  struct Case {
    std::string bytes;
    const char* expect;
  };
  const Case cases[] = {
      {"\x1f\x8b\x08\x00", ": a gzip-compressed file; hearsay reads IDX files uncompressed"},
      {std::string("\0\0", 2), ": 2 bytes; an IDX file starts with a 4-byte magic number"},
      {std::string("\1\0\x08\1", 4) + Be32(1) + "x", ": byte 0: not an IDX file"},
      {Idx({1}, {0, 0, 0, 0}, 0x0D), ": byte 2: element type float32; hearsay reads uint8"},
      {Idx({1}, {0}, 0x42), ": byte 2: element type code 66"},
      {std::string("\0\0\x08\0", 4), ": byte 3: zero dimensions"},
      {std::string("\0\0\x08\3", 4) + Be32(2),
       ": the header announces 3 dimensions (16 header "
       "bytes), the file has 8 bytes (truncated?)"},
      {Idx({2, 0}, {}), ": byte 8: dimension 1 has size 0"},
      {Idx({2, 3}, {1, 2, 3, 4, 5}),
       ": IDX header says 2 x 3 bytes of data (18 bytes in all), the file has 17 bytes "
       "(truncated?)"},
      {Idx({1, 2}, {1, 2, 3}),
       ": IDX header says 1 x 2 bytes of data (14 bytes in all), the file has 15 bytes (extra "
       "bytes at the end)"},
      {Idx({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {}),
       ": IDX header says 4294967295 x 4294967295 x 4294967295 bytes of data (more than 64 GiB in "
       "all)"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string path = WriteFile("bad" + std::to_string(n++), c.bytes);
    const std::string labels = WriteFile("badl" + std::to_string(n), Idx({1}, {0}));
    for (const Status& s : {CheckIdxHeader(path), LoadIdx(path, labels).status()}) {
      ASSERT_FALSE(s.ok()) << c.expect;
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
      EXPECT_NE(s.message().find(path + c.expect), std::string::npos) << s.message();
      EXPECT_EQ(s.message().find('\n'), std::string::npos);
    }
  }
}

TEST(LoadIdx, PairMismatchesAreNamed) {
  const std::string images = WriteFile("pair-images", Idx({2, 2}, {1, 2, 3, 4}));
  const std::string labels = WriteFile("pair-labels", Idx({2}, {1, 0}));
  const std::string three = WriteFile("pair-three", Idx({3}, {1, 0, 1}));
  auto r = LoadIdx(images, three);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(three + ": 3 labels for the 2 images of " + images),
            std::string::npos)
      << r.status().message();
  r = LoadIdx(labels, labels);  // swapped: the labels file given as images
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs at least 2 dimensions"), std::string::npos);
  EXPECT_NE(r.status().message().find("is it the labels file?"), std::string::npos);
  r = LoadIdx(images, images);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("a labels file has 1 dimension, this one has 2"),
            std::string::npos)
      << r.status().message();
  r = LoadIdx(images, labels, /*max_dense_bytes=*/8);  // 2 x 2 floats = 16 bytes
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("as dense float32, more than the"), std::string::npos);
  EXPECT_FALSE(CheckIdxHeader("/dev/zero").ok());
  EXPECT_EQ(CheckIdxHeader(::testing::TempDir() + "/hearsay_idx_absent").code(),
            StatusCode::kNotFound);
}

// A peer's shard: only the listed examples, in the listed order, with the values, labels and
// class count LoadIdx gives them; runs of consecutive rows and single rows alike.
TEST(LoadIdxRows, AreTheSameRowsAsTheWholeLoad) {
  const uint32_t n = 50, h = 3, w = 5;
  std::vector<uint8_t> pixels, labs;
  for (uint32_t i = 0; i < n * h * w; ++i) pixels.push_back(static_cast<uint8_t>(i * 131 + 7));
  for (uint32_t i = 0; i < n; ++i) labs.push_back(static_cast<uint8_t>(i == 17 ? 12 : i % 4));
  const std::string images = WriteFile("rows-images", Idx({n, h, w}, pixels));
  const std::string labels = WriteFile("rows-labels", Idx({n}, labs));
  auto whole = LoadIdx(images, labels);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  const std::vector<int64_t> rows = {3, 4, 5, 6, 49, 0, 17, 18, 30, 29, 28, 5};
  auto part = LoadIdxRows(images, labels, rows);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(part->num_features, 15);
  EXPECT_EQ(part->num_classes, 13);  // from the whole labels file, though row 17 is not first
  ASSERT_EQ(part->size(), static_cast<int64_t>(rows.size()));
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto r = static_cast<size_t>(rows[k]);
    EXPECT_EQ(part->labels[k], whole->labels[r]) << k;
    for (size_t j = 0; j < 15; ++j) {
      ASSERT_EQ(part->features[k * 15 + j], whole->features[r * 15 + j]) << k << " " << j;
    }
  }
  auto labels_only = LoadIdxLabels(images, labels);
  ASSERT_TRUE(labels_only.ok()) << labels_only.status().ToString();
  EXPECT_TRUE(labels_only->features.empty());
  EXPECT_EQ(labels_only->labels, whole->labels);
  EXPECT_EQ(labels_only->num_features, 15);
  EXPECT_EQ(labels_only->num_classes, 13);
  // The budget counts the rows read, not the file: 12 x 15 floats = 720 bytes.
  EXPECT_TRUE(LoadIdxRows(images, labels, rows, /*max_dense_bytes=*/720).ok());
  auto over = LoadIdxRows(images, labels, rows, /*max_dense_bytes=*/719);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("12 of the 50 x 3 x 5 images need"), std::string::npos)
      << over.status().message();
  auto outside = LoadIdxRows(images, labels, {2, 50});
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.status().message(), images + ": example 50 asked for; the file has 50");
  EXPECT_FALSE(LoadIdxRows(images, labels, {-1}).ok());
  // The same header errors as LoadIdx.
  auto swapped = LoadIdxLabels(labels, images);
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.status().message().find("is it the labels file?"), std::string::npos);
}

}  // namespace
}  // namespace hearsay
