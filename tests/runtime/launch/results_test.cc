// The launcher's outputs: progress lines, evaluation (round 0 included), summary/curves files
// that keep other runs' rows, plots that keep identical curves visible, config.yaml, --dry-run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/launch/csv.h"
#include "runtime/launch/evaluate.h"
#include "runtime/launch/launcher.h"
#include "runtime/launch/plot.h"
#include "runtime/launch/progress.h"
#include "runtime/launch/report.h"
#include "runtime/launch/results.h"
#include "runtime/peer/experiment.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

class Folder {
 public:
  Folder() {
    char tmpl[] = "/tmp/hearsay_results_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~Folder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
    return path_ + "/" + name;
  }
  std::string Read(const std::string& name) const {
    std::ifstream f(path_ + "/" + name);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }

 private:
  std::string path_;
};

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Progress, AveragesOnlyPeersThatReportedAndShowsNan) {
  Folder dir;
  dir.Write("peer_0.jsonl",
            "{\"round\": 1, \"loss\": 2.0, \"bytes_sent\": 1000000, \"wall_s\": 0.5}\n"
            "{\"round\": 2, \"loss\": 1.0, \"bytes_sent\": 3000000, \"wall_s\": 1.5}\n");
  dir.Write("peer_1.jsonl",
            "{\"round\": 2, \"loss\": 0.5, \"bytes_sent\": 1000000, \"wall_s\": 1}\n"
            "{\"round\": 3, \"lo");  // a partial line waits for its end
  ProgressTracker t(dir.path(), 3);
  t.Poll();
  EXPECT_EQ(t.reported(), 2);
  const std::string line = t.Line("r", 10, 0);
  // Peer 2 has not reported: it is the slowest, but the loss averages peers 0 and 1 only.
  EXPECT_NE(line.find("[r] round 0/10 (peer 2 slowest; fastest at 2)"), std::string::npos) << line;
  EXPECT_NE(line.find("2/3 reporting"), std::string::npos) << line;
  EXPECT_NE(line.find("local loss 0.7500"), std::string::npos) << line;
  EXPECT_NE(line.find("2.00 MB/peer"), std::string::npos) << line;
  EXPECT_NE(line.find("1.5 s"), std::string::npos) << line;
  // A diverged run writes "loss": null; the tracker shows it instead of failing.
  dir.Write("peer_2.jsonl", "{\"round\": 2, \"loss\": null, \"bytes_sent\": 1, \"wall_s\": 1}\n");
  t.Poll();
  const std::string nan_line = t.Line("r", kUnlimitedRounds, 60);
  EXPECT_NE(nan_line.find("round 2 (until 60s)"), std::string::npos) << nan_line;
  EXPECT_NE(nan_line.find("local loss nan"), std::string::npos) << nan_line;
  ProgressTracker empty(dir.path() + "/none", 2);
  empty.Poll();
  EXPECT_NE(empty.Line("e", 5, 0).find("waiting for the peers' first round"), std::string::npos);
}

// A line as the peers write it (RunFiles::WriteRound), which the tracker reads without a parser.
std::string OwnLine(int64_t round, const std::string& loss, int64_t bytes) {
  return "{\"peer\":0,\"round\":" + std::to_string(round) + ",\"wall_s\":" + std::to_string(round) +
         ".5,\"loss\":" + loss +
         ",\"lr\":0.1,\"inner_steps\":1,\"payload_bytes_sent\":7,\"bytes_sent\":" +
         std::to_string(bytes) +
         ",\"bytes_received\":9,\"compute_s\":0.001,\"wait_s\":0,\"overlap_s\":0,"
         "\"max_staleness\":0,\"mean_staleness\":0}\n";
}

