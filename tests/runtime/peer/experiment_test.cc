// Experiment files: units and synonyms, typed enums, did-you-mean, file:line on every error,
// the grid, the fault schedule and the load-time limits (docs/experiment_format.md).
#include "runtime/peer/experiment.h"

#include <yaml-cpp/yaml.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "runtime/peer/experiment_parser.h"
#include "runtime/peer/workload.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

class ExperimentFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hearsay_experiment_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    Write("ring.yaml",
          "nodes: 4\nbase_port: 17300\ngenerator: {kind: ring}\n"
          "links:\n  default: {bandwidth: 20Mbit, latency: 20ms}\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
    return dir_ + "/" + name;
  }
  // An experiment file with a small synthetic problem, `body` appended.
  Result<Experiment> Load(const std::string& body) {
    return LoadExperiment(Write("exp.yaml",
                                "topology: ring.yaml\n"
                                "data: {kind: synthetic, samples: 400, features: 8, classes: 3}\n" +
                                    body));
  }
  // The error of a file that must fail ("" when it loads).
  std::string ErrorOf(const std::string& body) {
    auto r = Load(body);
    return r.ok() ? std::string() : r.status().message();
  }
  std::string dir_;
};

#define EXPECT_ERROR(body, ...)                                                                   \
  do {                                                                                            \
    const std::string _err = ErrorOf(body);                                                       \
    ASSERT_FALSE(_err.empty()) << "loaded a bad file:\n" << body;                                 \
    for (const char* _want : {__VA_ARGS__}) {                                                     \
      EXPECT_NE(_err.find(_want), std::string::npos) << "missing '" << _want << "' in: " << _err; \
    }                                                                                             \
  } while (0)

TEST_F(ExperimentFile, DurationsTakeUnitsAndBareSeconds) {
  auto exp = Load(
      "round_timeout: 2min\nconnect_timeout: 1500ms\nheartbeat: 250msec\ndead_after: 3\n"
      "duration: 1.5h\neval_every_s: 5s\ncompute_time: 20ms\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  const RunConfig& r = exp->runs.front();
  EXPECT_EQ(r.round_timeout_s, 120);
  EXPECT_DOUBLE_EQ(r.connect_timeout_s, 1.5);
  EXPECT_DOUBLE_EQ(r.heartbeat_s, 0.25);
  EXPECT_EQ(r.dead_after_s, 3);  // a bare number is seconds in experiment files
  EXPECT_EQ(r.duration_s, 5400);
  EXPECT_EQ(r.eval_every_s, 5);
  EXPECT_DOUBLE_EQ(r.compute_time_s, 0.02);
  EXPECT_EQ(r.rounds, kUnlimitedRounds) << "duration without rounds bounds the run by time";
  auto both = Load("duration: 60s\nrounds: 50\n");
  ASSERT_TRUE(both.ok()) << both.status().message();
  EXPECT_EQ(both->runs.front().rounds, 50);
  EXPECT_EQ(both->runs.front().duration_s, 60);
}

TEST_F(ExperimentFile, DefaultsMatchTheDocumentedOnes) {
  auto exp = Load("");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  const RunConfig& r = exp->runs.front();
  EXPECT_EQ(r.name, "dpsgd");
  EXPECT_EQ(r.algorithm, AlgorithmKind::kDpsgd);
  EXPECT_EQ(r.mode, RunMode::kSync);
  EXPECT_EQ(r.staleness, 2);
  EXPECT_EQ(r.rounds, 100);
  EXPECT_EQ(r.duration_s, 0);
  EXPECT_EQ(r.eval_every_s, 0);
  EXPECT_EQ(r.compute_time_s, 0);
  EXPECT_TRUE(std::isnan(r.target_loss));
  EXPECT_EQ(r.heartbeat_s, 0.5);
  EXPECT_EQ(r.dead_after_s, 5);
  EXPECT_EQ(r.checkpoint_every, 0);
  EXPECT_EQ(r.min_neighbors, 0);
  EXPECT_EQ(r.streams, 1);
  EXPECT_TRUE(r.faults.empty());
  EXPECT_EQ(r.device, Device{});
  EXPECT_TRUE(r.grid_values.empty());
  EXPECT_EQ(r.topology, exp->topology);
  EXPECT_EQ(exp->transport, TransportKind::kTcp);
}

TEST_F(ExperimentFile, EnumsAreParsedOnce) {
  auto exp = Load(
      "transport: inproc\nruns:\n"
      "  - {algorithm: choco, compressor: \"qsgd:4\", mode: async, staleness: unbounded}\n"
      "  - {algorithm: adpsgd, device: \"cuda:1\", staleness: 0}\n"
      "  - {algorithm: allreduce, device: cuda}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  EXPECT_EQ(exp->transport, TransportKind::kInproc);
  const auto& runs = exp->runs;
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].algorithm, AlgorithmKind::kChoco);
  EXPECT_EQ(runs[0].mode, RunMode::kAsync);
  EXPECT_EQ(runs[0].staleness, kUnboundedStaleness);
  EXPECT_EQ(runs[1].algorithm, AlgorithmKind::kAdpsgd);
  EXPECT_EQ(runs[1].device.kind, DeviceKind::kCuda);
  EXPECT_EQ(runs[1].device.index, 1);
  EXPECT_EQ(runs[1].device.ToString(), "cuda:1");
  EXPECT_EQ(runs[1].staleness, 0);
  EXPECT_EQ(runs[2].algorithm, AlgorithmKind::kAllreduce);
  EXPECT_EQ(runs[2].device.index, -1);
  EXPECT_EQ(runs[0].name, "choco-qsgd:4");
  EXPECT_EQ(AlgorithmLabel(runs[0]), "choco/qsgd:4");
}

