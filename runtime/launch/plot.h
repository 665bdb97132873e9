// SVG line charts of an experiment's curves, so results can be read without a plotting stack.
//
// WritePlots writes three charts into out_dir, one line per run: the average model's training
// loss against rounds (loss_vs_rounds.svg), against wall time (loss_vs_time.svg) and against
// megabytes sent per peer (loss_vs_mb.svg). The same numbers are in curves.csv.
// Thread-safety: free functions; no shared state.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/launch/evaluate.h"

namespace hearsay {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

// One self-contained SVG document: axes with ticks, one polyline per series, a legend.
std::string LineChartSvg(const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::vector<Series>& series);

Status WritePlots(const std::vector<RunSummary>& runs, const std::string& out_dir);

}  // namespace hearsay