TEST(Progress, TakesTheNewestRoundRecordOfWhatWasAppended) {
  Folder dir;
  // More than the MiB a poll reads at most: the tracker skips to the tail.
  std::string text;
  for (int64_t r = 1; r <= 20000; ++r) text += OwnLine(r, "0.25", 2000000);
  ASSERT_GT(text.size(), size_t{1} << 21);
  // The newest complete lines are not round records: the last one that is counts.
  text += "{\"note\": \"not a round\"}\n";
  text += "not json at all\n";
  text += "{\"peer\":0,\"round\":20001,\"lo";  // partial: waits for its end
  const std::string path = dir.Write("peer_0.jsonl", text);
  ProgressTracker t(dir.path(), 1);
  t.Poll();
  EXPECT_EQ(t.reported(), 1);
  EXPECT_EQ(t.round(0), 20000);
  std::string line = t.Line("r", 30000, 0);
  EXPECT_NE(line.find("round 20000/30000"), std::string::npos) << line;
  EXPECT_NE(line.find("local loss 0.2500"), std::string::npos) << line;
  EXPECT_NE(line.find("2.00 MB/peer"), std::string::npos) << line;
  EXPECT_NE(line.find("20000.5 s"), std::string::npos) << line;
  // The partial line completes (a diverged loss, null); nothing new: nothing changes.
  std::ofstream(path, std::ios::app) << "ss\":null,\"bytes_sent\":5000000,\"wall_s\":9}\n";
  t.Poll();
  EXPECT_EQ(t.round(0), 20001);
  line = t.Line("r", 30000, 0);
  EXPECT_NE(line.find("local loss nan"), std::string::npos) << line;
  EXPECT_NE(line.find("5.00 MB/peer"), std::string::npos) << line;
  t.Poll();
  EXPECT_EQ(t.round(0), 20001);
  // The peers' own format, with null, through the fast path.
  std::ofstream(path, std::ios::app)
      << OwnLine(20002, "null", 6000000) << OwnLine(20003, "1.5", 8000000);
  t.Poll();
  EXPECT_EQ(t.round(0), 20003);
  line = t.Line("r", 30000, 0);
  EXPECT_NE(line.find("local loss 1.5000"), std::string::npos) << line;
  EXPECT_NE(line.find("8.00 MB/peer"), std::string::npos) << line;
}

TEST(Plot, IdenticalCurvesStayVisibleAndConsensusUsesALogScale) {
  const Series a{"a", {0, 1, 2, 3}, {1.0, 0.5, 0.25, 0.125}};
  Series b = a;
  b.name = "b";
  const std::string svg = LineChartSvg("t", "round", "loss", {a, b});
  EXPECT_EQ(Count(svg, "<polyline"), 2u);
  EXPECT_EQ(Count(svg, "stroke-dasharray=\"7,4\""), 2u);  // b's line and its legend entry
  EXPECT_EQ(Count(svg, "<circle"), 5u);                   // a: 4 points + legend
  EXPECT_EQ(Count(svg, "<rect x="), 5u + 1u);             // b: squares; +1 the plot frame
  const std::string log =
      LineChartSvg("c", "round", "consensus", {{"c", {0, 1, 2}, {0, 1e-2, 1e-4}}},
                   /*log_y=*/true);
  EXPECT_NE(log.find(">1e-4<"), std::string::npos) << log;
  EXPECT_NE(log.find(">1e-2<"), std::string::npos) << log;
  EXPECT_NE(log.find("consensus (log)"), std::string::npos);
  EXPECT_EQ(Count(log, "<circle"), 3u);  // the 0 at round 0 has no place on a log scale
}

RunSummary Summary(const std::string& run, double loss) {
  RunSummary r;
  r.run = run;
  r.algorithm = "dpsgd";
  r.compressor = "fp32";
  r.transport = "inproc";
  r.rounds = 4;
  r.curve = {EvalPoint{0, 0, 0, 2 * loss, 2 * loss, 0.1, 0},
             EvalPoint{4, 1.0, 2.0, loss, loss, 0.9, 0.01}};
  r.final_point = r.curve.back();
  return r;
}

