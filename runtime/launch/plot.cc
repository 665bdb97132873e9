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

}  // namespace

std::string LineChartSvg(const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::vector<Series>& series) {
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
  const double xs = TickStep(x1 - x0, 6), ys = TickStep(y1 - y0, 6);
  x0 = std::floor(x0 / xs) * xs, x1 = std::ceil(x1 / xs) * xs;
  y0 = std::floor(y0 / ys) * ys, y1 = std::ceil(y1 / ys) * ys;
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return kTop + (1 - (y - y0) / (y1 - y0)) * ph; };

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
      << "\" text-anchor=\"end\">" << Num(y) << "</text>\n";
  }
  o << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#333\"/>\n"
    << "<text x=\"" << kLeft + pw / 2 << "\" y=\"" << kHeight - 14 << "\" text-anchor=\"middle\">"
    << Escape(x_label) << "</text>\n"
    << "<text transform=\"translate(18," << kTop + ph / 2
    << ") rotate(-90)\" text-anchor=\"middle\">" << Escape(y_label) << "</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const char* color = kColors[k % (sizeof(kColors) / sizeof(kColors[0]))];
    o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\"";
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        o << px(s.x[i]) << ',' << py(s.y[i]) << ' ';
    }
    o << "\"/>\n";
    const double ly = kTop + 14 + 20 * static_cast<double>(k);
    o << "<line x1=\"" << kLeft + pw + 14 << "\" y1=\"" << ly - 4 << "\" x2=\"" << kLeft + pw + 38
      << "\" y2=\"" << ly - 4 << "\" stroke=\"" << color << "\" stroke-width=\"3\"/>\n<text x=\""
      << kLeft + pw + 44 << "\" y=\"" << ly << "\">" << Escape(s.name) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

Status WritePlots(const std::vector<RunSummary>& runs, const std::string& out_dir) {
  struct Chart {
    const char* file;
    const char* x_label;
    double EvalPoint::*x;
  };
  const Chart charts[] = {{"loss_vs_time.svg", "wall time (s)", &EvalPoint::wall_s},
                          {"loss_vs_mb.svg", "MB sent per peer", &EvalPoint::mb_sent_per_peer}};
  auto write = [&](const std::string& file, const std::string& text) -> Status {
    std::ofstream f(out_dir + "/" + file, std::ios::trunc);
    f << text;
    if (!f) return Unavailable(out_dir + "/" + file + ": cannot write");
    return Status::Ok();
  };
  std::vector<Series> by_round;
  for (const RunSummary& r : runs) {
    Series s{r.run, {}, {}};
    for (const EvalPoint& p : r.curve) {
      s.x.push_back(static_cast<double>(p.round));
      s.y.push_back(p.train_loss);
    }
    by_round.push_back(std::move(s));
  }
  HEARSAY_RETURN_IF_ERROR(write("loss_vs_rounds.svg", LineChartSvg("average-model training loss",
                                                                   "round", "loss", by_round)));
  for (const Chart& c : charts) {
    std::vector<Series> series;
    for (const RunSummary& r : runs) {
      Series s{r.run, {}, {}};
      for (const EvalPoint& p : r.curve) {
        s.x.push_back(p.*(c.x));
        s.y.push_back(p.train_loss);
      }
      series.push_back(std::move(s));
    }
    HEARSAY_RETURN_IF_ERROR(
        write(c.file, LineChartSvg("average-model training loss", c.x_label, "loss", series)));
  }
  return Status::Ok();
}

}  // namespace hearsay
