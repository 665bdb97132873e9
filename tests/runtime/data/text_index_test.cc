// Indexes of text data files kept on disk (runtime/data/text_index.h): a saved index gives the
// same rows as the file, and one of another file, other options, another version of the file or
// malformed bytes is refused -- never used.
#include "runtime/data/text_index.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "runtime/data/csv_data.h"
#include "runtime/data/libsvm.h"

namespace hearsay {
namespace {

std::string Dir() { return ::testing::TempDir(); }

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = Dir() + "/hearsay_text_index_" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

std::string Csv(int label_offset) {
  std::string text = "y,a,b\n";
  for (int i = 0; i < 30; ++i) {
    text += std::to_string((i + label_offset) % 3) + "," + std::to_string(i) + "," +
            std::to_string(i * 0.5) + "\n";
  }
  return text;
}

void ExpectSameRows(const Dataset& got, const Dataset& whole, const std::vector<int64_t>& rows) {
  ASSERT_EQ(got.size(), static_cast<int64_t>(rows.size()));
  const auto d = static_cast<size_t>(whole.num_features);
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto r = static_cast<size_t>(rows[k]);
    EXPECT_EQ(got.labels[k], whole.labels[r]);
    for (size_t j = 0; j < d; ++j) EXPECT_EQ(got.features[k * d + j], whole.features[r * d + j]);
  }
}

TEST(TextIndex, ASavedCsvIndexGivesTheFilesRows) {
  const std::string path = WriteFile("a.csv", Csv(0));
  CsvIndex built;
  auto whole = LoadCsv(path, CsvOptions{}, 0, &built);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  const std::string file = TextIndexPath(Dir(), path);
  ASSERT_TRUE(built.Save(file).ok());
  auto loaded = CsvIndex::Load(file, path, CsvOptions{});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->labels().labels, whole->labels);
  EXPECT_EQ(loaded->labels().num_features, 2);
  EXPECT_EQ(loaded->labels().num_classes, 3);
  const std::vector<int64_t> rows = {29, 0, 7, 8, 9};
  auto got = loaded->Rows(rows);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameRows(*got, *whole, rows);
  // Other options: refused.
  CsvOptions last;
  last.label_column = -1;
  EXPECT_EQ(CsvIndex::Load(file, path, last).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(LibsvmIndex::Load(file, path, 0).status().code(), StatusCode::kFailedPrecondition);
  // Another version of the file (rewritten: a new modification time): refused.
  ::usleep(20000);
  WriteFile("a.csv", Csv(0));
  const Status stale = CsvIndex::Load(file, path, CsvOptions{}).status();
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition) << stale.ToString();
  EXPECT_NE(stale.message().find("another version of " + path), std::string::npos);
  // A folder that cannot be written: an error, nothing left behind.
  const std::string nowhere = Dir() + "/hearsay_text_index_no_such_dir/x.bin";
  EXPECT_EQ(built.Save(nowhere).code(), StatusCode::kUnavailable);
  EXPECT_NE(::access((nowhere + ".tmp").c_str(), F_OK), 0);
  // None saved: NotFound.
  EXPECT_EQ(
      CsvIndex::Load(Dir() + "/hearsay_text_index_none.bin", path, CsvOptions{}).status().code(),
      StatusCode::kNotFound);
}

// The file changed under the same identity (same size, modification time put back): the index
// is used, and the lines it reads are checked again -- an error, not another example's data.
TEST(TextIndex, ARewrittenLineBehindAnUnchangedIdentityIsAnError) {
  const std::string path = WriteFile("b.csv", Csv(0));
  CsvIndex built;
  ASSERT_TRUE(LoadCsv(path, CsvOptions{}, 0, &built).ok());
  const std::string file = TextIndexPath(Dir(), path);
  ASSERT_TRUE(built.Save(file).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(6);  // the first example's label: "0" -> "2"
    f.put('2');
  }
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  auto loaded = CsvIndex::Load(file, path, CsvOptions{});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Status changed = loaded->Rows({0}).status();
  EXPECT_FALSE(changed.ok());
  EXPECT_NE(changed.message().find(":2: the label changed since the file was first read"),
            std::string::npos)
      << changed.ToString();
  EXPECT_TRUE(loaded->Rows({1, 2}).ok());
}

TEST(TextIndex, ASavedLibsvmIndexGivesTheFilesRowsAndChecksLabelValues) {
  std::string text = "# c\n";
  for (int i = 0; i < 25; ++i) {
    text += std::string(i % 2 ? "+1" : "-1") + " " + std::to_string(1 + i % 4) + ":" +
            std::to_string(i) + "\n";
  }
  const std::string path = WriteFile("a.svm", text);
  for (int64_t width : {0, 6}) {
    LibsvmIndex built;
    auto whole = LoadLibsvm(path, width, 0, &built);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    const std::string file = TextIndexPath(Dir(), path);
    ASSERT_TRUE(built.Save(file).ok());
    auto loaded = LibsvmIndex::Load(file, path, width);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->labels().labels, whole->labels);
    EXPECT_EQ(loaded->labels().num_features, width == 0 ? 4 : 6);
    const std::vector<int64_t> rows = {24, 3, 4, 0};
    auto got = loaded->Rows(rows);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ExpectSameRows(*got, *whole, rows);
    EXPECT_EQ(LibsvmIndex::Load(file, path, width == 0 ? 6 : 0).status().code(),
              StatusCode::kFailedPrecondition);
  }
}

// Every truncation of a saved index, and a few flipped bytes, are refused without a crash.
TEST(TextIndex, MalformedIndexFilesAreRefused) {
  const std::string path = WriteFile("c.csv", Csv(1));
  CsvIndex built;
  ASSERT_TRUE(LoadCsv(path, CsvOptions{}, 0, &built).ok());
  const std::string file = TextIndexPath(Dir(), path);
  ASSERT_TRUE(built.Save(file).ok());
  std::string bytes;
  {
    std::ifstream f(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  ASSERT_GT(bytes.size(), 100u);
  const std::string bad = Dir() + "/hearsay_text_index_bad.bin";
  for (size_t n = 0; n < bytes.size(); n += 7) {
    std::ofstream(bad, std::ios::binary | std::ios::trunc) << bytes.substr(0, n);
    EXPECT_FALSE(CsvIndex::Load(bad, path, CsvOptions{}).ok()) << n;
  }
  // Flipped bytes in the arrays (from the end: line numbers, lengths, offsets, labels, 30 each):
  // refused as corrupt, or -- a line number only names lines in messages -- the same rows.
  auto whole = LoadCsv(path, CsvOptions{});
  ASSERT_TRUE(whole.ok());
  std::vector<int64_t> all(30);
  for (int64_t i = 0; i < 30; ++i) all[static_cast<size_t>(i)] = i;
  int refused = 0;
  for (size_t back : {size_t{1}, size_t{8 * 30 + 1}, size_t{12 * 30 + 1}, size_t{20 * 30 + 1}}) {
    std::string flipped = bytes;
    flipped[flipped.size() - back] = '\x7f';
    std::ofstream(bad, std::ios::binary | std::ios::trunc) << flipped;
    auto r = CsvIndex::Load(bad, path, CsvOptions{});
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
      ++refused;
      continue;
    }
    auto got = r->Rows(all);
    ASSERT_TRUE(got.ok()) << back << ": " << got.status().ToString();
    ExpectSameRows(*got, *whole, all);
  }
  EXPECT_EQ(refused, 3);  // a length, an offset and a label out of range
}

}  // namespace
}  // namespace hearsay