TEST(Results, KeepOthersReplacesOnlyTheGivenRuns) {
  Folder dir;
  ASSERT_TRUE(WriteResults({Summary("a", 0.5), Summary("b", 0.25)}, dir.path(), false).ok());
  const std::string first = dir.Read("summary.csv");
  const size_t a_at = first.find("\na,") + 1;
  const std::string a_row = first.substr(a_at, first.find('\n', a_at) - a_at + 1);
  RunSummary c = Summary("c", 0.125);
  c.grid_values = {{"bandwidth", "10Mbit"}, {"compressor", "qsgd:4"}};
  ASSERT_TRUE(WriteResults({Summary("b", 0.3), c}, dir.path(), true).ok());
  auto table = ParseCsv(dir.Read("summary.csv"), "summary.csv");
  ASSERT_TRUE(table.ok()) << table.status().message();
  ASSERT_EQ(table->rows.size(), 3u);
  EXPECT_EQ(table->rows[0][0], "a");
  EXPECT_EQ(table->rows[1][0], "b");
  EXPECT_EQ(table->rows[1][table->Column("final_loss")], "0.3");
  EXPECT_EQ(table->rows[2][0], "c");
  EXPECT_EQ(table->rows[2][table->Column("bandwidth")], "10Mbit");
  // A grid key that is already a column with another meaning gets its own column.
  EXPECT_EQ(table->rows[2][table->Column("compressor")], "fp32");
  EXPECT_EQ(table->rows[2][table->Column("grid_compressor")], "qsgd:4");
  EXPECT_EQ(table->rows[0][table->Column("bandwidth")], "");
  // a's row is kept as it was, with empty cells for the new grid columns.
  EXPECT_NE(dir.Read("summary.csv").find("\n" + a_row.substr(0, a_row.size() - 1) + ",,\n"),
            std::string::npos)
      << dir.Read("summary.csv");
  auto curves = ParseCsv(dir.Read("curves.csv"), "curves.csv");
  ASSERT_TRUE(curves.ok());
  ASSERT_EQ(curves->rows.size(), 6u);  // two points per run, a's kept
  EXPECT_EQ(curves->rows[0][0], "a");
  EXPECT_EQ(curves->rows[0][1], "0");
  const std::string plot = dir.Read("loss_vs_rounds.svg");
  EXPECT_EQ(Count(plot, "<polyline"), 3u);
  for (const char* name : {">a<", ">b<", ">c<"}) EXPECT_NE(plot.find(name), std::string::npos);
  EXPECT_EQ(Count(dir.Read("consensus_vs_rounds.svg"), "<polyline"), 3u);
  // Without keep_others the folder holds exactly the given runs.
  ASSERT_TRUE(WriteResults({Summary("z", 1)}, dir.path(), false).ok());
  EXPECT_EQ(ParseCsv(dir.Read("summary.csv"), "s")->rows.size(), 1u);
}

// A grid run that reached (or never reached) its target loss.
RunSummary GridRun(const std::string& name,
                   const std::vector<std::pair<std::string, std::string>>& point, double seconds) {
  RunSummary r = Summary(name, 0.5);
  r.grid_values = point;
  r.target_loss = 0.6;
  r.time_to_target_s = seconds;
  r.simulated = true;
  return r;
}

// The fill colour of the heat-map cell labelled `label` (its first one).
std::string CellFill(const std::string& svg, const std::string& label) {
  const size_t text = svg.find(">" + label + "</text>");
  if (text == std::string::npos) return "";
  const size_t fill = svg.find("fill=\"", svg.rfind("<rect", text));
  return svg.substr(fill + 6, 7);
}