TEST_F(ExperimentFile, MisspeltKeysAndNamesGetASuggestionAndALine) {
  EXPECT_ERROR("rouns: 10\n", "exp.yaml:3:1: experiment: unknown key 'rouns'",
               "did you mean 'rounds'?");
  EXPECT_ERROR("algorithm: dcdd\n", "exp.yaml:3:12: algorithm 'dcdd' is unknown",
               "did you mean 'dcd'?", "valid: dpsgd, dcd, ecd, choco, adpsgd, allreduce");
  EXPECT_ERROR("mode: asynch\n", "exp.yaml:3:7: mode 'asynch' is unknown", "did you mean 'async'?");
  EXPECT_ERROR("adpsgd_wait: always\n", "exp.yaml:3:14: adpsgd_wait 'always' is unknown",
               "valid: none, reply");
  EXPECT_ERROR("transport: tpc\n", "transport 'tpc' is unknown", "did you mean 'tcp'?");
  EXPECT_ERROR("device: gpu\n", "exp.yaml:3:9: device 'gpu' is unknown", "cuda:N");
  EXPECT_ERROR("device: \"cuda:x\"\n", "the GPU index must be a number");
  EXPECT_ERROR("runs:\n  - {algoritm: dcd}\n", "exp.yaml:4:6: run 1: unknown key 'algoritm'",
               "did you mean 'algorithm'?");
  EXPECT_ERROR("staleness: -1\n", "exp.yaml:3:12: staleness '-1' must be an integer >= 0",
               "unbounded");
  EXPECT_ERROR("staleness: 1.5\n", "staleness '1.5' must be an integer");
}

TEST_F(ExperimentFile, StreamsAreOneToSixteenConnectionsPerLink) {
  auto exp = Load("runs:\n  - {streams: 4}\n  - {name: plain}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  EXPECT_EQ(exp->runs[0].streams, 4);
  EXPECT_EQ(exp->runs[1].streams, 1);
  EXPECT_ERROR("streams: 0\n", "exp.yaml:3:10: streams");
  EXPECT_ERROR("streams: 17\n", "exp.yaml:3:10: streams");
  EXPECT_ERROR("streams: two\n", "exp.yaml:3:10: streams");
}

// Found by fuzz/experiment_fuzz: a YAML complex key (a mapping used as a key) used to escape
// LoadExperiment as an exception; it is a one-line error now (fuzz/corpus keeps the input).
TEST_F(ExperimentFile, ComplexKeysAreAnErrorNotACrash) {
  EXPECT_ERROR("defaults:\n  model: softmax\n? data:\n    kind: synthetic\n",
               "exp.yaml:5:3: experiment: a key must be a plain name, not a YAML mapping");
  EXPECT_ERROR("runs:\n  - {? [a, b] : 1}\n", "run 1: a key must be a plain name, not a YAML list");
  std::ifstream finding(std::string(HEARSAY_TEST_SOURCE_DIR) +
                        "/fuzz/corpus/experiment_fuzz/non_scalar_key.yaml");
  ASSERT_TRUE(finding.good());
  const std::string text((std::istreambuf_iterator<char>(finding)),
                         std::istreambuf_iterator<char>());
  Write("topo.yaml", "nodes: 4\nbase_port: 17100\ngenerator: {kind: ring}\n");
  auto r = LoadExperiment(Write("finding.yaml", text));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("a key must be a plain name"), std::string::npos)
      << r.status().message();
}

