#include "runtime/data/csv_data.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>

namespace hearsay {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/hearsay_csv_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(LoadCsv, RoundTripsWrittenValuesExactly) {
  // Values written with %.9g read back bit for bit as float32.
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0, 3);
  std::string text = "label,a,b,c\n";
  std::vector<float> features;
  std::vector<int32_t> labels;
  for (int i = 0; i < 50; ++i) {
    labels.push_back(i % 4);
    text += std::to_string(i % 4);
    for (int j = 0; j < 3; ++j) {
      const float v = normal(gen);
      features.push_back(v);
      char buf[32];
      std::snprintf(buf, sizeof(buf), ",%.9g", static_cast<double>(v));
      text += buf;
    }
    text += "\n";
  }
  auto r = LoadCsv(WriteFile("round.csv", text), CsvOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 50);
  EXPECT_EQ(r->num_features, 3);
  EXPECT_EQ(r->num_classes, 4);
  EXPECT_EQ(r->labels, labels);
  EXPECT_EQ(r->features, features);
}

TEST(LoadCsv, DialectOptionsLabelColumnDelimiterQuotesCrlfAndBom) {
  CsvOptions last;
  last.label_column = -1;
  last.delimiter = ';';
  last.header = CsvHeader::kNo;
  auto r = LoadCsv(WriteFile("dialect.csv",
                             "\xEF\xBB\xBF"
                             "1.5; \"-2\" ;1\r\n"
                             "\r\n"
                             "+3;4e-1;0.0\r\n"),
                   last);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->labels, (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(r->features, (std::vector<float>{1.5f, -2, 3, 0.4f}));
  EXPECT_EQ(r->num_classes, 2);

  CsvOptions spaces;
  spaces.delimiter = ' ';
  spaces.label_column = 1;
  r = LoadCsv(WriteFile("spaces.csv", "  0.25   2   7\n1 0 2\n"), spaces);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->labels, (std::vector<int32_t>{2, 0}));
  EXPECT_EQ(r->features, (std::vector<float>{0.25f, 7, 1, 2}));
  EXPECT_EQ(r->num_classes, 3);
}

TEST(LoadCsv, HeaderAutoDetectsANamedLabelColumnOnly) {
  auto r = LoadCsv(WriteFile("hdr.csv", "y,x1\n1,2\n"), CsvOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 1);
  r = LoadCsv(WriteFile("nohdr.csv", "0,2\n1,3\n"), CsvOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 2);
  CsvOptions yes;
  yes.header = CsvHeader::kYes;  // a numeric first line is dropped when told so
  r = LoadCsv(WriteFile("hdryes.csv", "0,2\n1,3\n"), yes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->labels, (std::vector<int32_t>{1}));
}

// One case per class of malformed file: the message names path:line (and column) and the reason.
TEST(LoadCsv, EachMalformedClassNamesLineColumnAndReason) {
  struct Case {
    const char* text;
    CsvHeader header;
    const char* expect;
  };
  const Case cases[] = {
      {"", CsvHeader::kAuto, ": no examples (the file is empty)"},
      {"label,x\n", CsvHeader::kAuto, ": no examples (only a header line)"},
      {"1\n", CsvHeader::kAuto, ":1: one column; a CSV data file needs a label"},
      {"1,2\n0,1,5\n", CsvHeader::kAuto, ":2: 3 fields, but the first line has 2"},
      {"1,2\n\n0,\"3\n", CsvHeader::kAuto, ":3: the quote opened at character 3 is never closed"},
      {"1,\"2\"x\n", CsvHeader::kAuto, ":1: unexpected 'x' after the quoted field"},
      {"1,2\n0,abc\n", CsvHeader::kAuto, ":2: column 2: 'abc' is not a number"},
      {"a,b\n1,2\n", CsvHeader::kNo, ":1: column 1: label 'a' is not a number"},
      {"1,2\n0.5,1\n", CsvHeader::kAuto, ":2: column 1: label 0.5 is not a class id"},
      {"1,2\n-1,1\n", CsvHeader::kAuto, ":2: column 1: label -1 is not a class id"},
      {"1,2\n0,nan\n", CsvHeader::kAuto, ":2: column 2: 'nan' is not a finite float32"},
      {"1,2\n0,1e39\n", CsvHeader::kAuto, ":2: column 2: '1e39' is not a finite float32"},
      {"1,2,3\n0,,1\n", CsvHeader::kAuto, ":2: column 2: empty field"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string path = WriteFile("bad" + std::to_string(n++), c.text);
    CsvOptions options;
    options.header = c.header;
    auto r = LoadCsv(path, options);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(path + c.expect), std::string::npos)
        << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "one line";
    // A peer's index of the file checks every line too, with the same message.
    auto index = CsvIndex::Build(path, options);
    ASSERT_FALSE(index.ok()) << c.text;
    EXPECT_EQ(index.status().message(), r.status().message());
  }
}

