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

// Where one example's line is in the file (trimmed).
struct LineSpan {
  uint64_t offset = 0;
  uint32_t bytes = 0;
  int64_t line_no = 0;
};

// One pass over the file: comment and blank lines skipped, every example line parsed and handed
// to on_example(parsed, span) in order. Returns the largest feature index seen.
template <typename OnExample>
Result<int64_t> ScanLibsvm(const std::string& path, int64_t num_features, OnExample&& on_example) {
  if (num_features < 0) {
    return InvalidArgument(path + ": num_features = " + std::to_string(num_features) +
                           "; use 0 to infer it or a positive count");
  }
  // A device or FIFO would be read for ever (/dev/zero) or block (a pipe): regular files only.
  HEARSAY_RETURN_IF_ERROR(CheckRegularFile(path, kMaxLibsvmFileBytes, "LIBSVM file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound(path + ": cannot open LIBSVM file: " + std::strerror(errno));
  }
  std::string line;
  int64_t line_no = 0;
  int64_t max_index = 0;
  int64_t examples = 0;
  ParsedLine parsed;
  for (uint64_t offset = 0; std::getline(in, line); offset += line.size() + 1) {
    ++line_no;
    const std::string_view view = Trim(line);
    if (view.empty() || view.front() == '#') continue;
    const std::string where = path + ":" + std::to_string(line_no);
    if (view.size() > UINT32_MAX) {
      return InvalidArgument(where + ": a line of " + std::to_string(view.size()) +
                             " bytes; at most 4 GiB per line");
    }
    parsed.entries.clear();
    HEARSAY_RETURN_IF_ERROR(ParseLine(view, where, num_features, &parsed));
    if (!parsed.entries.empty()) max_index = std::max(max_index, parsed.entries.back().index);
    const LineSpan span{offset + static_cast<uint64_t>(view.data() - line.data()),
                        static_cast<uint32_t>(view.size()), line_no};
    HEARSAY_RETURN_IF_ERROR(on_example(parsed, span));
    ++examples;
  }
  if (in.bad()) return Unavailable(path + ": read error after line " + std::to_string(line_no));
  if (examples == 0) return InvalidArgument(path + ": no examples (the file is empty)");
  const int64_t d = num_features > 0 ? num_features : max_index;
  if (d == 0) return InvalidArgument(path + ": no features on any line");
  return max_index;
}

// The class ids of a file's distinct label values, ascending.
Result<std::map<double, int32_t>> ClassIds(const std::string& path,
                                           const std::vector<double>& labels) {
  std::map<double, int32_t> label_ids;
  for (double l : labels) label_ids.emplace(l, 0);
  if (label_ids.size() > kMaxLibsvmClasses) {
    return InvalidArgument(path + ": " + std::to_string(label_ids.size()) +
                           " distinct labels; hearsay trains at most " +
                           std::to_string(kMaxLibsvmClasses) + " classes");
  }
  int32_t next = 0;
  for (auto& [label, id] : label_ids) id = next++;
  return label_ids;
}

// Checked before allocating (issue 8: an index of 1e10 gave "internal error: std::bad_alloc").
Status CheckDense(const std::string& path, size_t rows, int64_t d, int64_t max_index,
                  uint64_t max_dense_bytes) {
  const uint64_t budget = max_dense_bytes > 0 ? max_dense_bytes : DefaultDenseBudgetBytes();
  const double dense_bytes = 4.0 * static_cast<double>(rows) * static_cast<double>(d);
  if (dense_bytes <= static_cast<double>(budget)) return Status::Ok();
  return InvalidArgument(path + ": " + std::to_string(rows) + " examples x " + std::to_string(d) +
                         " features need " + FormatGiB(dense_bytes) +
                         " as dense float32, more than the " +
                         FormatGiB(static_cast<double>(budget)) +
                         " allowed (half of this machine's memory); is the largest feature "
                         "index (" +
                         std::to_string(max_index) + ") right?");
}

}  // namespace

namespace {

std::string LibsvmParams(int64_t num_features) {
  return "features=" + std::to_string(num_features);
}

// The label value of each class id, in id order.
std::vector<double> ClassValues(const std::map<double, int32_t>& label_ids) {
  std::vector<double> values;
  for (const auto& [value, id] : label_ids) values.push_back(value);
  return values;
}

}  // namespace

