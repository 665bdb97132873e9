#include "runtime/data/libsvm.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/regular_file.h"

namespace hearsay {
namespace {

struct Entry {
  int64_t index;  // 1-based
  float value;
};

struct ParsedLine {
  double label;
  std::vector<Entry> entries;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits off the next whitespace-separated token.
std::string_view NextToken(std::string_view* s) {
  *s = Trim(*s);
  size_t end = 0;
  while (end < s->size() && (*s)[end] != ' ' && (*s)[end] != '\t') ++end;
  std::string_view tok = s->substr(0, end);
  s->remove_prefix(end);
  return tok;
}

bool ParseDouble(std::string_view tok, double* v) {
  if (!tok.empty() && tok.front() == '+') tok.remove_prefix(1);  // "+1" is common in LIBSVM
  const auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), *v);
  return ec == std::errc() && ptr == tok.data() + tok.size() && std::isfinite(*v);
}

bool ParseInt(std::string_view tok, int64_t* v) {
  const auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), *v);
  return ec == std::errc() && ptr == tok.data() + tok.size();
}

Status ParseLine(std::string_view line, const std::string& where, int64_t num_features,
                 ParsedLine* out) {
  const std::string_view label_tok = NextToken(&line);
  if (!ParseDouble(label_tok, &out->label)) {
    return InvalidArgument(where + ": label '" + std::string(label_tok) + "' is not a number");
  }
  if (out->label != std::floor(out->label) || std::fabs(out->label) > 1e9) {
    return InvalidArgument(where + ": label " + std::string(label_tok) +
                           " is not an integer; hearsay trains classifiers");
  }
  int64_t last = 0;
  while (true) {
    const std::string_view tok = NextToken(&line);
    if (tok.empty() || tok.front() == '#') break;
    const size_t colon = tok.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument(where + ": '" + std::string(tok) + "' is not index:value");
    }
    Entry e{};
    double value = 0;
    if (!ParseInt(tok.substr(0, colon), &e.index)) {
      return InvalidArgument(where + ": feature index '" + std::string(tok.substr(0, colon)) +
                             "' is not an integer");
    }
    if (e.index < 1) {
      return InvalidArgument(where + ": feature index " + std::to_string(e.index) +
                             "; LIBSVM indices start at 1");
    }
    if (e.index <= last) {
      return InvalidArgument(where + ": feature index " + std::to_string(e.index) + " after " +
                             std::to_string(last) + "; LIBSVM indices must be ascending");
    }
    if (num_features > 0 && e.index > num_features) {
      return InvalidArgument(where + ": feature index " + std::to_string(e.index) +
                             " exceeds the declared " + std::to_string(num_features) + " features");
    }
    if (!ParseDouble(tok.substr(colon + 1), &value)) {
      return InvalidArgument(where + ": value '" + std::string(tok.substr(colon + 1)) +
                             "' of feature " + std::to_string(e.index) + " is not a finite number");
    }
    e.value = static_cast<float>(value);
    last = e.index;
    out->entries.push_back(e);
  }
  return Status::Ok();
}

}  // namespace

Result<Dataset> LoadLibsvm(const std::string& path, int64_t num_features,
                           uint64_t max_dense_bytes) {
  const uint64_t budget = max_dense_bytes > 0 ? max_dense_bytes : DefaultDenseBudgetBytes();
  if (num_features < 0) {
    return InvalidArgument(path + ": num_features = " + std::to_string(num_features) +
                           "; use 0 to infer it or a positive count");
  }
  // A device or FIFO would be read for ever (/dev/zero) or block (a pipe): regular files only.
  HEARSAY_RETURN_IF_ERROR(CheckRegularFile(path, kMaxLibsvmFileBytes, "LIBSVM file"));
  std::ifstream in(path);
  if (!in) {
    return NotFound(path + ": cannot open LIBSVM file: " + std::strerror(errno));
  }
  std::vector<ParsedLine> rows;
  std::string line;
  int64_t line_no = 0;
  int64_t max_index = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string_view view = Trim(line);
    if (view.empty() || view.front() == '#') continue;
    ParsedLine parsed;
    HEARSAY_RETURN_IF_ERROR(
        ParseLine(view, path + ":" + std::to_string(line_no), num_features, &parsed));
    if (!parsed.entries.empty()) max_index = std::max(max_index, parsed.entries.back().index);
    rows.push_back(std::move(parsed));
  }
  if (in.bad()) return Unavailable(path + ": read error after line " + std::to_string(line_no));
  if (rows.empty()) return InvalidArgument(path + ": no examples (the file is empty)");

  const int64_t d = num_features > 0 ? num_features : max_index;
  if (d == 0) return InvalidArgument(path + ": no features on any line");

  std::map<double, int32_t> label_ids;
  for (const ParsedLine& r : rows) label_ids.emplace(r.label, 0);
  if (label_ids.size() > kMaxLibsvmClasses) {
    return InvalidArgument(path + ": " + std::to_string(label_ids.size()) +
                           " distinct labels; hearsay trains at most " +
                           std::to_string(kMaxLibsvmClasses) + " classes");
  }
  int32_t next = 0;
  for (auto& [label, id] : label_ids) id = next++;
  // Checked before allocating (issue 8: an index of 1e10 gave "internal error: std::bad_alloc").
  const double dense_bytes = 4.0 * static_cast<double>(rows.size()) * static_cast<double>(d);
  if (dense_bytes > static_cast<double>(budget)) {
    return InvalidArgument(path + ": " + std::to_string(rows.size()) + " examples x " +
                           std::to_string(d) + " features need " + FormatGiB(dense_bytes) +
                           " as dense float32, more than the " +
                           FormatGiB(static_cast<double>(budget)) +
                           " allowed (half of this machine's memory); is the largest feature "
                           "index (" +
                           std::to_string(max_index) + ") right?");
  }

  Dataset data;
  data.num_features = d;
  data.num_classes = std::max<int32_t>(next, 2);
  data.features.assign(rows.size() * static_cast<size_t>(d), 0.0f);
  data.labels.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    data.labels[i] = label_ids[rows[i].label];
    float* x = &data.features[i * static_cast<size_t>(d)];
    for (const Entry& e : rows[i].entries) x[e.index - 1] = e.value;
  }
  return data;
}

}  // namespace hearsay
