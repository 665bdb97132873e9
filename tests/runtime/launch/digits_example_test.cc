// examples/digits_mlp.yaml learns: its iid run reaches the held-out accuracy the file states, in
// the simulator (about a second), and the data file is the one scripts/convert_digits.py writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/data/csv_data.h"
#include "runtime/launch/launcher.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

const std::string kSource = HEARSAY_TEST_SOURCE_DIR;

TEST(DigitsExample, DataFileIsScikitLearnsDigits) {
  auto d = LoadCsv(kSource + "/examples/data/digits.csv", CsvOptions{});
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->size(), 1797);
  EXPECT_EQ(d->num_features, 64);
  EXPECT_EQ(d->num_classes, 10);
  std::vector<int> per_class(10, 0);
  for (int32_t y : d->labels) ++per_class[static_cast<size_t>(y)];
  for (int c = 0; c < 10; ++c) EXPECT_GE(per_class[c], 174) << c;  // 174..183 of each digit
  for (float v : d->features) ASSERT_TRUE(v >= 0 && v <= 16 && v == static_cast<int>(v));
}

TEST(DigitsExample, MlpReachesTheStatedAccuracy) {
  char tmpl[] = "/tmp/hearsay_digits_test_XXXXXX";
  const std::string out = mkdtemp(tmpl);
  LaunchOptions o;
  o.experiment_path = kSource + "/examples/digits_mlp.yaml";
  o.out_dir = out;
  o.runs = {"iid"};
  o.transport = TransportKind::kSim;
  auto result = Launch(o);
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->size(), 1u);
  const RunSummary& r = result->front();
  EXPECT_EQ(r.status, "ok");
  EXPECT_EQ(r.rounds, 600);
  EXPECT_LT(r.curve.front().accuracy, 0.3);  // an untrained model: about chance
  EXPECT_GE(r.final_point.accuracy, 0.94) << "examples/digits_mlp.yaml states >= 94%";
  std::error_code ec;
  fs::remove_all(out, ec);
}

}  // namespace
}  // namespace hearsay
