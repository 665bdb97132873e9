#include "runtime/launch/results.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <tuple>

#include "runtime/launch/csv.h"
#include "runtime/launch/plot.h"
#include "runtime/peer/experiment.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

using Row = std::map<std::string, std::string>;

const std::vector<std::string> kSummaryColumns = {"run",
                                                  "algorithm",
                                                  "compressor",
                                                  "rounds",
                                                  "final_loss",
                                                  "test_loss",
                                                  "accuracy",
                                                  "consensus_distance",
                                                  "mb_sent_per_peer",
                                                  "wall_seconds",
                                                  "transport",
                                                  "peers_alive",
                                                  "simulated",
                                                  "max_staleness",
                                                  "mean_staleness",
                                                  "status",
                                                  "diverged_round",
                                                  "reason",
                                                  "target_loss",
                                                  "time_to_target",
                                                  "rounds_to_target",
                                                  "mb_to_target",
                                                  "goodput",
                                                  "mean_rejoin_s"};
const std::vector<std::string> kCurveColumns = {
    "run",        "round",     "wall_seconds", "mb_sent_per_peer",
    "train_loss", "test_loss", "accuracy",     "consensus_distance"};

// The summary column of a grid key: the key itself, or `grid_<key>` where the key is already a
// column of its own with another meaning (`compressor` is "fp32" for dpsgd whatever the grid).
std::string GridColumn(const std::string& key) {
  const bool taken =
      std::find(kSummaryColumns.begin(), kSummaryColumns.end(), key) != kSummaryColumns.end();
  return taken ? "grid_" + key : key;
}

std::string Printf(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

Row SummaryRow(const RunSummary& r) {
  const EvalPoint& f = r.final_point;
  Row row = {
      {"run", r.run},
      {"algorithm", r.algorithm},
      {"compressor", r.compressor},
      {"rounds", std::to_string(r.rounds)},
      {"final_loss", Printf("%.9g", f.train_loss)},
      {"test_loss", Printf("%.9g", f.test_loss)},
      {"accuracy", Printf("%.6f", f.accuracy)},
      {"consensus_distance", Printf("%.6g", f.consensus)},
      {"mb_sent_per_peer", Printf("%.6f", f.mb_sent_per_peer)},
      {"wall_seconds", Printf("%.3f", f.wall_s)},
      {"transport", r.transport},
      {"peers_alive", std::to_string(r.peers_alive)},
      {"simulated", r.simulated ? "true" : "false"},
      {"max_staleness", std::to_string(r.max_staleness)},
      {"mean_staleness", Printf("%.4g", r.mean_staleness)},
      {"status", r.status},
      {"diverged_round", r.diverged_round >= 0 ? std::to_string(r.diverged_round) : ""},
      {"reason", r.reason},
      {"target_loss", std::isnan(r.target_loss) ? "" : Printf("%.9g", r.target_loss)},
      {"time_to_target", std::isnan(r.time_to_target_s) ? "" : Printf("%.3f", r.time_to_target_s)},
      {"rounds_to_target", r.rounds_to_target >= 0 ? std::to_string(r.rounds_to_target) : ""},
      {"mb_to_target", std::isnan(r.mb_to_target) ? "" : Printf("%.6f", r.mb_to_target)},
      {"goodput", Printf("%.4f", r.goodput)},
      {"mean_rejoin_s", std::isnan(r.mean_rejoin_s) ? "" : Printf("%.3f", r.mean_rejoin_s)}};
  for (const auto& [key, value] : r.grid_values) row[GridColumn(key)] = value;
  return row;
}

Row CurveRow(const std::string& run, const EvalPoint& p) {
  return {{"run", run},
          {"round", std::to_string(p.round)},
          {"wall_seconds", Printf("%.3f", p.wall_s)},
          {"mb_sent_per_peer", Printf("%.6f", p.mb_sent_per_peer)},
          {"train_loss", Printf("%.9g", p.train_loss)},
          {"test_loss", Printf("%.9g", p.test_loss)},
          {"accuracy", Printf("%.6f", p.accuracy)},
          {"consensus_distance", Printf("%.6g", p.consensus)}};
}

// The rows of an existing CSV file as column -> value maps (none when the file is absent).
Status ReadRows(const std::string& path, std::vector<std::string>* columns,
                std::vector<Row>* rows) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::Ok();
  std::ostringstream text;
  text << f.rdbuf();
  auto table = ParseCsv(text.str(), path);
  if (!table.ok()) {
    return table.status().WithPrefix(
        "cannot keep the other runs' results (write to another "
        "--out folder)");
  }
  *columns = table->header;
  for (const auto& cells : table->rows) {
    Row row;
    for (size_t c = 0; c < cells.size(); ++c) row[table->header[c]] = cells[c];
    rows->push_back(std::move(row));
  }
  return Status::Ok();
}