// yaml-cpp keeps both values of a key given twice and a lookup takes the first: `batch_size: 8`
// ... `batch_size: 1000` in one map ran with 8, silently. A key given twice is an error now.
TEST_F(ExperimentFile, AKeyGivenTwiceIsAnError) {
  EXPECT_ERROR("defaults:\n  batch_size: 8\n  lr: 0.1\n  batch_size: 1000\n",
               "exp.yaml:6:3: `batch_size` is given twice in this map (first at line 4); a key "
               "may appear once");
  EXPECT_ERROR("runs:\n  - {name: a, algorithm: dcd, name: b}\n",
               "exp.yaml:4:31: `name` is given twice in this map (first at line 4)");
  EXPECT_ERROR("topology: ring.yaml\n", "exp.yaml:3:1: `topology` is given twice");
  // The same key in different maps, or the same value twice, is fine.
  auto ok = Load("defaults: {lr: 0.1}\nruns:\n  - {name: a, lr: 0.2}\n  - {name: b, lr: 0.2}\n");
  EXPECT_TRUE(ok.ok()) << ok.status().message();
}

TEST_F(ExperimentFile, ModelAndDataErrorsNameFileAndLine) {
  EXPECT_ERROR("model: resnet\n", "exp.yaml:3:8: model kind 'resnet' is unknown",
               "valid: logistic, softmax, mlp");
  EXPECT_ERROR("model: {kind: logistic}\n",
               "exp.yaml:3:15: run 'dpsgd':", "logistic is binary but the data has 3 classes");
  EXPECT_ERROR("model: {kind: softmax, hidden: [8]}\n",
               "exp.yaml:3:15:", "model.hidden is only used by kind mlp");
  EXPECT_ERROR("model: {kind: mlp, hidden: [8, 0]}\n",
               "exp.yaml:3:32: model.hidden[1] = 0; must be from 1");
  EXPECT_ERROR("model: {kind: softmax, l2: -1}\n", "exp.yaml:3:28: model.l2 must be >= 0");
  EXPECT_ERROR("defaults:\n  data: {samples: 1}\n", "exp.yaml:4:19: data.samples = 1");
  EXPECT_ERROR("defaults:\n  data: {noise: 1.5}\n", "exp.yaml:4:17: data.noise = 1.5");
  EXPECT_ERROR("defaults:\n  data: {kind: libsvm}\n", "exp.yaml:4:9: libsvm data needs `path:`");
  EXPECT_ERROR("defaults:\n  data: {kind: libsvm, path: nope.svm}\n",
               "exp.yaml:4:30: data.path: cannot open '", "nope.svm'");
  EXPECT_ERROR("defaults:\n  data: {kind: libsvm, path: /dev/zero}\n",
               "'/dev/zero' is not a regular file");
  EXPECT_ERROR("defaults:\n  data: {partition: sorted}\n", "data partition 'sorted' is unknown");
}

// A LIBSVM file's class count is known only when the file is read; the error still says where
// the experiment set the model.
TEST_F(ExperimentFile, ModelErrorsFoundWhenTheDataIsReadNameTheExperimentLine) {
  Write("three.svm", "0 1:1\n1 2:1\n2 1:0.5\n0 2:2\n1 1:2\n2 2:0.5\n0 1:1\n1 2:1\n");
  auto exp = Load("model: {kind: logistic}\ndefaults:\n  data: {kind: libsvm, path: three.svm}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  auto w = BuildWorkload(exp->runs.front(), 4);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("exp.yaml:3:15: run 'dpsgd': model.kind = logistic is "
                                      "binary"),
            std::string::npos)
      << w.status().message();
  Write("bad.svm", "0 1:1\nx 2:1\n");
  auto bad = Load("defaults:\n  data: {kind: libsvm, path: bad.svm}\n");
  ASSERT_TRUE(bad.ok()) << bad.status().message();
  auto wb = BuildWorkload(bad->runs.front(), 4);
  ASSERT_FALSE(wb.ok());
  EXPECT_NE(wb.status().message().find("exp.yaml:4:9: data: "), std::string::npos)
      << wb.status().message();
  EXPECT_NE(wb.status().message().find("bad.svm:2"), std::string::npos) << wb.status().message();
}

