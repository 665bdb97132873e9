#include "runtime/launch/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

namespace hearsay {
namespace {

constexpr double kWidth = 720, kHeight = 440;
constexpr double kLeft = 70, kRight = 190, kTop = 40, kBottom = 55;
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// "Nice" tick step (1, 2 or 5 times a power of ten) for about `count` ticks over `span`.
double TickStep(double span, int count) {
  const double raw = span / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '&') {
      out += "&amp;";
    } else {
      out += c;
    }
  }
  return out;
}

constexpr int kMarkersPerSeries = 10;
// Dash patterns and marker shapes cycle at other periods than the colours, so two runs differ in
// at least two of colour, dashes and marker.
const char* const kDashes[] = {"", "7,4", "2,3", "10,3,2,3"};
constexpr int kShapes = 6;

// One marker centred at (x, y): circle, square, triangle, diamond, inverted triangle, cross.
void Marker(std::ostringstream& o, int shape, double x, double y, const char* color) {
  const double r = 4;
  switch (shape % kShapes) {
    case 0:
      o << "<circle cx=\"" << x << "\" cy=\"" << y << "\" r=\"" << r << "\"";
      break;
    case 1:
      o << "<rect x=\"" << x - r << "\" y=\"" << y - r << "\" width=\"" << 2 * r << "\" height=\""
        << 2 * r << "\"";
      break;
    case 2:
      o << "<polygon points=\"" << x << ',' << y - r << ' ' << x - r << ',' << y + r << ' ' << x + r
        << ',' << y + r << "\"";
      break;
    case 3:
      o << "<polygon points=\"" << x << ',' << y - r << ' ' << x + r << ',' << y << ' ' << x << ','
        << y + r << ' ' << x - r << ',' << y << "\"";
      break;
    case 4:
      o << "<polygon points=\"" << x << ',' << y + r << ' ' << x - r << ',' << y - r << ' ' << x + r
        << ',' << y - r << "\"";
      break;
    default:
      o << "<path d=\"M" << x - r << ',' << y - r << " L" << x + r << ',' << y + r << " M" << x - r
        << ',' << y + r << " L" << x + r << ',' << y - r << "\" stroke-width=\"2\"";
      break;
  }
  o << " fill=\"white\" stroke=\"" << color << "\"/>\n";
}

}  // namespace