TEST(LoadCsv, RefusesBadOptionsMissingAndNonRegularFilesAndOverBudgetData) {
  CsvOptions far;
  far.label_column = 5;
  auto r = LoadCsv(WriteFile("far.csv", "1,2\n"), far);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(":1: label_column 5 but the file has 2 columns"),
            std::string::npos)
      << r.status().message();
  r = LoadCsv(::testing::TempDir() + "/hearsay_csv_absent.csv", CsvOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  r = LoadCsv("/dev/zero", CsvOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos)
      << r.status().message();
  // 3 rows x 2 features = 24 bytes of float32: a 16-byte budget stops at line 2.
  r = LoadCsv(WriteFile("big.csv", "0,1,2\n1,3,4\n0,5,6\n"), CsvOptions{}, 16);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(":3: the examples so far need"), std::string::npos)
      << r.status().message();
}

// A peer's shard read through the index: the rows LoadCsv gives, in the asked order, from a file
// with a byte-order mark, CRLF line ends, quotes, blank lines and a header.
TEST(CsvIndex, RowsAreTheSameAsTheWholeLoad) {
  std::string text = "\xEF\xBB\xBFx1;\"y\";x2\r\n";
  for (int i = 0; i < 40; ++i) {
    text += (i % 5 == 0 ? "\"" + std::to_string(i * 0.25) + "\"" : std::to_string(i * 0.25)) + ";" +
            std::to_string((i * 3) % 7) + " ;  " + std::to_string(-i) + "e-1\r\n";
    if (i % 9 == 0) text += "\r\n";
  }
  CsvOptions options;
  options.label_column = 1;
  options.delimiter = ';';
  const std::string path = WriteFile("index.csv", text);
  auto whole = LoadCsv(path, options);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  auto index = CsvIndex::Build(path, options);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(index->labels().labels, whole->labels);
  EXPECT_EQ(index->labels().num_features, 2);
  EXPECT_EQ(index->labels().num_classes, 7);
  EXPECT_TRUE(index->labels().features.empty());
  const std::vector<int64_t> rows = {39, 0, 1, 2, 17, 9, 10, 0};
  auto part = index->Rows(rows);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  ASSERT_EQ(part->size(), 8);
  EXPECT_EQ(part->num_classes, 7);
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto r = static_cast<size_t>(rows[k]);
    EXPECT_EQ(part->labels[k], whole->labels[r]);
    EXPECT_EQ(part->features[2 * k], whole->features[2 * r]) << k;
    EXPECT_EQ(part->features[2 * k + 1], whole->features[2 * r + 1]) << k;
  }
  // Without a header, the first example is on line 1 behind the byte-order mark.
  CsvOptions plain;
  plain.header = CsvHeader::kNo;
  const std::string bom = WriteFile("index_bom.csv",
                                    "\xEF\xBB\xBF"
                                    "2,0.5\n1,0.25");
  auto first = CsvIndex::Build(bom, plain);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto both = first->Rows({1, 0});
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->labels, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(both->features, (std::vector<float>{0.25f, 0.5f}));
  // The budget counts the rows read; an index outside the file is named.
  EXPECT_TRUE(index->Rows(rows, /*max_dense_bytes=*/64).ok());
  auto over = index->Rows(rows, /*max_dense_bytes=*/63);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("8 examples x 2 features need"), std::string::npos)
      << over.status().message();
  auto outside = index->Rows({40});
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.status().message(), path + ": example 40 asked for; the file has 40");
  // A file rewritten after the index was built: its changed line is an error, not a wrong row.
  WriteFile("index.csv", std::string(text.size(), 'z'));
  EXPECT_FALSE(index->Rows({3}).ok());
}

}  // namespace
}  // namespace hearsay