TEST_F(ExperimentFile, TimeoutsMustBeFinitePositiveAndBelowAWeek) {
  EXPECT_ERROR("round_timeout: 1.0e10\n", "exp.yaml:3:16: round_timeout = 1.0e10", "7-day limit");
  EXPECT_ERROR("round_timeout: .nan\n", "exp.yaml:3:16: round_timeout: duration '.nan'");
  EXPECT_ERROR("connect_timeout: .inf\n", "connect_timeout: duration '.inf'");
  EXPECT_ERROR("round_timeout: 0\n", "round_timeout must be > 0");
  EXPECT_ERROR("heartbeat: -1s\n", "duration '-1s' is negative");
  EXPECT_ERROR("heartbeat: 2s\ndead_after: 1s\n",
               "exp.yaml:4:13: run 'dpsgd': dead_after (1s) "
               "must be longer than heartbeat (2s)");
  EXPECT_ERROR("compute_time: 0\n", "compute_time must be > 0");
  EXPECT_ERROR("target_loss: .nan\n", "target_loss: expected a number");
  EXPECT_ERROR("target_loss: -0.1\n",
               "exp.yaml:3:14: target_loss = -0.1: a training loss is never negative");
}

TEST_F(ExperimentFile, RunNamesAndClusterIdsAreChecked) {
  EXPECT_ERROR("runs:\n  - {name: ../../x}\n",
               "exp.yaml:4:12: run name '../../x' has the "
               "character '/'");
  EXPECT_ERROR("runs:\n  - {name: ..}\n", "run name '..' would name a folder outside");
  EXPECT_ERROR("runs:\n  - {name: \"a b\"}\n", "has the character ' '");
  EXPECT_ERROR("runs:\n  - {name: " + std::string(101, 'a') + "}\n", "101 characters; at most 100");
  EXPECT_ERROR("cluster_id: " + std::string(300, 'c') + "\n",
               "cluster_id must have 1 to 256 bytes (it has 300)");
  EXPECT_ERROR("cluster_id: \"a\\tb\"\n", "cluster_id must be printable ASCII");
  // Generated names are made safe, not refused: a codec spec with parentheses and spaces.
  auto exp = Load("algorithm: choco\ncompressor: \"then(randk:0.5, natural)\"\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  EXPECT_EQ(exp->runs.front().name, "choco-then_randk:0.5_natural");
}

TEST_F(ExperimentFile, DataTooLargeForThisMachineIsAValidationError) {
  EXPECT_ERROR("defaults:\n  data: {samples: 1000000000000, features: 100000}\n",
               "exp.yaml:4:19: run 'dpsgd': the data set (",
               "more than half of this machine's "
               "memory");
  EXPECT_ERROR("defaults:\n  data: {features: 4000000, classes: 50000}\n", "the models of 4 peers");
}

TEST_F(ExperimentFile, SecretFileResolvesAgainstTheExperimentFolder) {
  auto exp = Load("secret_file: keys/cluster.key\nsecret: other\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  EXPECT_EQ(exp->runs.front().secret_file,
            (fs::path(dir_) / "keys/cluster.key").lexically_normal().string());
  EXPECT_EQ(exp->runs.front().secret, "other");
  EXPECT_ERROR("secret_file: \"\"\n", "secret_file: give the path of a file");
}

TEST_F(ExperimentFile, GridExpandsToEveryCombinationWithItsOwnTopologies) {
  auto exp = Load(
      "grid:\n"
      "  algorithm: [dpsgd, dcd]\n"
      "  bandwidth: [1Mbit, 10mbit]\n"
      "  lr: [0.1, 0.2]\n"
      "compressor: \"qsgd:8\"\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  EXPECT_EQ(exp->transport, TransportKind::kSim) << "a grid runs in the simulator by default";
  EXPECT_EQ(exp->grid_keys, (std::vector<std::string>{"algorithm", "bandwidth", "lr"}));
  ASSERT_EQ(exp->runs.size(), 8u);
  EXPECT_EQ(exp->runs[0].name, "dpsgd-1Mbit-0.1");
  EXPECT_EQ(exp->runs[1].name, "dpsgd-1Mbit-0.2");
  EXPECT_EQ(exp->runs[2].name, "dpsgd-10mbit-0.1");
  EXPECT_EQ(exp->runs[7].name, "dcd-qsgd:8-10mbit-0.2");
  const RunConfig& last = exp->runs[7];
  EXPECT_EQ(last.algorithm, AlgorithmKind::kDcd);
  EXPECT_DOUBLE_EQ(last.lr.base, 0.2);
  EXPECT_EQ(last.grid_values, (std::vector<std::pair<std::string, std::string>>{
                                  {"algorithm", "dcd"}, {"bandwidth", "10mbit"}, {"lr", "0.2"}}));
  EXPECT_EQ(last.topology->link_defaults.bandwidth_bps, 10e6);
  EXPECT_DOUBLE_EQ(last.topology->link_defaults.latency_s, 0.02);  // the file's, unchanged
  EXPECT_EQ(exp->runs[0].topology->link_defaults.bandwidth_bps, 1e6);
  // One topology per distinct set of values, shared by the runs that use it.
  EXPECT_EQ(exp->runs[0].topology, exp->runs[1].topology);
  EXPECT_EQ(exp->runs[0].topology, exp->runs[4].topology);
  EXPECT_NE(exp->runs[0].topology, exp->runs[2].topology);
  EXPECT_NE(exp->runs[0].topology, exp->topology);
}

// D-PSGD ignores `compressor:`: over algorithm x compressor it runs once, its grid value "fp32"
// (before, the two unnamed D-PSGD runs had one name and the file was refused).
TEST_F(ExperimentFile, GridOverAlgorithmAndCompressorRunsDpsgdOnce) {
  auto exp = Load(
      "grid:\n"
      "  algorithm: [dpsgd, dcd]\n"
      "  compressor: [\"qsgd:4\", \"qsgd:8\"]\n"
      "  latency: [1ms, 50ms]\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  std::vector<std::string> names;
  for (const RunConfig& r : exp->runs) names.push_back(r.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"dpsgd-1ms", "dpsgd-50ms", "dcd-qsgd:4-1ms",
                                      "dcd-qsgd:4-50ms", "dcd-qsgd:8-1ms", "dcd-qsgd:8-50ms"}));
  EXPECT_EQ(exp->runs[1].grid_values,
            (std::vector<std::pair<std::string, std::string>>{
                {"algorithm", "dpsgd"}, {"compressor", "fp32"}, {"latency", "50ms"}}));
  EXPECT_EQ(exp->runs[5].grid_values[1].second, "qsgd:8");
  // Named runs carry every value in their names, fp32 included.
  exp = Load(
      "grid:\n  compressor: [\"qsgd:4\", \"qsgd:8\"]\n"
      "runs:\n  - {name: base, algorithm: dpsgd}\n  - {name: c, algorithm: choco}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  names.clear();
  for (const RunConfig& r : exp->runs) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"base-fp32", "c-qsgd:4", "c-qsgd:8"}));
}