Status WriteTable(const std::string& path, const std::vector<std::string>& columns,
                  const std::vector<Row>& rows) {
  std::ofstream f(path, std::ios::trunc | std::ios::binary);
  f << CsvRow(columns);
  for (const Row& row : rows) {
    std::vector<std::string> cells;
    for (const std::string& c : columns) {
      auto it = row.find(c);
      cells.push_back(it == row.end() ? std::string() : it->second);
    }
    f << CsvRow(cells);
  }
  if (!f) return Unavailable(path + ": cannot write");
  return Status::Ok();
}

// Appends the columns of `extra` that `columns` lacks (grid keys of earlier launches).
void MergeColumns(std::vector<std::string>* columns, const std::vector<std::string>& extra) {
  for (const std::string& c : extra) {
    if (std::find(columns->begin(), columns->end(), c) == columns->end()) columns->push_back(c);
  }
}

double ToDouble(const Row& row, const std::string& key) {
  auto it = row.find(key);
  return it == row.end() ? 0.0 : std::strtod(it->second.c_str(), nullptr);
}

// A kept run's curve, re-read from curves.csv for the plots.
RunSummary CurveOf(const std::string& run, const std::vector<Row>& curve_rows) {
  RunSummary s;
  s.run = run;
  for (const Row& row : curve_rows) {
    if (row.at("run") != run) continue;
    EvalPoint p;
    p.round = static_cast<int64_t>(ToDouble(row, "round"));
    p.wall_s = ToDouble(row, "wall_seconds");
    p.mb_sent_per_peer = ToDouble(row, "mb_sent_per_peer");
    p.train_loss = ToDouble(row, "train_loss");
    p.test_loss = ToDouble(row, "test_loss");
    p.accuracy = ToDouble(row, "accuracy");
    p.consensus = ToDouble(row, "consensus_distance");
    s.curve.push_back(p);
  }
  if (!s.curve.empty()) s.final_point = s.curve.back();
  return s;
}

// A grid run's name without the grid values' suffixes (ExpandGrid names runs "<entry>-<v1>-...";
// the values of algorithm and compressor are not appended to unnamed entries, which carry them
// in their default name): what tells two `runs:` entries of one grid apart.
std::string GridEntryName(std::string name, const std::vector<std::string>& values) {
  for (auto v = values.rbegin(); v != values.rend(); ++v) {
    const std::string part = "-" + RunNamePart(*v);
    if (name.size() > part.size() &&
        name.compare(name.size() - part.size(), part.size(), part) == 0) {
      name.resize(name.size() - part.size());
    }
  }
  return name;
}

