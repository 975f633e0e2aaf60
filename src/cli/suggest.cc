#include "cli/suggest.h"

#include <algorithm>

namespace tether::cli {

namespace {
constexpr size_t kMaxSuggestionEdits = 2;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment over the full table: names are short.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string> closest_name(std::string_view typed,
                                        const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = kMaxSuggestionEdits + 1;
  for (const auto& candidate : candidates) {
    size_t d = edit_distance(typed, candidate);
    if (d < best_distance && d * 2 < typed.size()) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace tether::cli
