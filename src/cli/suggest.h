// "Did you mean": the registered name closest to what was typed. CLI11 2.1 (Debian 12) has no
// suggestion hook, so the CLI computes it from the names it registered.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::cli {

// Edit distance: insertions, deletions, substitutions and swaps of two neighbours each cost 1
// (optimal string alignment), so "lsit" is one edit from "list".
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `typed`, if it is near enough to be a likely typo: at most 2 edits,
// and fewer edits than half the typed length (so "x" does not suggest "id"). Ties go to the
// first candidate.
std::optional<std::string> closest_name(std::string_view typed,
                                        const std::vector<std::string>& candidates);

}  // namespace tether::cli