// time_to_target.svg (docs/experiment_format.md "Grid"): the time each grid run took to reach its
// target loss, as a heat map over the first two grid keys (rows, columns); each combination of
// the other keys' values is a panel, and so is each `runs:` entry when the grid multiplies more
// than one. From the summary rows, so runs kept from earlier launches count. No grid or no
// target: no file (an old one is removed).
Status WriteTargetMap(const std::vector<Row>& summary, const std::vector<std::string>& keys,
                      const std::string& out_dir) {
  const std::string path = out_dir + "/time_to_target.svg";
  auto value = [](const Row& row, const std::string& column) {
    auto it = row.find(column);
    return it == row.end() ? std::string() : it->second;
  };
  std::vector<const Row*> runs;
  std::set<std::string> targets;
  bool simulated = true;
  for (const Row& row : summary) {
    if (keys.empty() || value(row, "target_loss").empty()) continue;
    bool complete = true;
    for (const std::string& k : keys) complete = complete && !value(row, GridColumn(k)).empty();
    if (!complete) continue;
    runs.push_back(&row);
    targets.insert(value(row, "target_loss"));
    simulated = simulated && value(row, "simulated") == "true";
  }
  if (runs.empty()) {
    std::error_code ec;
    fs::remove(path, ec);
    return Status::Ok();
  }
  HeatMap map;
  map.row_key = keys[0];
  map.column_key = keys.size() > 1 ? keys[1] : "";
  map.title = (targets.size() == 1 ? "time to training loss <= " + *targets.begin()
                                   : std::string("time to each run's target_loss")) +
              (simulated ? " (virtual seconds)" : " (seconds)");
  auto add_unique = [](std::vector<std::string>* list, const std::string& v) {
    if (std::find(list->begin(), list->end(), v) == list->end()) list->push_back(v);
  };
  // Panels: the other keys' values (keys with one value name no panel); split by `runs:` entry
  // where two runs share a cell.
  std::vector<std::set<std::string>> distinct(keys.size());
  for (const Row* row : runs) {
    for (size_t k = 0; k < keys.size(); ++k) distinct[k].insert(value(*row, GridColumn(keys[k])));
  }
  auto panel_of = [&](const Row& row, bool by_entry) {
    std::string title;
    if (by_entry) {
      std::vector<std::string> values;
      for (const std::string& k : keys) values.push_back(value(row, GridColumn(k)));
      title = GridEntryName(value(row, "run"), values);
    }
    for (size_t k = 2; k < keys.size(); ++k) {
      if (distinct[k].size() < 2) continue;
      title += (title.empty() ? "" : ", ") + keys[k] + " " + value(row, GridColumn(keys[k]));
    }
    return title;
  };
  bool by_entry = false;
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const Row* row : runs) {
    const std::string col = keys.size() > 1 ? value(*row, GridColumn(keys[1])) : "";
    by_entry = by_entry ||
               !seen.insert({panel_of(*row, false), value(*row, GridColumn(keys[0])), col}).second;
  }
  for (const Row* row : runs) {
    const std::string r = value(*row, GridColumn(keys[0]));
    const std::string c = keys.size() > 1 ? value(*row, GridColumn(keys[1])) : "";
    add_unique(&map.rows, r);
    add_unique(&map.columns, c);
    const std::string title = panel_of(*row, by_entry);
    auto panel = std::find_if(map.panels.begin(), map.panels.end(),
                              [&](const HeatMap::Panel& p) { return p.title == title; });
    if (panel == map.panels.end()) {
      map.panels.push_back({title, {}, {}});
      panel = map.panels.end() - 1;
    }
    const std::string t = value(*row, "time_to_target");
    panel->values[{r, c}] = t.empty() ? std::nan("") : std::strtod(t.c_str(), nullptr);
    // A run that diverged or failed says so rather than "not reached".
    const std::string status = value(*row, "status");
    if (t.empty() && !status.empty() && status != "ok") panel->notes[{r, c}] = status;
  }
  std::ofstream f(path, std::ios::trunc);
  f << HeatMapSvg(map);
  if (!f) return Unavailable(path + ": cannot write");
  return Status::Ok();
}

std::string Fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

}  // namespace

int64_t DivergedRound(const Status& s) {
  if (s.code() != StatusCode::kAborted) return -1;
  static constexpr std::string_view kMark = " diverged at round ";
  const std::string& m = s.message();
  const size_t at = m.find(kMark);
  if (at == std::string::npos) return -1;
  int64_t round = -1;
  const char* begin = m.data() + at + kMark.size();
  const auto [end, ec] = std::from_chars(begin, m.data() + m.size(), round);
  return ec == std::errc() && end != begin ? round : -1;
}

