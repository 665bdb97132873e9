// The `data:` keys of csv and idx files and of the dirichlet partition: parsed, validated with
// file:line, written back by the resolved config, and read into a workload
// (docs/experiment_format.md "Data").
#include <yaml-cpp/yaml.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "runtime/data/csv_data.h"
#include "runtime/data/partition.h"
#include "runtime/data/text_index.h"
#include "runtime/peer/experiment.h"
#include "runtime/peer/workload.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

class ExperimentData : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hearsay_experiment_data_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    Write("ring.yaml",
          "nodes: 4\nbase_port: 17300\ngenerator: {kind: ring}\n"
          "links:\n  default: {bandwidth: 20Mbit, latency: 20ms}\n");
    // 40 examples, 3 classes, 2 features; the label is the last column.
    std::string csv = "x1;x2;y\n";
    for (int i = 0; i < 40; ++i) {
      csv += std::to_string(i) + ";" + std::to_string(i % 7) + ";" + std::to_string(i % 3) + "\n";
    }
    Write("data.csv", csv);
    // The same as LIBSVM, sparse and with comments, labels -1 / +1 / 3; and a test file.
    std::string svm = "# 40 examples\n";
    for (int i = 0; i < 40; ++i) {
      svm += std::string(i % 3 == 0   ? "-1"
                         : i % 3 == 1 ? "+1"
                                      : "3") +
             " 1:" + std::to_string(i) + (i % 4 == 0 ? "" : " 3:" + std::to_string(i % 7)) +
             (i % 5 == 0 ? " # c" : "") + "\n";
    }
    Write("data.svm", svm);
    Write("test.svm", "+1 2:1\n-1 3:2\n");
    Write("test.csv", "x1;x2;y\n1;2;5\n3;4;0\n");
    // 8 images of 2 x 2 pixels and their labels.
    std::string images = std::string("\0\0\x08\x03", 4) + Be32(8) + Be32(2) + Be32(2);
    for (int i = 0; i < 32; ++i) images += static_cast<char>(i * 8);
    Write("img.idx", images);
    std::string labels = std::string("\0\0\x08\x01", 4) + Be32(8);
    for (int i = 0; i < 8; ++i) labels += static_cast<char>(i % 2);
    Write("lab.idx", labels);
    Write("short.idx", images.substr(0, images.size() - 3));
    // 103 images of 3 x 2 pixels, 5 classes, and a test pair of 9 whose labels reach class 6.
    std::string many = std::string("\0\0\x08\x03", 4) + Be32(103) + Be32(3) + Be32(2);
    std::string many_labels = std::string("\0\0\x08\x01", 4) + Be32(103);
    for (int i = 0; i < 103; ++i) {
      for (int k = 0; k < 6; ++k) many += static_cast<char>((i * 37 + k * 11) % 256);
      many_labels += static_cast<char>((i * 7) % 5);
    }
    Write("many.idx", many);
    Write("many_lab.idx", many_labels);
    std::string test = std::string("\0\0\x08\x03", 4) + Be32(9) + Be32(3) + Be32(2);
    std::string test_labels = std::string("\0\0\x08\x01", 4) + Be32(9);
    for (int i = 0; i < 9; ++i) {
      test += std::string(6, static_cast<char>(i));
      test_labels += static_cast<char>(i % 7);
    }
    Write("test.idx", test);
    Write("test_lab.idx", test_labels);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
    return dir_ + "/" + name;
  }
  Result<Experiment> Load(const std::string& data) {
    return LoadExperiment(
        Write("exp.yaml", "topology: ring.yaml\nmodel: {kind: softmax}\n" + data));
  }
  std::string ErrorOf(const std::string& data) {
    auto r = Load(data);
    return r.ok() ? std::string() : r.status().message();
  }
  std::string dir_;
};

#define EXPECT_ERROR(body, ...)                                                                   \
  do {                                                                                            \
    const std::string _err = ErrorOf(body);                                                       \
    ASSERT_FALSE(_err.empty()) << "loaded a bad file:\n" << body;                                 \
    EXPECT_EQ(_err.find('\n'), std::string::npos) << _err;                                        \
    for (const char* _want : {__VA_ARGS__}) {                                                     \
      EXPECT_NE(_err.find(_want), std::string::npos) << "missing '" << _want << "' in: " << _err; \
    }                                                                                             \
  } while (0)

