#include "runtime/data/csv_data.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/regular_file.h"
#include "runtime/data/data_limits.h"

namespace hearsay {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "path:line" or "path:line:column" (column 1-based).
std::string Where(const std::string& path, int64_t line, int64_t column = 0) {
  std::string w = path + ":" + std::to_string(line);
  if (column > 0) w += ": column " + std::to_string(column);
  return w;
}

// Splits one line into fields. Quoted fields may hold the delimiter and "" for a quote; a line
// break inside quotes is not supported (numeric data never needs one), so an unterminated quote
// is an error rather than a silent join with the next line.
Status SplitLine(std::string_view line, char delim, const std::string& where,
                 std::vector<std::string>* fields) {
  fields->clear();
  const bool spaces = delim == ' ';
  if (spaces) line = TrimSpaces(line);
  size_t i = 0;
  while (true) {
    std::string field;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t') && line[i] != delim) ++i;
    if (i < line.size() && line[i] == '"') {
      const size_t open = i++;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field += line[i++];
      }
      if (!closed) {
        return InvalidArgument(where + ": the quote opened at character " +
                               std::to_string(open + 1) + " is never closed");
      }
      while (i < line.size() && line[i] != delim && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != delim) {
        return InvalidArgument(where + ": unexpected '" + std::string(1, line[i]) +
                               "' after the quoted field ending at character " + std::to_string(i));
      }
    } else {
      const size_t start = i;
      while (i < line.size() && line[i] != delim) ++i;
      field = std::string(TrimSpaces(line.substr(start, i - start)));
    }
    fields->push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // the delimiter
    if (spaces) {
      while (i < line.size() && line[i] == ' ') ++i;
    }
  }
  return Status::Ok();
}

bool ParseNumber(std::string_view tok, double* v) {
  if (!tok.empty() && tok.front() == '+') tok.remove_prefix(1);
  if (tok.empty()) return false;
  const auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), *v);
  return ec == std::errc() && ptr == tok.data() + tok.size();
}

std::string Quote(const std::string& field) {
  constexpr size_t kShown = 40;
  return "'" + (field.size() > kShown ? field.substr(0, kShown) + "..." : field) + "'";
}

}  // namespace

const char* CsvHeaderName(CsvHeader header) {
  switch (header) {
    case CsvHeader::kYes:
      return "true";
    case CsvHeader::kNo:
      return "false";
    case CsvHeader::kAuto:
      break;
  }
  return "auto";
}

namespace {

// Where one example's line is in the file (after a byte-order mark and before a '\r').
struct LineSpan {
  uint64_t offset = 0;
  uint32_t bytes = 0;
  int64_t line_no = 0;
};

struct CsvLayout {
  int64_t columns = 0;  // fields per line, from the first non-blank line
  int64_t label_col = 0;
};

Status CheckColumns(const std::vector<std::string>& fields, const CsvLayout& layout,
                    const std::string& path, int64_t line_no) {
  if (static_cast<int64_t>(fields.size()) == layout.columns) return Status::Ok();
  return InvalidArgument(Where(path, line_no) + ": " + std::to_string(fields.size()) +
                         " fields, but the first line has " + std::to_string(layout.columns));
}

// Checks one example's fields (as many as the layout's columns); appends its features to
// *features unless that is null.
Status ParseExample(const std::vector<std::string>& fields, const CsvLayout& layout,
                    const std::string& path, int64_t line_no, bool first_example,
                    const CsvOptions& options, int32_t* label, std::vector<float>* features) {
  for (int64_t c = 0; c < layout.columns; ++c) {
    const std::string& f = fields[static_cast<size_t>(c)];
    double v = 0;
    if (c == layout.label_col) {
      if (!ParseNumber(f, &v) || !std::isfinite(v)) {
        return InvalidArgument(Where(path, line_no, c + 1) + ": label " + Quote(f) +
                               " is not a number");
      }
      if (v != std::floor(v) || v < 0 || v >= static_cast<double>(kMaxDataClasses)) {
        return InvalidArgument(Where(path, line_no, c + 1) + ": label " + f +
                               " is not a class id; CSV labels are integers 0.." +
                               std::to_string(kMaxDataClasses - 1));
      }
      *label = static_cast<int32_t>(v);
      continue;
    }
    if (f.empty()) {
      return InvalidArgument(Where(path, line_no, c + 1) +
                             ": empty field; every feature needs "
                             "a value");
    }
    if (!ParseNumber(f, &v)) {
      return InvalidArgument(Where(path, line_no, c + 1) + ": " + Quote(f) + " is not a number" +
                             (first_example && options.header == CsvHeader::kNo
                                  ? " (the file has a header? set header: true)"
                                  : ""));
    }
    if (!std::isfinite(v) || std::fabs(v) > 3.4e38) {
      return InvalidArgument(Where(path, line_no, c + 1) + ": " + Quote(f) +
                             " is not a finite float32");
    }
    if (features != nullptr) features->push_back(static_cast<float>(v));
  }
  return Status::Ok();
}

Status CheckOptions(const std::string& path, const CsvOptions& options) {
  if (options.label_column < -1) {
    return InvalidArgument(path + ": label_column = " + std::to_string(options.label_column) +
                           "; give a 0-based column or -1 for the last one");
  }
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
    return InvalidArgument(path + ": the delimiter cannot be a quote or a line break");
  }
  return Status::Ok();
}

