#include "runtime/data/csv_data.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
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

Result<Dataset> LoadCsv(const std::string& path, const CsvOptions& options,
                        uint64_t max_dense_bytes) {
  const uint64_t budget = max_dense_bytes > 0 ? max_dense_bytes : DefaultDenseBudgetBytes();
  if (options.label_column < -1) {
    return InvalidArgument(path + ": label_column = " + std::to_string(options.label_column) +
                           "; give a 0-based column or -1 for the last one");
  }
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
    return InvalidArgument(path + ": the delimiter cannot be a quote or a line break");
  }
  HEARSAY_RETURN_IF_ERROR(CheckRegularFile(path, kMaxDataFileBytes, "CSV file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot open CSV file: " + std::strerror(errno));

  Dataset data;
  std::vector<std::string> fields;
  std::string line;
  int64_t line_no = 0;
  int64_t columns = 0;  // fields per line, from the first non-blank line
  int64_t label_col = 0;
  bool first = true;
  int64_t max_label = -1;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view view = line;
    if (line_no == 1 && view.substr(0, 3) == "\xEF\xBB\xBF") view.remove_prefix(3);  // BOM
    if (!view.empty() && view.back() == '\r') view.remove_suffix(1);
    if (TrimSpaces(view).empty()) continue;
    const std::string where = Where(path, line_no);
    HEARSAY_RETURN_IF_ERROR(SplitLine(view, options.delimiter, where, &fields));
    if (first) {
      first = false;
      columns = static_cast<int64_t>(fields.size());
      if (columns < 2) {
        return InvalidArgument(where +
                               ": one column; a CSV data file needs a label and at least "
                               "one feature (is the delimiter '" +
                               std::string(1, options.delimiter) + "' right?)");
      }
      label_col = options.label_column == -1 ? columns - 1 : options.label_column;
      if (label_col >= columns) {
        return InvalidArgument(where + ": label_column " + std::to_string(options.label_column) +
                               " but the file has " + std::to_string(columns) + " columns (0.." +
                               std::to_string(columns - 1) + ")");
      }
      bool header = options.header == CsvHeader::kYes;
      if (options.header == CsvHeader::kAuto) {
        // A data line always has a numeric label; a header names the column. Looking at the
        // label field alone keeps a bad value in some feature of line 1 an error.
        double v = 0;
        header = !ParseNumber(fields[static_cast<size_t>(label_col)], &v);
      }
      data.num_features = columns - 1;
      if (header) continue;
    }
    if (static_cast<int64_t>(fields.size()) != columns) {
      return InvalidArgument(where + ": " + std::to_string(fields.size()) +
                             " fields, but the "
                             "first line has " +
                             std::to_string(columns));
    }
    // Checked before the row is stored: a huge file fails early instead of exhausting memory.
    const double dense_bytes =
        4.0 * static_cast<double>(data.size() + 1) * static_cast<double>(data.num_features);
    if (dense_bytes > static_cast<double>(budget)) {
      return InvalidArgument(where + ": the examples so far need " + FormatGiB(dense_bytes) +
                             " as dense float32, more than the " +
                             FormatGiB(static_cast<double>(budget)) +
                             " allowed (half of this machine's memory)");
    }
    for (int64_t c = 0; c < columns; ++c) {
      const std::string& f = fields[static_cast<size_t>(c)];
      double v = 0;
      if (c == label_col) {
        if (!ParseNumber(f, &v) || !std::isfinite(v)) {
          return InvalidArgument(Where(path, line_no, c + 1) + ": label " + Quote(f) +
                                 " is not a number");
        }
        if (v != std::floor(v) || v < 0 || v >= static_cast<double>(kMaxDataClasses)) {
          return InvalidArgument(Where(path, line_no, c + 1) + ": label " + f +
                                 " is not a class id; CSV labels are integers 0.." +
                                 std::to_string(kMaxDataClasses - 1));
        }
        data.labels.push_back(static_cast<int32_t>(v));
        max_label = std::max<int64_t>(max_label, static_cast<int64_t>(v));
        continue;
      }
      if (f.empty()) {
        return InvalidArgument(Where(path, line_no, c + 1) +
                               ": empty field; every feature needs "
                               "a value");
      }
      if (!ParseNumber(f, &v)) {
        return InvalidArgument(Where(path, line_no, c + 1) + ": " + Quote(f) + " is not a number" +
                               (data.size() == 0 && options.header == CsvHeader::kNo
                                    ? " (the file has a header? set header: true)"
                                    : ""));
      }
      if (!std::isfinite(v) || std::fabs(v) > 3.4e38) {
        return InvalidArgument(Where(path, line_no, c + 1) + ": " + Quote(f) +
                               " is not a finite float32");
      }
      data.features.push_back(static_cast<float>(v));
    }
  }
  if (in.bad()) return Unavailable(path + ": read error after line " + std::to_string(line_no));
  if (data.size() == 0) {
    return InvalidArgument(path + (first ? ": no examples (the file is empty)"
                                         : ": no examples (only a header line)"));
  }
  data.num_classes = static_cast<int32_t>(std::max<int64_t>(max_label + 1, 2));
  return data;
}

}  // namespace hearsay
