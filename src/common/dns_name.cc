#include "common/dns_name.h"

#include "common/quote.h"

namespace tether {

namespace {

bool ldh_char(char c, LetterCase letters) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') return true;
  return letters == LetterCase::any && c >= 'A' && c <= 'Z';
}

}  // namespace

bool is_ldh_label(std::string_view label, LetterCase letters) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!ldh_char(c, letters)) return false;
  }
  return true;
}

std::optional<std::string> ldh_name_problem(std::string_view name, LetterCase letters) {
  if (name.empty()) return "is empty";
  if (name.size() > 253) return "is longer than 253 characters";
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return "has an empty or over-long label";
    for (char c : label) {
      if (!ldh_char(c, letters)) return "contains " + quote_value(std::string_view(&c, 1), '\'');
    }
    if (label.front() == '-' || label.back() == '-') {
      return "has a label starting or ending with '-'";
    }
    if (dot == std::string_view::npos) return std::nullopt;
    start = dot + 1;
  }
}

size_t label_count(std::string_view name) {
  size_t n = 1;
  for (char c : name) n += c == '.' ? 1 : 0;
  return n;
}

}  // namespace tether