TEST_F(ExperimentFile, GridOverGeneratorAndNodeCountAndNamedRuns) {
  auto exp = Load(
      "transport: inproc\n"
      "grid:\n  n: [4, 6]\n  generator: [ring, {kind: complete}]\n"
      "runs:\n  - {name: base}\n  - {name: choco, algorithm: choco, compressor: \"qsgd:4\"}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  EXPECT_EQ(exp->transport, TransportKind::kInproc);
  ASSERT_EQ(exp->runs.size(), 8u);
  EXPECT_EQ(exp->runs[0].name, "base-4-ring");
  EXPECT_EQ(exp->runs[1].name, "base-4-kind:_complete");
  EXPECT_EQ(exp->runs[7].name, "choco-6-kind:_complete");
  EXPECT_EQ(exp->runs[7].topology->size(), 6);
  EXPECT_EQ(exp->runs[7].topology->graph->InNeighbors(0, 1).size(), 5u);
  EXPECT_EQ(exp->runs[2].topology->size(), 6);
  EXPECT_EQ(exp->runs[2].topology->generator->kind, "ring");
  EXPECT_EQ(exp->runs[0].topology, exp->runs[4].topology);
}

TEST_F(ExperimentFile, BadGridsAreErrorsWithALine) {
  EXPECT_ERROR("grid:\n  colour: [red]\n", "exp.yaml:4:3: grid: unknown key 'colour'");
  EXPECT_ERROR("grid:\n  lattency: [1ms]\n", "did you mean 'latency'?");
  EXPECT_ERROR("grid:\n  lr: []\n", "exp.yaml:4:7: grid.lr: expected a non-empty list");
  EXPECT_ERROR("grid:\n  lr: 0.1\n", "grid.lr: expected a non-empty list");
  EXPECT_ERROR("grid:\n  latency: [20]\n",
               "exp.yaml:4:13: grid latency: duration '20' has no unit");
  EXPECT_ERROR("grid:\n  generator: [donut]\n",
               "exp.yaml:4:15: grid value 'donut': ", "unknown generator kind 'donut'");
  EXPECT_ERROR("grid:\n  algorithm: [dpsgd, sgd]\n", "exp.yaml:4:22: algorithm 'sgd' is unknown");
  EXPECT_ERROR("grid:\n  name: [a, b]\n", "grid: unknown key 'name'");
  // Grid values become run names and summary columns: a secret would be written out.
  EXPECT_ERROR("grid:\n  secret: [hunter2, swordfish]\n",
               "exp.yaml:4:11: grid.secret: the cluster secret cannot be a grid key");
  EXPECT_ERROR("grid:\n  lr: [0.1]\n  secret_file: [a.txt]\n",
               "grid.secret_file: the cluster secret cannot be a grid key");
  // The topology file's word for the count is `nodes`; the grid's is `n`: say so.
  EXPECT_ERROR("grid:\n  nodes: [8, 16]\n",
               "exp.yaml:4:10: grid.nodes: the grid key for the node count is `n`");
  EXPECT_ERROR("runs:\n  - {name: a}\n  - {name: a}\n", "two runs are named 'a'");
  EXPECT_ERROR("grid:\n  lr: [0.1, 0.1]\n", "two runs are named 'dpsgd-0.1'");
}

TEST_F(ExperimentFile, FaultScheduleIsReadAgainstTheRunsTopology) {
  auto exp = Load(
      "rounds: 200\nduration: 10min\n"
      "faults:\n"
      "  - {at: 30s, kill: 3}\n"
      "  - {at: 45s, restart: n3}\n"
      "  - {at_round: 60, pause: 1, for: 10s}\n"
      "  - {at: 90s, partition: [[0, 1], [2, 3]], for: 20s}\n"
      "  - {at: 2min, link_down: [2, 3], for: 5s}\n"
      "  - {at_round: 150, partition: [\"0..1\"]}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  const auto& f = exp->runs.front().faults;
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].kind, FaultSpec::Kind::kKill);
  EXPECT_EQ(f[0].at_s, 30);
  EXPECT_EQ(f[0].at_round, 0);
  EXPECT_EQ(f[0].peers, std::vector<int>{3});
  EXPECT_EQ(f[0].line, 6);
  EXPECT_EQ(f[1].kind, FaultSpec::Kind::kRestart);
  EXPECT_EQ(f[1].peers, std::vector<int>{3});
  EXPECT_EQ(f[2].kind, FaultSpec::Kind::kPause);
  EXPECT_EQ(f[2].at_round, 60);
  EXPECT_EQ(f[2].at_s, -1);
  EXPECT_EQ(f[2].for_s, 10);
  EXPECT_EQ(f[3].kind, FaultSpec::Kind::kPartition);
  EXPECT_EQ(f[3].groups, (std::vector<std::vector<int>>{{0, 1}, {2, 3}}));
  EXPECT_EQ(f[4].kind, FaultSpec::Kind::kLinkDown);
  EXPECT_EQ(f[4].peers, (std::vector<int>{2, 3}));
  EXPECT_EQ(f[4].at_s, 120);
  EXPECT_EQ(f[5].groups, (std::vector<std::vector<int>>{{0, 1}}));
  EXPECT_EQ(f[5].for_s, 0);
}

