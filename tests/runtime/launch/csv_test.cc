// RFC 4180 CSV: quoting, parsing back, and Python's csv module reading what hearsay writes.
#include "runtime/launch/csv.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "runtime/launch/results.h"

namespace hearsay {
namespace {

TEST(Csv, QuotesOnlyFieldsThatNeedIt) {
  EXPECT_EQ(CsvField("qsgd:8"), "qsgd:8");
  EXPECT_EQ(CsvField("then(randk:0.5, natural)"), "\"then(randk:0.5, natural)\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvRow({"a", "b,c", ""}), "a,\"b,c\",\n");
}

TEST(Csv, ParsesWhatItWrites) {
  const std::vector<std::vector<std::string>> rows = {
      {"run", "compressor", "note"},
      {"x", "then(randk:0.5, natural)", "say \"hi\""},
      {"y", "", "two\nlines, with a comma"},
  };
  std::string text;
  for (const auto& r : rows) text += CsvRow(r);
  auto table = ParseCsv(text, "t.csv");
  ASSERT_TRUE(table.ok()) << table.status().message();
  EXPECT_EQ(table->header, rows[0]);
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[0], rows[1]);
  EXPECT_EQ(table->rows[1], rows[2]);
  EXPECT_EQ(table->Column("note"), 2);
  EXPECT_EQ(table->Column("nope"), -1);
  auto crlf = ParseCsv("a,b\r\n1,\"2\"\r\n", "c.csv");
  ASSERT_TRUE(crlf.ok());
  EXPECT_EQ(crlf->rows[0], (std::vector<std::string>{"1", "2"}));
}

TEST(Csv, BadTextIsAnErrorNamingTheSource) {
  auto open = ParseCsv("a,b\n1,\"2\n", "s.csv");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("s.csv:2: a quoted field is not closed"),
            std::string::npos)
      << open.status().message();
  auto ragged = ParseCsv("a,b\n1,2,3\n", "s.csv");
  ASSERT_FALSE(ragged.ok());
  EXPECT_NE(ragged.status().message().find("has 3 fields, the header 2"), std::string::npos);
}

// The case: a codec spec with a comma made summary.csv 12 fields under an 11-field
// header. Python's csv module is the reference reader.
TEST(Csv, SummaryWithCommasAndQuotesRoundTripsThroughPython) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "/usr/bin/python3 not found";
  char tmpl[] = "/tmp/hearsay_csv_test_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  RunSummary r;
  r.run = "choco-then";
  r.algorithm = "choco";
  r.compressor = "then(randk:0.5, natural)";
  r.transport = "inproc";
  r.rounds = 10;
  r.grid_values = {{"note", "say \"hi\", twice"}};
  r.curve = {EvalPoint{0, 0, 0, 1.5, 1.5, 0.25, 0}, EvalPoint{10, 2.5, 1.25, 0.5, 0.6, 0.75, 1e-3}};
  r.final_point = r.curve.back();
  ASSERT_TRUE(WriteResults({r}, dir, false).ok());
  const std::string script =
      "import csv, json, sys\n"
      "rows = list(csv.reader(open(sys.argv[1], newline='')))\n"
      "print(json.dumps({'widths': sorted({len(x) for x in rows}), 'row': rows[1]}))\n";
  std::ofstream(dir + "/read.py") << script;
  const std::string cmd = "/usr/bin/python3 " + dir + "/read.py " + dir + "/summary.csv";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  std::string out;
  for (size_t got; (got = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, got);
  ASSERT_EQ(pclose(p), 0) << out;
  EXPECT_NE(out.find("\"widths\": [25]"), std::string::npos) << out;  // 24 columns + 1 grid key
  EXPECT_NE(out.find("\"choco-then\", \"choco\", \"then(randk:0.5, natural)\", \"10\""),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\"say \\\"hi\\\", twice\"]"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hearsay
