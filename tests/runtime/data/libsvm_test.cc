#include "runtime/data/libsvm.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace hearsay {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/hearsay_libsvm_" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(LoadLibsvm, ParsesSparseRowsIntoDenseFeaturesAndMapsPlusMinusOne) {
  const std::string path = WriteFile("pm1.svm",
                                     "# a comment line\n"
                                     "+1 1:0.5 3:-2\n"
                                     "\n"
                                     "-1 2:1e-1   4:4 # trailing comment\n"
                                     "+1\n");
  auto r = LoadLibsvm(path, 0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 3);
  EXPECT_EQ(r->num_features, 4);
  EXPECT_EQ(r->num_classes, 2);
  EXPECT_EQ(r->labels, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(r->features, (std::vector<float>{0.5f, 0, -2, 0, 0, 0.1f, 0, 4, 0, 0, 0, 0}));
}

TEST(LoadLibsvm, MapsDistinctLabelsInAscendingOrderAndHonoursDeclaredWidth) {
  auto r = LoadLibsvm(WriteFile("multi.svm", "3 1:1\n1 1:2\n2 2:3\n3 1:4\n"), 5);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->num_features, 5);
  EXPECT_EQ(r->num_classes, 3);
  EXPECT_EQ(r->labels, (std::vector<int32_t>{2, 0, 1, 2}));
}

TEST(LoadLibsvm, ErrorsNameFileLineAndProblem) {
  struct Case {
    const char* text;
    int64_t width;
    const char* expect;
  };
  const Case cases[] = {
      {"1 1:1\n1 0:2\n", 0, ":2: feature index 0; LIBSVM indices start at 1"},
      {"1 3:1 2:1\n", 0, ":1: feature index 2 after 3; LIBSVM indices must be ascending"},
      {"1 1:1\n\n0 7:1\n", 4, ":3: feature index 7 exceeds the declared 4 features"},
      {"1 1:x\n", 0, ":1: value 'x' of feature 1 is not a finite number"},
      {"0.5 1:1\n", 0, ":1: label 0.5 is not an integer"},
      {"one 1:1\n", 0, ":1: label 'one' is not a number"},
      {"1 11\n", 0, ":1: '11' is not index:value"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string path = WriteFile("bad" + std::to_string(n++), c.text);
    auto r = LoadLibsvm(path, c.width);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(path + c.expect), std::string::npos)
        << r.status().message();
    // A peer's index of the file checks every line too, with the same message.
    auto index = LibsvmIndex::Build(path, c.width);
    ASSERT_FALSE(index.ok()) << c.text;
    EXPECT_EQ(index.status().message(), r.status().message());
  }
}

TEST(LoadLibsvm, MissingOrEmptyFileIsAnError) {
  auto r = LoadLibsvm(::testing::TempDir() + "/hearsay_no_such_file.svm", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(LoadLibsvm(WriteFile("empty.svm", "# nothing\n"), 0).ok());
}

// Issue 8: a LIBSVM index of 1e10 gave "internal error: std::bad_alloc".
TEST(LoadLibsvm, HugeIndexIsAValidationErrorBeforeAllocating) {
  auto r = LoadLibsvm(WriteFile("huge_index.svm", "1 1:1\n-1 10000000000:1\n"), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("huge_index.svm: 2 examples x 10000000000 features"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("largest feature index (10000000000)"), std::string::npos);
}

TEST(LoadLibsvm, TooManyClassesIsAValidationError) {
  std::string text;
  for (int i = 0; i < 50000; ++i) text += std::to_string(i) + " 1:1\n";
  auto r = LoadLibsvm(WriteFile("classes.svm", text), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("50000 distinct labels"), std::string::npos)
      << r.status().message();
}

// Issue 8: the reader read device files for tens of seconds (/dev/zero never ends).
TEST(LoadLibsvm, RefusesDeviceFilesAndDirectories) {
  for (const char* path : {"/dev/zero", "/dev/urandom", "/dev/null"}) {
    auto r = LoadLibsvm(path, 0);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << path;
    EXPECT_NE(r.status().message().find("character device, not a regular file"), std::string::npos)
        << r.status().message();
  }
  auto r = LoadLibsvm(::testing::TempDir(), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("directory"), std::string::npos) << r.status().message();
}

// A peer's shard read through the index: the rows LoadLibsvm gives, in the asked order, with the
// file's own class ids (from every line, not only the rows read).
TEST(LibsvmIndex, RowsAreTheSameAsTheWholeLoad) {
  std::string text = "# header comment\n";
  for (int i = 0; i < 30; ++i) {
    text += "  " + std::to_string((i * 5) % 4 - 1) + " ";  // labels -1, 0, 1, 2
    for (int k = 1; k <= 6; ++k) {
      if ((i + k) % 3 != 0) text += std::to_string(k) + ":" + std::to_string(i * 0.5 + k) + " ";
    }
    text += i % 4 == 0 ? "# note\r\n" : "\n";
    if (i % 7 == 0) text += "\n# more\n";
  }
  const std::string path = WriteFile("index.svm", text);
  for (int64_t width : {0, 9}) {
    auto whole = LoadLibsvm(path, width);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    auto index = LibsvmIndex::Build(path, width);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    EXPECT_EQ(index->labels().labels, whole->labels);
    EXPECT_EQ(index->labels().num_features, whole->num_features);
    EXPECT_EQ(index->labels().num_classes, 4);
    EXPECT_TRUE(index->labels().features.empty());
    const std::vector<int64_t> rows = {29, 3, 4, 5, 0, 14, 3};
    auto part = index->Rows(rows);
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    const auto d = static_cast<size_t>(whole->num_features);
    ASSERT_EQ(part->features.size(), rows.size() * d);
    for (size_t k = 0; k < rows.size(); ++k) {
      const auto r = static_cast<size_t>(rows[k]);
      EXPECT_EQ(part->labels[k], whole->labels[r]);
      for (size_t j = 0; j < d; ++j) {
        EXPECT_EQ(part->features[k * d + j], whole->features[r * d + j]) << k << " " << j;
      }
    }
    auto outside = index->Rows({30});
    ASSERT_FALSE(outside.ok());
    EXPECT_EQ(outside.status().message(), path + ": example 30 asked for; the file has 30");
  }
  auto index = LibsvmIndex::Build(path, 0);
  ASSERT_TRUE(index.ok());
  auto over = index->Rows({1, 2}, /*max_dense_bytes=*/47);  // 2 x 6 floats = 48 bytes
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("2 examples x 6 features need"), std::string::npos)
      << over.status().message();
}

}  // namespace
}  // namespace hearsay