// One pass over the file: blank lines skipped, the layout and header found on the first line,
// every example line split, its field count checked, and handed to on_example(fields, layout,
// span, first_example) in order.
template <typename OnExample>
Result<CsvLayout> ScanCsv(const std::string& path, const CsvOptions& options,
                          OnExample&& on_example) {
  HEARSAY_RETURN_IF_ERROR(CheckOptions(path, options));
  HEARSAY_RETURN_IF_ERROR(CheckRegularFile(path, kMaxDataFileBytes, "CSV file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot open CSV file: " + std::strerror(errno));

  CsvLayout layout;
  std::vector<std::string> fields;
  std::string line;
  int64_t line_no = 0;
  uint64_t offset = 0;  // of the current line
  bool first = true;
  int64_t examples = 0;
  for (; std::getline(in, line); offset += line.size() + 1) {
    ++line_no;
    std::string_view view = line;
    uint64_t start = offset;
    if (line_no == 1 && view.substr(0, 3) == "\xEF\xBB\xBF") {  // BOM
      view.remove_prefix(3);
      start += 3;
    }
    if (!view.empty() && view.back() == '\r') view.remove_suffix(1);
    if (TrimSpaces(view).empty()) continue;
    const std::string where = Where(path, line_no);
    HEARSAY_RETURN_IF_ERROR(SplitLine(view, options.delimiter, where, &fields));
    if (first) {
      first = false;
      layout.columns = static_cast<int64_t>(fields.size());
      if (layout.columns < 2) {
        return InvalidArgument(where +
                               ": one column; a CSV data file needs a label and at least "
                               "one feature (is the delimiter '" +
                               std::string(1, options.delimiter) + "' right?)");
      }
      layout.label_col = options.label_column == -1 ? layout.columns - 1 : options.label_column;
      if (layout.label_col >= layout.columns) {
        return InvalidArgument(where + ": label_column " + std::to_string(options.label_column) +
                               " but the file has " + std::to_string(layout.columns) +
                               " columns (0.." + std::to_string(layout.columns - 1) + ")");
      }
      bool header = options.header == CsvHeader::kYes;
      if (options.header == CsvHeader::kAuto) {
        // A data line always has a numeric label; a header names the column. Looking at the
        // label field alone keeps a bad value in some feature of line 1 an error.
        double v = 0;
        header = !ParseNumber(fields[static_cast<size_t>(layout.label_col)], &v);
      }
      if (header) continue;
    }
    if (view.size() > UINT32_MAX) {
      return InvalidArgument(where + ": a line of " + std::to_string(view.size()) +
                             " bytes; at most 4 GiB per line");
    }
    HEARSAY_RETURN_IF_ERROR(CheckColumns(fields, layout, path, line_no));
    const LineSpan span{start, static_cast<uint32_t>(view.size()), line_no};
    HEARSAY_RETURN_IF_ERROR(on_example(fields, layout, span, examples == 0));
    ++examples;
  }
  if (in.bad()) return Unavailable(path + ": read error after line " + std::to_string(line_no));
  if (examples == 0) {
    return InvalidArgument(path + (first ? ": no examples (the file is empty)"
                                         : ": no examples (only a header line)"));
  }
  return layout;
}

int32_t ClassesOf(const std::vector<int32_t>& labels) {
  int32_t max_label = -1;
  for (int32_t l : labels) max_label = std::max(max_label, l);
  return std::max(max_label + 1, 2);
}

}  // namespace

namespace {

// The text an index is kept for: a saved index serves these options only.
std::string CsvParams(const CsvOptions& o) {
  return "label_column=" + std::to_string(o.label_column) + " header=" + CsvHeaderName(o.header) +
         " delimiter=" + std::to_string(static_cast<int>(o.delimiter));
}

}  // namespace

Result<Dataset> LoadCsv(const std::string& path, const CsvOptions& options,
                        uint64_t max_dense_bytes, CsvIndex* index) {
  const uint64_t budget = max_dense_bytes > 0 ? max_dense_bytes : DefaultDenseBudgetBytes();
  // Taken before reading: a file changed while it is read does not match its index.
  const Result<FileIdentity> identity = IdentityOf(path);
  LineSpans lines;
  Dataset data;
  auto on_example = [&](const std::vector<std::string>& fields, const CsvLayout& layout,
                        const LineSpan& span, bool first_example) -> Status {
    const auto d = static_cast<double>(layout.columns - 1);
    // Checked before the row is stored: a huge file fails early instead of exhausting memory.
    const double dense_bytes = 4.0 * static_cast<double>(data.size() + 1) * d;
    if (dense_bytes > static_cast<double>(budget)) {
      return InvalidArgument(Where(path, span.line_no) + ": the examples so far need " +
                             FormatGiB(dense_bytes) + " as dense float32, more than the " +
                             FormatGiB(static_cast<double>(budget)) +
                             " allowed (half of this machine's memory)");
    }
    int32_t label = 0;
    HEARSAY_RETURN_IF_ERROR(ParseExample(fields, layout, path, span.line_no, first_example, options,
                                         &label, &data.features));
    data.labels.push_back(label);
    if (index != nullptr) lines.Add(span.offset, span.bytes, span.line_no);
    return Status::Ok();
  };
  HEARSAY_ASSIGN_OR_RETURN(CsvLayout layout, ScanCsv(path, options, on_example));
  data.num_features = layout.columns - 1;
  data.num_classes = ClassesOf(data.labels);
  if (index != nullptr) {
    *index = CsvIndex(path, options);
    index->t_ = TextIndexFile{"csv",
                              CsvParams(options),
                              identity.ok() ? *identity : FileIdentity{},
                              data.num_features,
                              data.num_classes,
                              layout.label_col,
                              {},
                              data.labels,
                              std::move(lines)};
  }
  return data;
}