TEST(Results, GridTimeToTargetIsAHeatMapOverTheFirstTwoKeys) {
  Folder dir;
  std::vector<RunSummary> runs;
  double t = 1;
  for (const char* alg : {"dpsgd", "dcd"}) {
    for (const char* bw : {"1Mbit", "10Mbit"}) {
      for (const char* lat : {"1ms", "50ms"}) {
        const std::string name = std::string("sweep-") + bw + "-" + lat + "-" + alg;
        // dpsgd on 1Mbit/50ms never gets there.
        const bool never =
            std::string(alg) == "dpsgd" && std::string(bw) == "1Mbit" && std::string(lat) == "50ms";
        runs.push_back(GridRun(name, {{"bandwidth", bw}, {"latency", lat}, {"algorithm", alg}},
                               never ? std::nan("") : t));
        t *= 2;  // 1, (2: never), 4, ... 128 s
      }
    }
  }
  ASSERT_TRUE(WriteResults(runs, dir.path(), false).ok());
  const std::string svg = dir.Read("time_to_target.svg");
  ASSERT_FALSE(svg.empty());
  EXPECT_NE(svg.find("time to training loss &lt;= 0.6 (virtual seconds)"), std::string::npos);
  // Rows: bandwidth; columns: latency; a panel per algorithm, in grid order.
  const size_t dpsgd = svg.find(">algorithm dpsgd<"), dcd = svg.find(">algorithm dcd<");
  ASSERT_NE(dpsgd, std::string::npos) << svg;
  ASSERT_NE(dcd, std::string::npos);
  EXPECT_LT(dpsgd, dcd);
  EXPECT_EQ(Count(svg, ">bandwidth<"), 2u);
  EXPECT_EQ(Count(svg, ">latency<"), 2u);
  EXPECT_EQ(Count(svg, ">10Mbit<"), 2u);
  EXPECT_EQ(Count(svg, ">not reached<"), 1u);
  // One shared log scale: the fastest run is the lightest colour, the slowest the darkest.
  EXPECT_EQ(CellFill(svg, "1"), "#fde725") << svg;
  EXPECT_EQ(CellFill(svg, "128"), "#440154");
  for (const char* v : {"4", "8", "16", "32", "64"}) {
    EXPECT_NE(svg.find(std::string(">") + v + "</text>"), std::string::npos) << v;
  }

  // A run that failed or diverged says so instead of "not reached".
  runs[7].status = "diverged";
  runs[7].time_to_target_s = std::nan("");
  ASSERT_TRUE(WriteResults(runs, dir.path(), false).ok());
  const std::string with_diverged = dir.Read("time_to_target.svg");
  EXPECT_EQ(Count(with_diverged, ">diverged<"), 1u) << with_diverged;
  EXPECT_EQ(Count(with_diverged, ">not reached<"), 1u);
  EXPECT_EQ(CellFill(with_diverged, "diverged"), "#d9d9d9");

  // Two `runs:` entries multiplied by one grid share every cell: a panel per entry.
  runs = {GridRun("a-1Mbit-5ms", {{"bandwidth", "1Mbit"}, {"latency", "5ms"}}, 3),
          GridRun("b-1Mbit-5ms", {{"bandwidth", "1Mbit"}, {"latency", "5ms"}}, 7)};
  ASSERT_TRUE(WriteResults(runs, dir.path(), false).ok());
  const std::string entries = dir.Read("time_to_target.svg");
  EXPECT_NE(entries.find(">a<"), std::string::npos) << entries;
  EXPECT_NE(entries.find(">b<"), std::string::npos);
  EXPECT_NE(entries.find(">3</text>"), std::string::npos);
  EXPECT_NE(entries.find(">7</text>"), std::string::npos);

  // One run reached the target: its cell takes the middle colour and the bar says it is the only
  // value (not a gradient labelled 7 at both ends); none reached it: no bar at all.
  runs[0].time_to_target_s = std::nan("");
  ASSERT_TRUE(WriteResults(runs, dir.path(), false).ok());
  const std::string one = dir.Read("time_to_target.svg");
  EXPECT_EQ(Count(one, ">7</text>"), 1u) << one;
  EXPECT_NE(one.find(">7 (the only value)</text>"), std::string::npos) << one;
  EXPECT_EQ(one.find("linearGradient"), std::string::npos);
  runs[1].time_to_target_s = std::nan("");
  ASSERT_TRUE(WriteResults(runs, dir.path(), false).ok());
  const std::string none = dir.Read("time_to_target.svg");
  EXPECT_EQ(Count(none, ">not reached<"), 2u) << none;
  EXPECT_EQ(none.find("linearGradient"), std::string::npos);
  EXPECT_EQ(none.find("only value"), std::string::npos);

  // No target loss (or no grid): no heat map, and an earlier one is removed.
  runs[0].target_loss = runs[1].target_loss = std::nan("");
  ASSERT_TRUE(WriteResults(runs, dir.path(), false).ok());
  EXPECT_FALSE(fs::exists(dir.path() + "/time_to_target.svg"));
}

