// Checkpoints and resume (issue 11 item 7, docs/faults.md): a synchronous run stopped after its
// checkpoint and resumed with `--resume` ends bit-identical to the uninterrupted run, for every
// gossip algorithm, with stateful optimizers and codecs; bad resumes are refused before anything
// starts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/launch/launcher.h"
#include "runtime/peer/checkpoint.h"
#include "tests/runtime/run_test_util.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    Write("topo.yaml",
          "nodes: 4\nbase_port: 17520\ngenerator: {kind: ring}\nweights: metropolis\n"
          "links:\n  default: {bandwidth: 1Gbit, latency: 0ms}\n");
  }
  void Write(const std::string& name, const std::string& text) { tmp_.Write(name, text); }
  // One experiment file per length: the runs below, `rounds` rounds, a checkpoint every 20.
  std::string Experiment(int rounds) {
    const std::string name = "exp" + std::to_string(rounds) + ".yaml";
    Write(name,
          "topology: topo.yaml\ntransport: inproc\nemulate: false\n"
          "data: {kind: synthetic, samples: 600, features: 8, classes: 3, seed: 3}\n"
          "model: softmax\nbatch_size: 16\nseed: 7\neval_every: 10\ncheckpoint_every: 20\n"
          "rounds: " +
              std::to_string(rounds) +
              "\nruns:\n"
              "  - {name: dcd, algorithm: dcd, compressor: 'qsgd:8', optimizer: adamw, "
              "lr: 0.01}\n"
              "  - {name: choco, algorithm: choco, compressor: 'ef(topk:0.2)', lr: 0.05}\n"
              "  - {name: dpsgd, algorithm: dpsgd, optimizer: nesterov, lr: 0.05}\n"
              "  - {name: ecd, algorithm: ecd, compressor: 'qsgd:8', lr: 0.05, "
              "local_steps: 3, outer_optimizer: {kind: nesterov, lr: 0.7}}\n");
    return dir_ + "/" + name;
  }
  Result<std::vector<RunSummary>> Run(const std::string& exp, const std::string& out, bool resume,
                                      std::string* progress_text = nullptr) {
    LaunchOptions o;
    o.experiment_path = exp;
    o.out_dir = out;
    o.resume = resume;
    std::ostringstream progress;
    o.progress = &progress;
    auto r = Launch(o);
    if (progress_text) *progress_text = progress.str();
    return r;
  }
  testing_util::TempDir tmp_;
  const std::string dir_ = tmp_.path();
};

const char* const kRuns[] = {"dcd", "choco", "dpsgd", "ecd"};

TEST_F(Checkpoints, ResumedRunIsBitIdenticalToTheUninterruptedOne) {
  const std::string full = dir_ + "/full", cut = dir_ + "/cut";
  ASSERT_TRUE(Run(Experiment(100), full, false).ok());
  // The "interrupted" run: 50 rounds (its last checkpoint is round 40), then resumed to 100.
  ASSERT_TRUE(Run(Experiment(50), cut, false).ok());
  for (const char* run : kRuns) {
    EXPECT_EQ(CommonCheckpointRounds(cut + "/" + run, 4), (std::vector<int64_t>{20, 40})) << run;
  }
  std::string said;
  auto resumed = Run(Experiment(100), cut, true, &said);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  for (const char* run : kRuns) {
    EXPECT_NE(
        said.find(std::string("run '") + run + "': resuming from the checkpoints of round 40"),
        std::string::npos)
        << said;
    for (int i = 0; i < 4; ++i) {
      const std::string f = "/" + std::string(run) + "/peer_" + std::to_string(i) + ".final.f32";
      const std::string a = ReadAll(full + f), b = ReadAll(cut + f);
      ASSERT_FALSE(a.empty()) << f;
      EXPECT_TRUE(a == b) << run << " peer " << i << ": the resumed model differs";
    }
    // The metrics file holds rounds 1..100 once each: 1..40 kept, 41..50 of the first attempt
    // dropped, 41..100 written by the resumed peer.
    std::ifstream m(cut + "/" + run + "/peer_2.jsonl");
    int64_t expect = 1;
    for (std::string line; std::getline(m, line); ++expect) {
      ASSERT_NE(line.find("\"round\":" + std::to_string(expect) + ","), std::string::npos)
          << run << ": " << line;
    }
    EXPECT_EQ(expect, 101) << run;
  }
  // The summaries agree on everything the models decide.
  ASSERT_EQ(resumed->size(), 4u);
  auto again = Run(Experiment(100), dir_ + "/again", false);
  ASSERT_TRUE(again.ok());
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ((*resumed)[k].final_point.train_loss, (*again)[k].final_point.train_loss);
    EXPECT_EQ((*resumed)[k].final_point.consensus, (*again)[k].final_point.consensus);
    EXPECT_EQ((*resumed)[k].rounds, 100);
  }
}

TEST_F(Checkpoints, BadResumesAreRefusedBeforeAnythingStarts) {
  const std::string out = dir_ + "/out";
  const std::string exp = Experiment(30);
  // No checkpoints at all.
  fs::create_directories(dir_ + "/empty");
  auto none = Run(exp, dir_ + "/empty", true);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("no run of the experiment has a checkpoint"),
            std::string::npos)
      << none.status().message();
  ASSERT_TRUE(Run(exp, out, false).ok());
  // Another experiment's checkpoints (another seed).
  std::string text = ReadAll(exp);
  text.replace(text.find("seed: 7"), 7, "seed: 8");
  Write("other.yaml", text);
  auto other = Run(dir_ + "/other.yaml", out, true);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("written by another experiment"), std::string::npos)
      << other.status().message();
  // A damaged checkpoint: one byte of the state flipped.
  const std::string victim = CheckpointPath(out + "/dcd", 1, 20);
  std::string bytes = ReadAll(victim);
  ASSERT_GT(bytes.size(), 100u);
  bytes[bytes.size() / 2] ^= 0x20;
  std::ofstream(victim, std::ios::binary | std::ios::trunc) << bytes;
  auto damaged = Run(exp, out, true);
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find("p1_r20.ckpt: checksum mismatch"), std::string::npos)
      << damaged.status().message();
  // Not a checkpoint at all.
  std::ofstream(victim, std::ios::binary | std::ios::trunc) << "hello";
  auto junk = Run(exp, out, true);
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find("not a hearsay checkpoint"), std::string::npos)
      << junk.status().message();
}

TEST_F(Checkpoints, ARunThatStartsAfreshClearsOldCheckpoints) {
  const std::string out = dir_ + "/out";
  ASSERT_TRUE(Run(Experiment(50), out, false).ok());
  ASSERT_TRUE(fs::exists(CheckpointPath(out + "/dcd", 0, 40)));
  ASSERT_TRUE(Run(Experiment(30), out, false).ok());
  // Only the new run's checkpoint (round 20): a later --resume cannot pick up round 40 of the
  // old run, whose peers' files were overwritten.
  EXPECT_EQ(CommonCheckpointRounds(out + "/dcd", 4), (std::vector<int64_t>{20}));
}

}  // namespace
}  // namespace hearsay