Result<CsvIndex> CsvIndex::Build(const std::string& path, const CsvOptions& options) {
  CsvIndex index(path, options);
  TextIndexFile& t = index.t_;
  t.kind = "csv";
  t.params = CsvParams(options);
  const Result<FileIdentity> identity = IdentityOf(path);
  if (identity.ok()) t.source = *identity;
  auto on_example = [&](const std::vector<std::string>& fields, const CsvLayout& layout,
                        const LineSpan& span, bool first_example) -> Status {
    int32_t label = 0;
    HEARSAY_RETURN_IF_ERROR(ParseExample(fields, layout, path, span.line_no, first_example, options,
                                         &label, /*features=*/nullptr));
    t.labels.push_back(label);
    t.lines.Add(span.offset, span.bytes, span.line_no);
    return Status::Ok();
  };
  HEARSAY_ASSIGN_OR_RETURN(CsvLayout layout, ScanCsv(path, options, on_example));
  t.extra = layout.label_col;
  t.num_features = layout.columns - 1;
  t.num_classes = ClassesOf(t.labels);
  return index;
}

Result<CsvIndex> CsvIndex::Load(const std::string& file, const std::string& path,
                                const CsvOptions& options) {
  CsvIndex index(path, options);
  HEARSAY_ASSIGN_OR_RETURN(index.t_, LoadTextIndex(file, "csv", CsvParams(options), path));
  if (index.t_.extra < 0 || index.t_.extra > index.t_.num_features) {
    return Corruption(file + ": label column " + std::to_string(index.t_.extra) + " of " +
                      std::to_string(index.t_.num_features + 1));
  }
  return index;
}

Status CsvIndex::Save(const std::string& file) const { return SaveTextIndex(file, t_); }

Result<Dataset> CsvIndex::Rows(const std::vector<int64_t>& rows, uint64_t max_dense_bytes) const {
  const uint64_t budget = max_dense_bytes > 0 ? max_dense_bytes : DefaultDenseBudgetBytes();
  const auto n = static_cast<int64_t>(t_.labels.size());
  const int64_t d = t_.num_features;
  const double dense_bytes = 4.0 * static_cast<double>(rows.size()) * static_cast<double>(d);
  if (dense_bytes > static_cast<double>(budget)) {
    return InvalidArgument(
        path_ + ": " + std::to_string(rows.size()) + " examples x " + std::to_string(d) +
        " features need " + FormatGiB(dense_bytes) + " as dense float32, more than the " +
        FormatGiB(static_cast<double>(budget)) + " allowed (half of this machine's memory)");
  }
  HEARSAY_RETURN_IF_ERROR(CheckExampleRows(path_, rows, n));
  HEARSAY_ASSIGN_OR_RETURN(RegularFile file,
                           RegularFile::Open(path_, kMaxDataFileBytes, "CSV file"));
  const CsvLayout layout{d + 1, t_.extra};
  Dataset data;
  data.num_features = d;
  data.num_classes = t_.num_classes;
  data.features.reserve(rows.size() * static_cast<size_t>(d));
  data.labels.reserve(rows.size());
  std::string line;
  std::vector<std::string> fields;
  for (int64_t r : rows) {
    const auto i = static_cast<size_t>(r);
    line.resize(t_.lines.bytes[i]);
    HEARSAY_RETURN_IF_ERROR(file.ReadAt(t_.lines.offsets[i], line.data(), line.size()));
    const int64_t line_no = t_.lines.line_nos[i];
    HEARSAY_RETURN_IF_ERROR(SplitLine(line, options_.delimiter, Where(path_, line_no), &fields));
    HEARSAY_RETURN_IF_ERROR(CheckColumns(fields, layout, path_, line_no));
    int32_t label = 0;
    HEARSAY_RETURN_IF_ERROR(
        ParseExample(fields, layout, path_, line_no, r == 0, options_, &label, &data.features));
    if (label != t_.labels[i]) {
      return InvalidArgument(Where(path_, line_no) +
                             ": the label changed since the file was first read");
    }
    data.labels.push_back(label);
  }
  return data;
}

}  // namespace hearsay