constexpr const char* kTopology =
    "nodes: 4\nbase_port: 17400\ngenerator: {kind: ring}\n"
    "links:\n  default: {bandwidth: 1Gbit, latency: 0ms}\n";

std::string TinyExperiment(const std::string& extra) {
  return "topology: topo.yaml\nmodel: softmax\n"
         "data: {kind: synthetic, samples: 400, features: 6, classes: 3, seed: 3}\n"
         "rounds: 6\nbatch_size: 8\nlr: 0.2\nseed: 5\neval_every: 3\nemulate: false\n"
         "transport: inproc\n" +
         extra;
}

// The peers' metrics lines: hearsay's own lines take a fast path; what is not one of them (a
// torn line where a restarted peer appended after a kill, another key order, nulls, a partial
// last line) reads as the JSON parser reads it, or is skipped.
TEST(Evaluate, ReadPeerMetricsReadsOwnLinesAndToleratesOthers) {
  Folder dir;
  const std::string own1 =
      R"({"peer":2,"round":1,"wall_s":0.5,"loss":0.7,"lr":0.1,"inner_steps":1,)"
      R"("payload_bytes_sent":88,"bytes_sent":172,"bytes_received":258,"compute_s":1e-05,)"
      R"("wait_s":0.004,"overlap_s":0,"staleness":{"1":0,"3":2},"max_staleness":2,)"
      R"("mean_staleness":1.5})";
  const std::string nulls =
      R"({"peer":2,"round":2,"wall_s":null,"loss":null,"lr":0.1,"inner_steps":1,)"
      R"("payload_bytes_sent":88,"bytes_sent":344,"bytes_received":516,"compute_s":0,)"
      R"("wait_s":0,"overlap_s":0,"max_staleness":0,"mean_staleness":0})";
  const std::string torn =
      R"({"peer":2,"round":3,"wall_s":9.0,"lo{"peer":2,"round":4,"wall_s":1.25,"loss":0.5,)"
      R"("bytes_sent":400,"max_staleness":0,"mean_staleness":0})";
  const std::string reordered = R"( {"bytes_sent": 500, "round": 5, "wall_s": 2.5})";
  const std::string not_integer = R"({"peer":2,"round":6.0,"wall_s":3,"bytes_sent":1,)"
                                  R"("max_staleness":0,"mean_staleness":0})";
  const std::string partial = R"({"peer":2,"round":7,"wall_s":3.5,"bytes_se)";
  dir.Write("peer_2.jsonl", own1 + "\n" + nulls + "\r\n" + torn + "\n" + reordered + "\n" +
                                not_integer + "\n" + partial);
  const auto m = ReadPeerMetrics(dir.path(), 2);
  ASSERT_EQ(m.size(), 3u);
  ASSERT_TRUE(m.count(1) && m.count(2) && m.count(5));
  EXPECT_EQ(m.at(1).wall_s, 0.5);
  EXPECT_EQ(m.at(1).bytes_sent, 172);  // not payload_bytes_sent
  EXPECT_EQ(m.at(1).max_staleness, 2);
  EXPECT_EQ(m.at(1).mean_staleness, 1.5);
  EXPECT_EQ(m.at(2).wall_s, 0);  // null reads as 0
  EXPECT_EQ(m.at(2).bytes_sent, 344);
  EXPECT_EQ(m.at(5).wall_s, 2.5);
  EXPECT_EQ(m.at(5).bytes_sent, 500);
}