Result<Dataset> LoadLibsvm(const std::string& path, int64_t num_features, uint64_t max_dense_bytes,
                           LibsvmIndex* index) {
  // Taken before reading: a file changed while it is read does not match its index.
  const Result<FileIdentity> identity = IdentityOf(path);
  LineSpans lines;
  std::vector<ParsedLine> rows;
  std::vector<double> raw_labels;
  auto on_example = [&](const ParsedLine& parsed, const LineSpan& span) -> Status {
    rows.push_back(parsed);
    raw_labels.push_back(parsed.label);
    if (index != nullptr) lines.Add(span.offset, span.bytes, span.line_no);
    return Status::Ok();
  };
  HEARSAY_ASSIGN_OR_RETURN(const int64_t max_index, ScanLibsvm(path, num_features, on_example));
  const int64_t d = num_features > 0 ? num_features : max_index;
  HEARSAY_ASSIGN_OR_RETURN(auto label_ids, ClassIds(path, raw_labels));
  HEARSAY_RETURN_IF_ERROR(CheckDense(path, rows.size(), d, max_index, max_dense_bytes));

  Dataset data;
  data.num_features = d;
  data.num_classes = std::max<int32_t>(static_cast<int32_t>(label_ids.size()), 2);
  data.features.assign(rows.size() * static_cast<size_t>(d), 0.0f);
  data.labels.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    data.labels[i] = label_ids[rows[i].label];
    float* x = &data.features[i * static_cast<size_t>(d)];
    for (const Entry& e : rows[i].entries) x[e.index - 1] = e.value;
  }
  if (index != nullptr) {
    *index = LibsvmIndex(path);
    index->t_ = TextIndexFile{"libsvm",
                              LibsvmParams(num_features),
                              identity.ok() ? *identity : FileIdentity{},
                              data.num_features,
                              data.num_classes,
                              max_index,
                              ClassValues(label_ids),
                              data.labels,
                              std::move(lines)};
  }
  return data;
}

Result<LibsvmIndex> LibsvmIndex::Build(const std::string& path, int64_t num_features) {
  LibsvmIndex index(path);
  TextIndexFile& t = index.t_;
  t.kind = "libsvm";
  t.params = LibsvmParams(num_features);
  const Result<FileIdentity> identity = IdentityOf(path);
  if (identity.ok()) t.source = *identity;
  std::vector<double> raw_labels;
  auto on_example = [&](const ParsedLine& parsed, const LineSpan& span) -> Status {
    raw_labels.push_back(parsed.label);
    t.lines.Add(span.offset, span.bytes, span.line_no);
    return Status::Ok();
  };
  HEARSAY_ASSIGN_OR_RETURN(t.extra, ScanLibsvm(path, num_features, on_example));
  HEARSAY_ASSIGN_OR_RETURN(auto label_ids, ClassIds(path, raw_labels));
  t.num_features = num_features > 0 ? num_features : t.extra;
  t.num_classes = std::max<int32_t>(static_cast<int32_t>(label_ids.size()), 2);
  t.labels.reserve(raw_labels.size());
  for (double l : raw_labels) t.labels.push_back(label_ids[l]);
  t.class_values = ClassValues(label_ids);
  return index;
}

Result<LibsvmIndex> LibsvmIndex::Load(const std::string& file, const std::string& path,
                                      int64_t num_features) {
  LibsvmIndex index(path);
  TextIndexFile& t = index.t_;
  HEARSAY_ASSIGN_OR_RETURN(t, LoadTextIndex(file, "libsvm", LibsvmParams(num_features), path));
  if (t.class_values.empty() || t.class_values.size() > static_cast<size_t>(t.num_classes) ||
      t.extra < 0 || t.extra > t.num_features) {
    return Corruption(file + ": implausible classes or feature count");
  }
  for (int32_t l : t.labels) {
    if (static_cast<size_t>(l) >= t.class_values.size()) {
      return Corruption(file + ": class id " + std::to_string(l) + " without a label value");
    }
  }
  return index;
}

Status LibsvmIndex::Save(const std::string& file) const { return SaveTextIndex(file, t_); }

Result<Dataset> LibsvmIndex::Rows(const std::vector<int64_t>& rows,
                                  uint64_t max_dense_bytes) const {
  const auto n = static_cast<int64_t>(t_.labels.size());
  const int64_t d = t_.num_features;
  HEARSAY_RETURN_IF_ERROR(CheckDense(path_, rows.size(), d, t_.extra, max_dense_bytes));
  HEARSAY_RETURN_IF_ERROR(CheckExampleRows(path_, rows, n));
  HEARSAY_ASSIGN_OR_RETURN(RegularFile file,
                           RegularFile::Open(path_, kMaxLibsvmFileBytes, "LIBSVM file"));
  Dataset data;
  data.num_features = d;
  data.num_classes = t_.num_classes;
  data.features.assign(rows.size() * static_cast<size_t>(d), 0.0f);
  data.labels.resize(rows.size());
  std::string line;
  ParsedLine parsed;
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto i = static_cast<size_t>(rows[k]);
    line.resize(t_.lines.bytes[i]);
    HEARSAY_RETURN_IF_ERROR(file.ReadAt(t_.lines.offsets[i], line.data(), line.size()));
    parsed.entries.clear();
    const std::string where = path_ + ":" + std::to_string(t_.lines.line_nos[i]);
    // The declared width (d) also bounds the indices of a file that changed since Build.
    HEARSAY_RETURN_IF_ERROR(ParseLine(line, where, d, &parsed));
    if (parsed.label != t_.class_values[static_cast<size_t>(t_.labels[i])]) {
      return InvalidArgument(where + ": the label changed since the file was first read");
    }
    data.labels[k] = t_.labels[i];
    float* x = &data.features[k * static_cast<size_t>(d)];
    for (const Entry& e : parsed.entries) x[e.index - 1] = e.value;
  }
  return data;
}

}  // namespace hearsay
