// "Did you mean ...?" for misspelt names: keys of YAML files, enum values, subcommands and flags.
//
// ClosestMatch returns the candidate with the smallest edit distance (Damerau: insertions,
// deletions, substitutions and swaps of adjacent characters, case-insensitive) when that
// distance is small for the word's length (at most 1 for words of up to 4 characters, 2 up to
// 8, 3 beyond), so a suggestion is made only when it is likely what the user meant.
// DidYouMean wraps it as the tail of an error message: "; did you mean 'launch'?" or "".
// Header-only so every layer (topology, runtime, apps) can use it without a link dependency.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace hearsay {

// Optimal-string-alignment distance between a and b, ignoring ASCII case.
inline int EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1, 0));
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const int cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

// The likely intended candidate, or "" when none is close enough.
inline std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  const size_t len = word.size();
  const int limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
  std::string best;
  int best_distance = limit + 1;
  for (const std::string& c : candidates) {
    const int d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

// "; did you mean 'x'?" or "".
inline std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string best = ClosestMatch(word, candidates);
  return best.empty() || best == word ? std::string() : "; did you mean '" + best + "'?";
}

}  // namespace hearsay
