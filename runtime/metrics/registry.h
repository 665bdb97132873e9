// MetricsRegistry: named counters and gauges with labels, rendered in the Prometheus text
// exposition format (version 0.0.4) that `hearsay peer --metrics-port` serves (docs/deploy.md
// lists the series).
//
// A family is declared once (name, type, help); samples are addressed by their label set, given
// as (name, value) pairs in a fixed order per family. Values are doubles; NaN and infinities are
// written as Prometheus spells them (NaN, +Inf, -Inf). Label values are escaped (backslash, quote,
// newline), so remote or user text cannot break the format.
//
// Thread-safety: every method may be called from any thread (one mutex; a scrape copies nothing
// but the text it renders). Ownership: plain values.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearsay {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  enum class Type { kCounter, kGauge };

  // Declares a family; samples of undeclared names are dropped (a programming error, not a crash).
  void Declare(const std::string& name, Type type, const std::string& help);
  void Set(const std::string& name, const MetricLabels& labels, double value);
  void Add(const std::string& name, const MetricLabels& labels, double delta);
  // The current value (0 when the sample does not exist); for tests and the progress line.
  double Get(const std::string& name, const MetricLabels& labels) const;

  // Every declared family in declaration order, each with its samples sorted by labels:
  //   # HELP name help
  //   # TYPE name counter
  //   name{peer="0",neighbor="1"} 123
  std::string RenderPrometheus() const;

 private:
  struct Family {
    Type type = Type::kGauge;
    std::string help;
    std::map<std::string, double> samples;  // rendered label set -> value
  };
  static std::string LabelText(const MetricLabels& labels);

  mutable std::mutex mu_;
  std::vector<std::string> order_;
  std::map<std::string, Family> families_;
};

// `"a\"b"` -> `a\"b` as Prometheus label values need.
std::string EscapeLabelValue(std::string_view value);

}  // namespace hearsay
