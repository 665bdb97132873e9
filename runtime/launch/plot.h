// SVG line charts of an experiment's curves, so results can be read without a plotting stack.
//
// WritePlots writes four charts into out_dir, one line per run, starting at round 0: the average
// model's training loss against rounds (loss_vs_rounds.svg), against wall time
// (loss_vs_time.svg) and against megabytes sent per peer (loss_vs_mb.svg), and the consensus
// distance against rounds on a log scale (consensus_vs_rounds.svg). Each run has its own colour,
// dash pattern and marker shape, with markers staggered between runs, so runs whose curves
// coincide stay visible. The same numbers are in curves.csv.
// Thread-safety: free functions; no shared state.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "runtime/launch/results.h"

namespace hearsay {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

// One self-contained SVG document: axes with ticks, one polyline per series (with markers), a
// legend. Non-finite points are skipped; with log_y, so are points <= 0.
std::string LineChartSvg(const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::vector<Series>& series,
                         bool log_y = false);

Status WritePlots(const std::vector<RunSummary>& runs, const std::string& out_dir);

// A heat map of one value over two keys (rows x columns), in one or more panels that share a
// colour scale (a grid's time to its target loss: runs/ time_to_target.svg). Cells hold a value,
// NaN (shown as `nan_text`, grey) or nothing (a dash).
struct HeatMap {
  std::string title, row_key, column_key;
  std::string nan_text = "not reached";
  std::vector<std::string> rows, columns;  // in display order (top to bottom, left to right)
  struct Panel {
    std::string title;                                             // "" for a single panel
    std::map<std::pair<std::string, std::string>, double> values;  // (row, column) -> value
    // A cell's text in place of nan_text where its value is NaN (e.g. "diverged", "failed").
    std::map<std::pair<std::string, std::string>, std::string> notes;
  };
  std::vector<Panel> panels;
  bool log_scale = true;  // colours on log10(value) (positive values)
};
// One self-contained SVG document: the panels side by side (three per line), each cell coloured
// by its value (small = light, large = dark) and labelled with it, and a colour bar.
std::string HeatMapSvg(const HeatMap& map);

}  // namespace hearsay