Status WriteResults(const std::vector<RunSummary>& runs, const std::string& out_dir,
                    bool keep_others) {
  std::vector<std::string> summary_columns = kSummaryColumns, old_summary_columns, old_curve_cols;
  std::vector<Row> old_summary, old_curves;
  if (keep_others) {
    HEARSAY_RETURN_IF_ERROR(ReadRows(out_dir + "/summary.csv", &old_summary_columns, &old_summary));
    HEARSAY_RETURN_IF_ERROR(ReadRows(out_dir + "/curves.csv", &old_curve_cols, &old_curves));
  }
  std::set<std::string> fresh;
  for (const RunSummary& r : runs) fresh.insert(r.run);
  // Rows in the old order, this launch's runs replacing theirs; new runs at the end.
  std::vector<Row> summary;
  std::vector<std::string> order;  // run names, for the curves and plots
  std::set<std::string> placed;
  auto add_fresh = [&](const RunSummary& r) {
    summary.push_back(SummaryRow(r));
    order.push_back(r.run);
    placed.insert(r.run);
    for (const auto& [key, value] : r.grid_values) {
      MergeColumns(&summary_columns, {GridColumn(key)});
    }
  };
  for (const Row& row : old_summary) {
    auto name = row.find("run");
    if (name == row.end()) continue;
    if (fresh.count(name->second)) {
      for (const RunSummary& r : runs) {
        if (r.run == name->second && !placed.count(r.run)) add_fresh(r);
      }
    } else if (!placed.count(name->second)) {
      summary.push_back(row);
      order.push_back(name->second);
      placed.insert(name->second);
    }
  }
  MergeColumns(&summary_columns, old_summary_columns);
  for (const RunSummary& r : runs) {
    if (!placed.count(r.run)) add_fresh(r);
  }
  std::vector<Row> curves;
  std::vector<RunSummary> plotted;
  for (const std::string& run : order) {
    if (fresh.count(run)) {
      for (const RunSummary& r : runs) {
        if (r.run != run) continue;
        for (const EvalPoint& p : r.curve) curves.push_back(CurveRow(r.run, p));
        plotted.push_back(r);
      }
    } else {
      for (const Row& row : old_curves) {
        if (row.count("run") && row.at("run") == run) curves.push_back(row);
      }
      plotted.push_back(CurveOf(run, old_curves));
    }
  }
  HEARSAY_RETURN_IF_ERROR(WriteTable(out_dir + "/summary.csv", summary_columns, summary));
  HEARSAY_RETURN_IF_ERROR(WriteTable(out_dir + "/curves.csv", kCurveColumns, curves));
  std::vector<std::string> grid_keys;
  for (const RunSummary& r : runs) {
    if (r.grid_values.empty()) continue;
    for (const auto& [key, value] : r.grid_values) grid_keys.push_back(key);
    break;
  }
  HEARSAY_RETURN_IF_ERROR(WriteTargetMap(summary, grid_keys, out_dir));
  return WritePlots(plotted, out_dir);
}

void PrintSummaryTable(const std::vector<RunSummary>& runs, std::ostream& os) {
  const std::vector<std::string> head = {"run",      "algorithm", "compressor", "rounds", "loss",
                                         "test acc", "consensus", "MB/peer",    "wall s", "status"};
  std::vector<std::vector<std::string>> rows;
  for (const RunSummary& r : runs) {
    const EvalPoint& f = r.final_point;
    std::ostringstream cons;
    cons << std::scientific << std::setprecision(2) << f.consensus;
    rows.push_back({r.run, r.algorithm, r.compressor, std::to_string(r.rounds),
                    Fixed(f.train_loss, 4), Fixed(100 * f.accuracy, 1) + "%", cons.str(),
                    Fixed(f.mb_sent_per_peer, 2), Fixed(f.wall_s, 1),
                    r.status == "diverged" ? "diverged at round " + std::to_string(r.diverged_round)
                                           : r.status});
  }
  std::vector<size_t> w(head.size());
  for (size_t k = 0; k < head.size(); ++k) {
    w[k] = head[k].size();
    for (const auto& row : rows) w[k] = std::max(w[k], row[k].size());
  }
  auto print = [&](const std::vector<std::string>& cells) {
    for (size_t k = 0; k < cells.size(); ++k) {
      os << (k ? "  " : "") << (k < 3 || k == 9 ? std::left : std::right) << std::setw(w[k])
         << cells[k];
    }
    os << std::right << '\n';
  };
  print(head);
  size_t total = 0;
  for (size_t x : w) total += x + 2;
  os << std::string(total - 2, '-') << '\n';
  for (const auto& row : rows) print(row);
}

}  // namespace hearsay
