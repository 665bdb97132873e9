// CSV as RFC 4180 writes it: fields separated by commas, rows ended by CRLF-free "\n" (RFC 4180
// allows either in practice; Python's csv module and spreadsheets read both), and a field quoted
// with '"' when it holds a comma, a quote, a CR or LF, or leading/trailing spaces, with each
// quote doubled. A codec spec such as `then(randk:0.5, natural)` is therefore one field.
//
// ParseCsv reads what CsvRow writes (and any RFC 4180 text): quoted fields may hold commas,
// doubled quotes and newlines. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hearsay {

// One field, quoted when needed.
std::string CsvField(std::string_view text);
// Fields joined by commas, ending in '\n'.
std::string CsvRow(const std::vector<std::string>& fields);

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as long as the header
  // Column index of `name`, or -1.
  int Column(std::string_view name) const;
};

// Parses CSV text whose first row is the header; `source` names it in errors (an unterminated
// quote, a row with a different field count).
Result<CsvTable> ParseCsv(std::string_view text, const std::string& source);

}  // namespace hearsay