TEST_F(ExperimentData, CsvKeysAreReadIntoAWorkload) {
  auto exp = Load(
      "data: {kind: csv, path: data.csv, label_column: -1, header: true, delimiter: ';',\n"
      "       test_fraction: 0.25, partition: dirichlet, alpha: 0.2}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  const DataConfig& d = exp->runs.front().data;
  EXPECT_EQ(d.kind, "csv");
  EXPECT_EQ(d.path, dir_ + "/data.csv");
  EXPECT_EQ(d.csv.label_column, -1);
  EXPECT_EQ(d.csv.header, CsvHeader::kYes);
  EXPECT_EQ(d.csv.delimiter, ';');
  EXPECT_EQ(d.partition, PartitionMode::kDirichlet);
  EXPECT_EQ(d.alpha, 0.2);
  auto w = BuildWorkload(exp->runs.front(), 4);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->train.size() + w->test.size(), 40);
  EXPECT_EQ(w->test.size(), 10);
  EXPECT_EQ(w->train.num_features, 2);
  EXPECT_EQ(w->train.num_classes, 3);
  int64_t shard_rows = 0;
  for (const auto& s : w->shards) {
    EXPECT_FALSE(s.empty());
    shard_rows += static_cast<int64_t>(s.size());
  }
  EXPECT_EQ(shard_rows, 30);
  // The resolved config writes the keys back, and it reads back the same.
  std::vector<const RunConfig*> runs{&exp->runs.front()};
  const YAML::Node back = YAML::Load(ResolvedConfigYaml(*exp, runs))["runs"][0]["data"];
  EXPECT_EQ(back["kind"].as<std::string>(), "csv");
  EXPECT_EQ(back["label_column"].as<int>(), -1);
  EXPECT_EQ(back["header"].as<std::string>(), "true");
  EXPECT_EQ(back["delimiter"].as<std::string>(), ";");
  EXPECT_EQ(back["partition"].as<std::string>(), "dirichlet");
  EXPECT_EQ(back["alpha"].as<double>(), 0.2);
}