// The file is read in blocks of 256 KiB: lines cut by a block's end, a line longer than a block
// and a last line without its newline all read whole.
TEST(Evaluate, ReadPeerMetricsReadsLinesAcrossBlocks) {
  Folder dir;
  std::string text;
  const auto line = [](int64_t round, size_t pad) {
    return R"({"peer":0,"round":)" + std::to_string(round) + R"(,"wall_s":)" +
           std::to_string(round) + R"(.25,"loss":0.5,"bytes_sent":)" + std::to_string(10 * round) +
           R"(,"max_staleness":0,"mean_staleness":0,"pad":")" + std::string(pad, 'x') + R"("})";
  };
  for (int64_t r = 1; r <= 3000; ++r) {
    // Round 1234's line is longer than a block; the others vary so that block ends fall anywhere.
    text += line(r, r == 1234 ? 300000 : static_cast<size_t>(r % 97)) + "\n";
  }
  text += line(3001, 5);  // no newline
  dir.Write("peer_0.jsonl", text);
  const auto m = ReadPeerMetrics(dir.path(), 0);
  ASSERT_EQ(m.size(), 3001u);
  for (int64_t r = 1; r <= 3001; ++r) {
    ASSERT_TRUE(m.count(r)) << r;
    EXPECT_EQ(m.at(r).wall_s, static_cast<double>(r) + 0.25) << r;
    EXPECT_EQ(m.at(r).bytes_sent, 10.0 * static_cast<double>(r)) << r;
  }
}

TEST(Evaluate, RoundZeroIsTheSharedInitialModel) {
  Folder dir;
  dir.Write("topo.yaml", kTopology);
  auto exp = LoadExperiment(dir.Write("exp.yaml", TinyExperiment("")));
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  LaunchOptions o;
  o.experiment_path = dir.path() + "/exp.yaml";
  o.out_dir = dir.path() + "/out";
  auto result = Launch(o);
  ASSERT_TRUE(result.ok()) << result.status().message();
  const RunSummary& r = result->front();
  ASSERT_EQ(r.curve.size(), 3u);  // rounds 0, 3, 6
  EXPECT_EQ(r.curve[0].round, 0);
  EXPECT_EQ(r.curve[0].consensus, 0);
  EXPECT_EQ(r.curve[0].wall_s, 0);
  auto w = BuildWorkload(exp->runs.front(), 4);
  ASSERT_TRUE(w.ok());
  const EvalPoint x0 = EvaluateInitialModel(*w, 5);
  EXPECT_EQ(r.curve[0].train_loss, x0.train_loss);
  EXPECT_NEAR(x0.train_loss, std::log(3.0), 0.2);  // an untrained 3-class model
  EXPECT_LT(r.final_point.train_loss, x0.train_loss);
  EXPECT_GT(r.curve[1].consensus, 0);
  // eval.jsonl has the same points, round 0 first.
  std::ifstream eval(o.out_dir + "/dpsgd/eval.jsonl");
  std::string first;
  std::getline(eval, first);
  EXPECT_EQ(first.rfind("{\"accuracy\":", 0), 0u) << first;
  EXPECT_NE(first.find("\"round\":0"), std::string::npos) << first;
  // A run bounded by time is evaluated up to the last round every peer completed.
  std::vector<std::map<int64_t, RoundMetrics>> metrics;
  for (int i = 0; i < 4; ++i) metrics.push_back(ReadPeerMetrics(o.out_dir + "/dpsgd", i));
  EXPECT_EQ(metrics[3].size(), 6u);
  EXPECT_GT(metrics[3].at(6).bytes_sent, 0);
  auto unlimited = EvaluateRun(*w, o.out_dir + "/dpsgd", 4, 5, kUnlimitedRounds, 3);
  ASSERT_TRUE(unlimited.ok()) << unlimited.status().message();
  ASSERT_EQ(unlimited->size(), 3u);  // rounds 0, 3 and the final models
  EXPECT_EQ(unlimited->back().round, 6);
  EXPECT_EQ(unlimited->back().train_loss, r.final_point.train_loss);  // finals = round 6 here
  EXPECT_EQ(unlimited->back().consensus, r.final_point.consensus);
  EXPECT_EQ(unlimited->back().wall_s, r.final_point.wall_s);
}

