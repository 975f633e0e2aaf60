// Host names as LDH labels (RFC 1034 3.5, RFC 5890 2.3.1): the one check the config, the
// verifier's name rules and the identity scheme share.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tether {

// Whether upper-case letters are allowed. Names tether stores and compares (trust domains,
// route hosts) are lowercase; names inside certificates are compared without regard to case.
enum class LetterCase { any, lower_only };

// A label of 1-63 letters, digits and '-', neither starting nor ending with '-'.
bool is_ldh_label(std::string_view label, LetterCase letters);

// What is wrong with `name` as a host name of LDH labels ("is empty", "has a label starting or
// ending with '-'", ...), or nothing when it is one: at most 253 characters, no empty label.
std::optional<std::string> ldh_name_problem(std::string_view name, LetterCase letters);

inline bool is_ldh_name(std::string_view name, LetterCase letters) {
  return !ldh_name_problem(name, letters).has_value();
}

// The number of labels of a name ("a.b.c": 3).
size_t label_count(std::string_view name);

}  // namespace tether