std::string LineChartSvg(const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::vector<Series>& input, bool log_y) {
  // Log scale: plot log10(y) and label the ticks with powers of ten.
  std::vector<Series> series = input;
  if (log_y) {
    for (Series& s : series) {
      for (double& y : s.y) y = y > 0 ? std::log10(y) : std::nan("");
    }
  }
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Series& s : series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-12) x1 = x0 + 1;
  if (y1 - y0 < 1e-12) y1 = y0 + 1;
  const double xs = TickStep(x1 - x0, 6),
               ys = log_y ? std::max(1.0, std::ceil((y1 - y0) / 6)) : TickStep(y1 - y0, 6);
  x0 = std::floor(x0 / xs) * xs, x1 = std::ceil(x1 / xs) * xs;
  y0 = std::floor(y0 / ys) * ys, y1 = std::ceil(y1 / ys) * ys;
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return kTop + (1 - (y - y0) / (y1 - y0)) * ph; };
  auto y_tick = [&](double y) { return log_y ? "1e" + Num(std::round(y)) : Num(y); };

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << kLeft + pw / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
    << Escape(title) << "</text>\n";
  for (double x = x0; x <= x1 + xs / 2; x += xs) {
    o << "<line x1=\"" << px(x) << "\" y1=\"" << kTop << "\" x2=\"" << px(x) << "\" y2=\""
      << kTop + ph << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << px(x) << "\" y=\"" << kTop + ph + 16
      << "\" text-anchor=\"middle\">" << Num(x) << "</text>\n";
  }
  for (double y = y0; y <= y1 + ys / 2; y += ys) {
    o << "<line x1=\"" << kLeft << "\" y1=\"" << py(y) << "\" x2=\"" << kLeft + pw << "\" y2=\""
      << py(y) << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << kLeft - 6 << "\" y=\"" << py(y) + 4
      << "\" text-anchor=\"end\">" << y_tick(y) << "</text>\n";
  }
  o << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#333\"/>\n"
    << "<text x=\"" << kLeft + pw / 2 << "\" y=\"" << kHeight - 14 << "\" text-anchor=\"middle\">"
    << Escape(x_label) << "</text>\n"
    << "<text transform=\"translate(18," << kTop + ph / 2
    << ") rotate(-90)\" text-anchor=\"middle\">" << Escape(y_label + (log_y ? " (log)" : ""))
    << "</text>\n";
  const int count = static_cast<int>(series.size());
  for (int k = 0; k < count; ++k) {
    const Series& s = series[k];
    const char* color = kColors[k % (sizeof(kColors) / sizeof(kColors[0]))];
    const char* dash = kDashes[k % (sizeof(kDashes) / sizeof(kDashes[0]))];
    const std::string dash_attr =
        *dash ? std::string(" stroke-dasharray=\"") + dash + "\"" : std::string();
    std::vector<std::pair<double, double>> pts;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) pts.push_back({px(s.x[i]), py(s.y[i])});
    }
    o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\"" << dash_attr
      << " points=\"";
    for (const auto& [x, y] : pts) o << x << ',' << y << ' ';
    o << "\"/>\n";
    // Markers on every point of short curves; on long ones, about kMarkersPerSeries of them,
    // staggered by series so that coinciding curves show each other's markers.
    const size_t n = pts.size();
    const size_t step = std::max<size_t>(1, n / kMarkersPerSeries);
    const size_t first = step > 1 ? (static_cast<size_t>(k) * step / std::max(1, count)) % step : 0;
    for (size_t i = first; i < n; i += step) Marker(o, k, pts[i].first, pts[i].second, color);
    const double ly = kTop + 14 + 20 * static_cast<double>(k);
    o << "<line x1=\"" << kLeft + pw + 10 << "\" y1=\"" << ly - 4 << "\" x2=\"" << kLeft + pw + 42
      << "\" y2=\"" << ly - 4 << "\" stroke=\"" << color << "\" stroke-width=\"2\"" << dash_attr
      << "/>\n";
    Marker(o, k, kLeft + pw + 26, ly - 4, color);
    o << "<text x=\"" << kLeft + pw + 48 << "\" y=\"" << ly << "\">" << Escape(s.name)
      << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

Status WritePlots(const std::vector<RunSummary>& runs, const std::string& out_dir) {
  struct Chart {
    const char* file;
    const char* title;
    const char* x_label;
    const char* y_label;
    double (*x)(const EvalPoint&);
    double (*y)(const EvalPoint&);
    bool log_y;
  };
  auto round = [](const EvalPoint& p) { return static_cast<double>(p.round); };
  auto wall = [](const EvalPoint& p) { return p.wall_s; };
  auto mb = [](const EvalPoint& p) { return p.mb_sent_per_peer; };
  auto loss = [](const EvalPoint& p) { return p.train_loss; };
  auto consensus = [](const EvalPoint& p) { return p.consensus; };
  const Chart charts[] = {
      {"loss_vs_rounds.svg", "average-model training loss", "round", "loss", +round, +loss, false},
      {"loss_vs_time.svg", "average-model training loss", "wall time (s)", "loss", +wall, +loss,
       false},
      {"loss_vs_mb.svg", "average-model training loss", "MB sent per peer", "loss", +mb, +loss,
       false},
      {"consensus_vs_rounds.svg", "consensus distance (1/n) sum ||x_i - x_bar||^2", "round",
       "consensus distance", +round, +consensus, true}};
  for (const Chart& c : charts) {
    std::vector<Series> series;
    for (const RunSummary& r : runs) {
      Series s{r.run, {}, {}};
      for (const EvalPoint& p : r.curve) {
        s.x.push_back(c.x(p));
        s.y.push_back(c.y(p));
      }
      series.push_back(std::move(s));
    }
    const std::string path = out_dir + "/" + c.file;
    std::ofstream f(path, std::ios::trunc);
    f << LineChartSvg(c.title, c.x_label, c.y_label, series, c.log_y);
    if (!f) return Unavailable(path + ": cannot write");
  }
  return Status::Ok();
}