TEST(Launch, RunXIntoAnExistingFolderKeepsTheOtherRuns) {
  Folder dir;
  dir.Write("topo.yaml", kTopology);
  const std::string exp = dir.Write(
      "exp.yaml", TinyExperiment("runs:\n  - {name: a}\n"
                                 "  - {name: b, algorithm: choco, compressor: \"then(randk:0.5, "
                                 "natural)\"}\n"));
  LaunchOptions o;
  o.experiment_path = exp;
  o.out_dir = dir.path() + "/out";
  ASSERT_TRUE(Launch(o).ok());
  std::ifstream s0(o.out_dir + "/summary.csv");
  std::string header, row_a, row_b;
  std::getline(s0, header);
  std::getline(s0, row_a);
  std::getline(s0, row_b);
  EXPECT_NE(row_b.find("\"then(randk:0.5, natural)\""), std::string::npos) << row_b;
  o.runs = {"b"};
  o.transport = TransportKind::kInproc;
  auto again = Launch(o);
  ASSERT_TRUE(again.ok()) << again.status().message();
  ASSERT_EQ(again->size(), 1u);
  std::ifstream s1(o.out_dir + "/summary.csv");
  std::string header1, row_a1, row_b1, extra;
  std::getline(s1, header1);
  std::getline(s1, row_a1);
  std::getline(s1, row_b1);
  EXPECT_EQ(header1, header);
  EXPECT_EQ(row_a1, row_a) << "run a's row must be kept as it was";
  EXPECT_EQ(row_b1.rfind("b,choco,", 0), 0u) << row_b1;
  EXPECT_FALSE(std::getline(s1, extra)) << extra;
  std::ifstream plot(o.out_dir + "/loss_vs_time.svg");
  const std::string svg((std::istreambuf_iterator<char>(plot)), std::istreambuf_iterator<char>());
  EXPECT_EQ(Count(svg, "<polyline"), 2u);
  EXPECT_NE(svg.find(">a<"), std::string::npos);
  // Both folders say what produced them.
  std::ifstream cfg(o.out_dir + "/b/config.yaml");
  const std::string c((std::istreambuf_iterator<char>(cfg)), std::istreambuf_iterator<char>());
  EXPECT_NE(c.find("name: b"), std::string::npos) << c;
  EXPECT_EQ(c.find("name: a\n"), std::string::npos) << c;
  EXPECT_TRUE(fs::exists(o.out_dir + "/config.yaml"));
}

TEST(Launch, DryRunPrintsTheResolvedConfigAndStartsNothing) {
  Folder dir;
  dir.Write("topo.yaml", kTopology);
  LaunchOptions o;
  o.experiment_path = dir.Write(
      "exp.yaml", TinyExperiment("grid:\n  bandwidth: [1Mbit, 10Mbit]\n  lr: [0.1, 0.3]\n"));
  o.out_dir = dir.path() + "/out";
  o.dry_run = true;
  std::ostringstream printed;
  o.progress = &printed;
  auto result = Launch(o);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->empty());
  EXPECT_FALSE(fs::exists(o.out_dir)) << "a dry run writes nothing";
  const std::string text = printed.str();
  EXPECT_NE(text.find("commit:"), std::string::npos) << text;
  EXPECT_NE(text.find("# runs (4), transport inproc"), std::string::npos) << text;
  EXPECT_NE(text.find("#   dpsgd-10Mbit-0.3: dpsgd/fp32, 4 peers, 6 rounds, sync"),
            std::string::npos)
      << text;
  EXPECT_EQ(Count(text, "\n  - name: "), 4u) << text;
}

// A tiny sweep (no `transport:`: the simulator); `extra` gives eval_every and the grid.
std::string TinyGrid(const std::string& extra) {
  return "topology: topo.yaml\nmodel: softmax\n"
         "data: {kind: synthetic, samples: 400, features: 6, classes: 3, seed: 3}\n"
         "rounds: 6\nbatch_size: 8\nseed: 5\ncompute_time: 1ms\n" +
         extra;
}