TEST_F(ExperimentData, IdxKeysAreReadIntoAWorkload) {
  auto exp = Load(
      "data: {kind: idx, path: img.idx, labels: lab.idx, test_path: img.idx, "
      "test_labels: lab.idx}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  auto w = BuildWorkload(exp->runs.front(), 4);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->train.size(), 8);
  EXPECT_EQ(w->test.size(), 8);
  EXPECT_EQ(w->train.num_features, 4);
  EXPECT_EQ(w->test.features[5], 40.0f / 255.0f);  // the test set in file order
  // The training rows are stored shard by shard (each peer's rows contiguous): the same rows.
  std::vector<float> train = w->train.features, test = w->test.features;
  std::sort(train.begin(), train.end());
  std::sort(test.begin(), test.end());
  EXPECT_EQ(train, test);
  std::vector<const RunConfig*> runs{&exp->runs.front()};
  const YAML::Node back = YAML::Load(ResolvedConfigYaml(*exp, runs))["runs"][0]["data"];
  EXPECT_EQ(back["labels"].as<std::string>(), dir_ + "/lab.idx");
  EXPECT_EQ(back["test_labels"].as<std::string>(), dir_ + "/lab.idx");
}

// The workload stores each peer's training rows as one block, in the order of its shard: shard p
// is positions [offset, offset + size), and position offset + k holds the row the partition gave
// peer p as its k-th -- the same rows, values and sampling order as the partition itself.
TEST_F(ExperimentData, ShardsAreContiguousBlocksOfTheSameRows) {
  for (const char* partition : {"iid", "label_sorted", "dirichlet"}) {
    auto exp = Load(std::string("data: {kind: csv, path: data.csv, label_column: -1, header: true, "
                                "delimiter: ';', partition: ") +
                    partition + "}\n");
    ASSERT_TRUE(exp.ok()) << exp.status().message();
    const RunConfig& run = exp->runs.front();
    auto w = BuildWorkload(run, 4);
    ASSERT_TRUE(w.ok()) << w.status().message();
    // The partition as the workload draws it, on the rows in file order.
    auto all = LoadCsv(dir_ + "/data.csv", run.data.csv);
    ASSERT_TRUE(all.ok()) << all.status().message();
    const TrainTest split = SplitTrainTest(*all, run.data.test_fraction, run.seed);
    const auto parts =
        PartitionIndices(split.train, 4, run.data.partition, run.seed, run.data.alpha);
    ASSERT_EQ(w->shards.size(), parts.size());
    const auto d = static_cast<size_t>(split.train.num_features);
    int64_t offset = 0;
    for (size_t p = 0; p < parts.size(); ++p) {
      ASSERT_EQ(w->shards[p].size(), parts[p].size()) << partition << " peer " << p;
      for (size_t k = 0; k < parts[p].size(); ++k) {
        const int64_t at = w->shards[p][k];
        EXPECT_EQ(at, offset + static_cast<int64_t>(k)) << partition << " peer " << p;
        const auto src = static_cast<size_t>(parts[p][k]);
        EXPECT_EQ(w->train.labels[static_cast<size_t>(at)], split.train.labels[src]);
        EXPECT_TRUE(std::equal(&w->train.features[static_cast<size_t>(at) * d],
                               &w->train.features[static_cast<size_t>(at) * d] + d,
                               &split.train.features[src * d]))
            << partition << " peer " << p << " row " << k;
      }
      offset += static_cast<int64_t>(parts[p].size());
    }
    EXPECT_EQ(offset, w->train.size());
  }
}

// A peer process builds only its own shard (BuildPeerWorkload): the same rows, values and order
// as shard p of the full workload, so it trains the same bit for bit; synthetic data generates
// only those rows. For every partition, two test fractions, shards of unequal sizes, and
// a data file (read whole, then cut to the shard).
TEST_F(ExperimentData, APeersOwnWorkloadIsItsShardOfTheFullOne) {
  std::vector<std::string> datas;
  for (const char* partition : {"iid", "label_sorted", "dirichlet"}) {
    for (const char* test : {"0.2", "0.5"}) {
      datas.push_back(std::string("data: {kind: synthetic, samples: 103, features: 7, classes: 3, "
                                  "noise: 0.1, seed: 5, test_fraction: ") +
                      test + ", partition: " + partition + "}\n");
    }
  }
  datas.push_back(
      "data: {kind: csv, path: data.csv, label_column: -1, header: true, delimiter: ';', "
      "test_fraction: 0.25, partition: dirichlet, alpha: 0.2}\n");
  datas.push_back(
      "data: {kind: csv, path: data.csv, label_column: -1, header: true, delimiter: ';', "
      "test_path: test.csv, partition: iid}\n");
  datas.push_back("data: {kind: libsvm, path: data.svm, test_fraction: 0.3, partition: iid}\n");
  datas.push_back(
      "data: {kind: libsvm, path: data.svm, features: 4, test_fraction: 0.2, partition: "
      "label_sorted}\n");
  datas.push_back(
      "data: {kind: libsvm, path: data.svm, test_path: test.svm, partition: dirichlet, "
      "alpha: 0.5}\n");
  // IDX files: the peer reads only its shard's images (LoadIdxRows).
  for (const char* partition : {"iid", "label_sorted", "dirichlet"}) {
    datas.push_back(std::string("data: {kind: idx, path: many.idx, labels: many_lab.idx, "
                                "test_fraction: 0.3, partition: ") +
                    partition + "}\n");
  }
  // With a test pair: no split, and the test labels' classes widen the model (7, not 5).
  datas.push_back(
      "data: {kind: idx, path: many.idx, labels: many_lab.idx, test_path: test.idx, "
      "test_labels: test_lab.idx, partition: label_sorted}\n");
  for (const std::string& data : datas) {
    auto exp = Load(data);
    ASSERT_TRUE(exp.ok()) << exp.status().message();
    const RunConfig& run = exp->runs.front();
    auto full = BuildWorkload(run, 4);
    ASSERT_TRUE(full.ok()) << full.status().message();
    const auto d = static_cast<size_t>(full->train.num_features);
    // The launcher's build leaves a text file's index in a shared folder; peers read through it.
    const std::string index_dir = dir_ + "/index";
    fs::remove_all(index_dir);
    fs::create_directories(index_dir);
    auto indexed = BuildWorkload(run, 4, index_dir);
    ASSERT_TRUE(indexed.ok()) << indexed.status().message();
    EXPECT_EQ(indexed->train.labels, full->train.labels);
    EXPECT_EQ(indexed->train.features, full->train.features);
    const bool text = run.data.kind == "csv" || run.data.kind == "libsvm";
    EXPECT_EQ(fs::exists(TextIndexPath(index_dir, run.data.path)), text) << data;
    for (int p = 0; p < 4; ++p) {
      auto mine = BuildPeerWorkload(run, 4, p);
      ASSERT_TRUE(mine.ok()) << mine.status().message();
      auto via_index = BuildPeerWorkload(run, 4, p, index_dir);
      ASSERT_TRUE(via_index.ok()) << via_index.status().message();
      EXPECT_EQ(via_index->train.labels, mine->train.labels) << data << " peer " << p;
      EXPECT_EQ(via_index->train.features, mine->train.features) << data << " peer " << p;
      EXPECT_EQ(via_index->train.num_classes, mine->train.num_classes) << data << " peer " << p;
      const std::vector<int64_t>& rows = full->shards[static_cast<size_t>(p)];
      ASSERT_EQ(mine->shards.size(), 4u);
      for (int q = 0; q < 4; ++q) {
        const std::vector<int64_t>& s = mine->shards[static_cast<size_t>(q)];
        if (q != p) {
          EXPECT_TRUE(s.empty()) << data << " peer " << p << " holds shard " << q;
          continue;
        }
        ASSERT_EQ(s.size(), rows.size()) << data << " peer " << p;
        for (size_t k = 0; k < s.size(); ++k) EXPECT_EQ(s[k], static_cast<int64_t>(k));
      }
      ASSERT_EQ(mine->train.size(), static_cast<int64_t>(rows.size())) << data << " peer " << p;
      EXPECT_EQ(mine->train.num_features, full->train.num_features);
      EXPECT_EQ(mine->train.num_classes, full->train.num_classes);
      EXPECT_EQ(mine->test.size(), 0);
      EXPECT_EQ(mine->model->num_params(), full->model->num_params());
      for (size_t k = 0; k < rows.size(); ++k) {
        const auto src = static_cast<size_t>(rows[k]);
        EXPECT_EQ(mine->train.labels[k], full->train.labels[src]) << data << " peer " << p;
        EXPECT_TRUE(std::equal(&mine->train.features[k * d], &mine->train.features[k * d] + d,
                               &full->train.features[src * d]))
            << data << " peer " << p << " row " << k;
      }
    }
    if (data.find("test_lab.idx") != std::string::npos) {
      EXPECT_EQ(full->train.num_classes, 7);
      EXPECT_EQ(full->train.size(), 103);
    }
    if (data.find("test.csv") != std::string::npos) {
      EXPECT_EQ(full->train.num_classes, 6);  // the test file's label 5
    }
    auto bad = BuildPeerWorkload(run, 4, 4);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().message(), "peer id 4 is not one of the 4 peers");
  }
  // A test pair of another shape: the peer reports what the full build does.
  Write("wide.idx",
        std::string("\0\0\x08\x03", 4) + Be32(1) + Be32(4) + Be32(2) + std::string(8, '\0'));
  Write("wide_lab.idx", std::string("\0\0\x08\x01", 4) + Be32(1) + std::string(1, '\0'));
  auto wide = Load(
      "data: {kind: idx, path: many.idx, labels: many_lab.idx, test_path: wide.idx, "
      "test_labels: wide_lab.idx}\n");
  ASSERT_TRUE(wide.ok()) << wide.status().message();
  auto wide_peer = BuildPeerWorkload(wide->runs.front(), 4, 1);
  auto wide_full = BuildWorkload(wide->runs.front(), 4);
  ASSERT_FALSE(wide_peer.ok());
  ASSERT_FALSE(wide_full.ok());
  EXPECT_EQ(wide_peer.status().message(), wide_full.status().message());
  EXPECT_NE(wide_peer.status().message().find("has 8 features, the training file"),
            std::string::npos)
      << wide_peer.status().message();
  // Too few examples for the peers: the full build's error, without generating the features.
  auto exp = Load("data: {kind: synthetic, samples: 4, features: 3, test_fraction: 0.5}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  auto few = BuildPeerWorkload(exp->runs.front(), 4, 0);
  auto few_full = BuildWorkload(exp->runs.front(), 4);
  ASSERT_FALSE(few.ok());
  ASSERT_FALSE(few_full.ok());
  EXPECT_EQ(few.status().message(), few_full.status().message());
}

TEST_F(ExperimentData, BadDataKeysAreOneLineErrorsWithFileAndLine) {
  EXPECT_ERROR("data: {kind: csv}\n", "exp.yaml:3:7: csv data needs `path:`");
  EXPECT_ERROR("data: {kind: idx, path: img.idx}\n", "exp.yaml:3:", "idx data needs `labels:`");
  EXPECT_ERROR("data: {kind: idx, path: img.idx, labels: lab.idx, test_path: img.idx}\n",
               "exp.yaml:3:", "give `test_path:` (images) and `test_labels:` together");
  EXPECT_ERROR("data: {kind: idx, path: short.idx, labels: lab.idx}\n",
               "exp.yaml:3:25: data.path: ",
               "short.idx: IDX header says 8 x 2 x 2 bytes of data (48 bytes in all), the file "
               "has 45 bytes (truncated?)");
  EXPECT_ERROR("data: {kind: idx, path: img.idx, labels: nope.idx}\n",
               "exp.yaml:3:42: data.labels: cannot open '");
  EXPECT_ERROR("data: {kind: libsvm, path: data.csv, header: true}\n",
               "exp.yaml:3:46: data.header applies to kind csv, not libsvm");
  EXPECT_ERROR("data: {kind: csv, path: data.csv, labels: lab.idx}\n",
               "exp.yaml:3:43: data.labels applies to kind idx, not csv");
  EXPECT_ERROR("data: {kind: csv, path: data.csv, delimiter: '::'}\n",
               "exp.yaml:3:46: data.delimiter '::': give one character");
  EXPECT_ERROR("data: {kind: csv, path: data.csv, header: maybe}\n",
               "exp.yaml:3:43: data.header 'maybe' is unknown");
  EXPECT_ERROR("data: {kind: csv, path: data.csv, label_column: -2}\n",
               "exp.yaml:3:49:", "data.label_column");
  EXPECT_ERROR("data: {partition: dirichlet, alpha: 0}\n",
               "exp.yaml:3:37: data.alpha = 0; the Dirichlet concentration must be > 0");
  EXPECT_ERROR("data: {partition: dirichlet, alpha: -1}\n", "exp.yaml:3:37: data.alpha = -1");
  EXPECT_ERROR("data: {partition: dirichlet, alpha: .nan}\n", "exp.yaml:3:37:", "data.alpha");
  EXPECT_ERROR("data: {partition: dirichlet, alpha: .inf}\n", "exp.yaml:3:37:", "data.alpha");
  EXPECT_ERROR("data: {partition: iid, alpha: 0.5}\n",
               "exp.yaml:3:31: data.alpha is the Dirichlet concentration; it needs partition: "
               "dirichlet (the partition is iid)");
  EXPECT_ERROR("data: {partition: dirichlet, alpah: 0.5}\n", "exp.yaml:3:", "alpha");
  // A file error found when the data is read names the experiment line and the file's line.
  Write("bad.csv", "0,1\n1,x\n");
  auto exp = Load("data: {kind: csv, path: bad.csv}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  auto w = BuildWorkload(exp->runs.front(), 4);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("exp.yaml:3:7: data: "), std::string::npos)
      << w.status().message();
  EXPECT_NE(w.status().message().find("bad.csv:2: column 2: 'x' is not a number"),
            std::string::npos)
      << w.status().message();
}

}  // namespace
}  // namespace hearsay