TEST_F(ExperimentFile, BadFaultsAreErrorsWithALine) {
  EXPECT_ERROR("faults:\n  - {at: 1s, kill: 9}\n", "exp.yaml:4:20: faults[0].kill: unknown node 9",
               "nodes are 0..3");
  EXPECT_ERROR("faults:\n  - {at: 1s, kill: n9}\n", "unknown node 'n9'");
  EXPECT_ERROR("duration: 60s\nfaults:\n  - {at: 90s, kill: 1}\n",
               "exp.yaml:5:10: faults[0].at = 90s is after the run's end (duration 60s)");
  EXPECT_ERROR("rounds: 50\nfaults:\n  - {at_round: 51, kill: 1}\n",
               "faults[0].at_round = 51 is after the run's end (50 rounds)");
  EXPECT_ERROR("faults:\n  - {at: 1s, partition: [[0, 1], [1, 2]]}\n",
               "exp.yaml:4:34: faults[0].partition: node 1 is in two groups");
  EXPECT_ERROR("faults:\n  - {at: 1s, partition: [[0, 1, 2, 3]]}\n", "cuts nothing");
  EXPECT_ERROR("faults:\n  - {at: 1s, link_down: [0, 2]}\n", "peers 0 and 2 are not neighbours");
  EXPECT_ERROR("faults:\n  - {at: 1s, pause: 2}\n", "a pause needs `for:`");
  EXPECT_ERROR("faults:\n  - {at: 1s, kill: 2, for: 5s}\n", "`for:` applies to pause");
  EXPECT_ERROR("faults:\n  - {at: 1s, kill: 2, restart: 2}\n", "give exactly one of kill");
  EXPECT_ERROR("faults:\n  - {kill: 2}\n", "say when");
  EXPECT_ERROR("faults:\n  - {at: 1s, at_round: 3, kill: 2}\n", "not both");
  EXPECT_ERROR("faults:\n  - {at: 1s, kil: 2}\n", "did you mean 'kill'?");
  EXPECT_ERROR("faults: {at: 1s}\n", "faults: expected a list");
  EXPECT_ERROR("min_neighbors: 3\n",
               "exp.yaml:3:16: run 'dpsgd': min_neighbors is 3 but peer 0 "
               "has only 2 neighbours");
}