namespace {

// Viridis, reversed: light yellow for the smallest values, dark purple for the largest.
void HeatColor(double t, char out[8]) {
  static const double kStops[5][3] = {
      {253, 231, 37}, {94, 201, 98}, {33, 145, 140}, {59, 82, 139}, {68, 1, 84}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  int c[3];
  for (int k = 0; k < 3; ++k) {
    c[k] = static_cast<int>(std::lround(kStops[i][k] + f * (kStops[i + 1][k] - kStops[i][k])));
  }
  std::snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

}  // namespace

std::string HeatMapSvg(const HeatMap& map) {
  constexpr double kCellW = 92, kCellH = 30, kRowLabelW = 96, kPanelTop = 58, kGap = 36;
  constexpr int kPerLine = 3;
  const double lo_default = 0, hi_default = 1;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  auto scaled = [&](double v) { return map.log_scale ? std::log10(v) : v; };
  for (const auto& panel : map.panels) {
    for (const auto& [cell, v] : panel.values) {
      if (!std::isfinite(v) || (map.log_scale && v <= 0)) continue;
      lo = std::min(lo, scaled(v));
      hi = std::max(hi, scaled(v));
    }
  }
  const bool any_value = std::isfinite(lo);
  if (!any_value) lo = lo_default, hi = hi_default;
  const size_t rows = std::max<size_t>(1, map.rows.size());
  const size_t cols = std::max<size_t>(1, map.columns.size());
  const double panel_w = kRowLabelW + kCellW * static_cast<double>(cols);
  const double panel_h = kPanelTop + kCellH * static_cast<double>(rows);
  const size_t n = std::max<size_t>(1, map.panels.size());
  const size_t per_line = std::min<size_t>(n, kPerLine);
  const size_t lines = (n + per_line - 1) / per_line;
  const double left = 34, top = 44;
  const double width = left + static_cast<double>(per_line) * (panel_w + kGap);
  const double height = top + static_cast<double>(lines) * (panel_h + kGap) + 50;

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << width / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
    << Escape(map.title) << "</text>\n";
  for (size_t p = 0; p < map.panels.size(); ++p) {
    const HeatMap::Panel& panel = map.panels[p];
    const double x0 = left + static_cast<double>(p % per_line) * (panel_w + kGap);
    const double y0 = top + static_cast<double>(p / per_line) * (panel_h + kGap);
    const double gx = x0 + kRowLabelW, gy = y0 + kPanelTop;
    if (!panel.title.empty()) {
      o << "<text x=\"" << gx + kCellW * static_cast<double>(cols) / 2 << "\" y=\"" << y0 + 12
        << "\" text-anchor=\"middle\" font-weight=\"bold\">" << Escape(panel.title) << "</text>\n";
    }
    // Column key and values above the cells, row key and values to their left.
    o << "<text x=\"" << gx + kCellW * static_cast<double>(cols) / 2 << "\" y=\"" << y0 + 32
      << "\" text-anchor=\"middle\" fill=\"#555\">" << Escape(map.column_key) << "</text>\n";
    for (size_t c = 0; c < map.columns.size(); ++c) {
      o << "<text x=\"" << gx + kCellW * (static_cast<double>(c) + 0.5) << "\" y=\"" << gy - 8
        << "\" text-anchor=\"middle\">" << Escape(map.columns[c]) << "</text>\n";
    }
    o << "<text transform=\"translate(" << x0 - 8 << ","
      << gy + kCellH * static_cast<double>(rows) / 2
      << ") rotate(-90)\" text-anchor=\"middle\" fill=\"#555\">" << Escape(map.row_key)
      << "</text>\n";
    for (size_t r = 0; r < rows; ++r) {
      const std::string row = r < map.rows.size() ? map.rows[r] : "";
      const double cy = gy + kCellH * static_cast<double>(r);
      o << "<text x=\"" << gx - 8 << "\" y=\"" << cy + kCellH / 2 + 4 << "\" text-anchor=\"end\">"
        << Escape(row) << "</text>\n";
      for (size_t c = 0; c < cols; ++c) {
        const std::string col = c < map.columns.size() ? map.columns[c] : "";
        const double cx = gx + kCellW * static_cast<double>(c);
        const auto it = panel.values.find({row, col});
        std::string fill = "white", text = "-", ink = "#333";
        if (it != panel.values.end()) {
          const double v = it->second;
          if (!std::isfinite(v) || (map.log_scale && v <= 0)) {
            fill = "#d9d9d9";
            const auto note = panel.notes.find({row, col});
            text = note != panel.notes.end() ? note->second : map.nan_text;
          } else {
            const double t = hi > lo ? (scaled(v) - lo) / (hi - lo) : 0.5;
            char color[8];
            HeatColor(t, color);
            fill = color;
            text = Num(v);
            ink = t > 0.55 ? "white" : "black";
          }
        }
        o << "<rect x=\"" << cx << "\" y=\"" << cy << "\" width=\"" << kCellW << "\" height=\""
          << kCellH << "\" fill=\"" << fill << "\" stroke=\"white\"/>\n<text x=\""
          << cx + kCellW / 2 << "\" y=\"" << cy + kCellH / 2 + 4
          << "\" text-anchor=\"middle\" fill=\"" << ink << "\">" << Escape(text) << "</text>\n";
      }
    }
  }
  // The colour bar: the scale's ends and middle. With one distinct value the cells all take the
  // middle colour: one swatch and its value, not a gradient labelled with that value thrice; with
  // no value at all (no run reached the target), no bar.
  const double by = height - 38, bx = left + kRowLabelW, bw = 240;
  auto label = [&](double s) { return Num(map.log_scale ? std::pow(10.0, s) : s); };
  if (any_value && hi > lo) {
    o << "<defs><linearGradient id=\"scale\">";
    for (int k = 0; k <= 4; ++k) {
      char color[8];
      HeatColor(k / 4.0, color);
      o << "<stop offset=\"" << k * 25 << "%\" stop-color=\"" << color << "\"/>";
    }
    o << "</linearGradient></defs>\n<rect x=\"" << bx << "\" y=\"" << by << "\" width=\"" << bw
      << "\" height=\"12\" fill=\"url(#scale)\"/>\n";
    const double ends[3][2] = {{0, lo}, {0.5, (lo + hi) / 2}, {1, hi}};
    for (const auto& [f, s] : ends) {
      o << "<text x=\"" << bx + f * bw << "\" y=\"" << by + 26 << "\" text-anchor=\"middle\">"
        << label(s) << "</text>\n";
    }
    if (map.log_scale) {
      o << "<text x=\"" << bx + bw + 10 << "\" y=\"" << by + 10 << "\">(log scale)</text>\n";
    }
  } else if (any_value) {
    char color[8];
    HeatColor(0.5, color);
    o << "<rect x=\"" << bx << "\" y=\"" << by << "\" width=\"24\" height=\"12\" fill=\"" << color
      << "\"/>\n<text x=\"" << bx + 32 << "\" y=\"" << by + 10 << "\">" << label(lo)
      << " (the only value)</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace hearsay