// A grid runs in the simulator unless the file or the command line says otherwise; its
// outputs have the same shape as a real run's, round 0 included, one column per grid key.
TEST(Launch, GridRunsInTheSimulatorByDefault) {
  Folder dir;
  dir.Write("topo.yaml", kTopology);
  LaunchOptions o;
  o.experiment_path = dir.Write("exp.yaml", TinyGrid("eval_every: 3\ngrid:\n  lr: [0.1, 0.3]\n"));
  o.out_dir = dir.path() + "/out";
  auto result = Launch(o);
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->size(), 2u);
  for (const RunSummary& r : *result) {
    EXPECT_EQ(r.transport, "sim");
    ASSERT_EQ(r.curve.size(), 3u) << r.run;  // rounds 0, 3, 6
    EXPECT_EQ(r.curve[0].round, 0);
    EXPECT_EQ(r.rounds, 6);
    EXPECT_LT(r.final_point.train_loss, r.curve[0].train_loss);
  }
  auto table = ParseCsv(dir.Read("out/summary.csv"), "summary.csv");
  ASSERT_TRUE(table.ok());
  ASSERT_NE(table->Column("lr"), -1);
  EXPECT_EQ(table->rows[1][table->Column("lr")], "0.3");
  EXPECT_EQ(table->rows[1][0], "dpsgd-0.3");
}

// The simulator runs peers on the CPU: a GPU run is refused before any run starts, naming the
// run (not with a GPU probe's error, nor after the runs before it ran).
TEST(Launch, SimulatedGpuRunIsRefusedBeforeAnythingRuns) {
  Folder dir;
  dir.Write("topo.yaml", kTopology);
  LaunchOptions o;
  o.experiment_path =
      dir.Write("exp.yaml", TinyGrid("runs:\n  - {name: a}\n  - {name: b, device: \"cuda:1\"}\n"
                                     "grid:\n  lr: [0.1]\n"));
  o.out_dir = dir.path() + "/out";
  auto result = Launch(o);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("run 'b-0.1': device cuda:1: the simulator runs every "
                                           "peer on the CPU"),
            std::string::npos)
      << result.status().message();
  EXPECT_FALSE(fs::exists(dir.path() + "/out/a-0.1")) << "nothing ran";
}

// `hearsay report` on a simulated sweep: the simulator wrote its curves, not snapshots, so the
// report takes them as they are and rebuilds the same summary and heat map.
TEST(Report, RebuildsASimulatedGridFromItsCurves) {
  Folder dir;
  dir.Write("topo.yaml", kTopology);
  LaunchOptions o;
  o.experiment_path =
      dir.Write("exp.yaml", TinyGrid("eval_every: 2\ntarget_loss: 1.05\n"
                                     "grid:\n  lr: [0.05, 0.3]\n  latency: [1ms, 30ms]\n"));
  o.out_dir = dir.path() + "/out";
  auto launched = Launch(o);
  ASSERT_TRUE(launched.ok()) << launched.status().message();
  const std::string summary = dir.Read("out/summary.csv");
  const std::string heat = dir.Read("out/time_to_target.svg");
  ASSERT_NE(heat.find(">latency<"), std::string::npos) << heat;
  for (const char* f : {"summary.csv", "curves.csv", "time_to_target.svg"}) {
    fs::remove(dir.path() + "/out/" + f);
  }
  ReportOptions r;
  r.dir = o.out_dir;
  auto report = BuildReport(r);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->size(), 4u);
  for (const RunSummary& s : *report) {
    EXPECT_TRUE(s.simulated) << s.run;
    EXPECT_EQ(s.transport, "sim");
  }
  EXPECT_EQ(dir.Read("out/summary.csv"), summary);
  EXPECT_EQ(dir.Read("out/time_to_target.svg"), heat);
  // A damaged curve is an error naming the file and line, not a silent re-evaluation.
  const std::string eval = o.out_dir + "/" + (*report)[0].run + "/eval.jsonl";
  std::ofstream(eval, std::ios::app) << "{\"round\": 8, \"wall\n";
  auto broken = BuildReport(r);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("eval.jsonl:5: not a point of an evaluation curve"),
            std::string::npos)
      << broken.status().message();
}

}  // namespace
}  // namespace hearsay