TEST_F(ExperimentFile, ResolvedConfigNamesEveryKeyAndNoSecret) {
  auto exp =
      Load("secret: hunter2\ngrid:\n  latency: [5ms, 50ms]\nfaults:\n  - {at: 1s, kill: 2}\n");
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  std::vector<const RunConfig*> runs;
  for (const auto& r : exp->runs) runs.push_back(&r);
  const std::string yaml = ResolvedConfigYaml(*exp, runs);
  EXPECT_EQ(yaml.find("hunter2"), std::string::npos) << "the secret must never be written";
  for (const char* key :
       {"version:", "commit:", "build:", "transport: sim", "grid: [latency]", "name: dpsgd-5ms",
        "grid_point: {latency: 50ms}", "algorithm: dpsgd", "staleness: 2", "heartbeat: 0.5",
        "dead_after: 5", "checkpoint_every: 0", "min_neighbors: 0", "round_timeout: 120",
        "mode: sync", "kill: 2", "latency: 50ms", "generator: {kind: ring}", "samples: 400"}) {
    EXPECT_NE(yaml.find(key), std::string::npos) << "missing '" << key << "' in:\n" << yaml;
  }
  // Every run key is written (but the secret, and keys whose default is "none"), so that the
  // file records what ran: `streams` was missing once.
  const YAML::Node back = YAML::Load(yaml);
  for (const std::string& key : experiment_internal::RunKeys()) {
    if (key == "secret" || key == "secret_file" || key == "compute_time" || key == "target_loss") {
      continue;
    }
    EXPECT_TRUE(back["runs"][0][key].IsDefined()) << "run key '" << key << "' missing in:\n"
                                                  << yaml;
  }
  // It is YAML: the runs read back with their names and durations in seconds.
  ASSERT_EQ(back["runs"].size(), 2u);
  EXPECT_EQ(back["runs"][1]["name"].as<std::string>(), "dpsgd-50ms");
  EXPECT_EQ(back["runs"][1]["connect_timeout"].as<double>(), 30);
  EXPECT_EQ(back["runs"][1]["topology"]["links"]["default"]["latency"].as<std::string>(), "50ms");
  EXPECT_EQ(back["topology"]["nodes"].as<int>(), 4);
}

}  // namespace
}  // namespace hearsay
