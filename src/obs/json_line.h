// A one-line JSON object built by appending, for log lines written on every request: the same
// output a JSON serializer gives for string, integer, floating and boolean fields, without
// building a document first.
//
// Strings are escaped so that one value can never end the line or the object: quote,
// backslash and control characters are escaped, and bytes that are not valid UTF-8 are written
// as \u00XX, so the line stays valid JSON whatever a client sent.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/hex.h"

namespace tether::obs {

class JsonLine {
 public:
  JsonLine() { out_.reserve(384); }

  JsonLine& field(std::string_view name, std::string_view value) {
    key(name);
    string(value);
    return *this;
  }
  JsonLine& field(std::string_view name, const char* value) {
    return field(name, std::string_view(value));
  }
  JsonLine& field(std::string_view name, const std::string& value) {
    return field(name, std::string_view(value));
  }
  JsonLine& field(std::string_view name, bool value) {
    key(name);
    out_.append(value ? "true" : "false");
    return *this;
  }
  JsonLine& field(std::string_view name, int64_t value) {
    key(name);
    char buf[24];
    out_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
    return *this;
  }
  JsonLine& field(std::string_view name, uint64_t value) {
    key(name);
    char buf[24];
    out_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
    return *this;
  }
  JsonLine& field(std::string_view name, int value) { return field(name, int64_t{value}); }
  JsonLine& field(std::string_view name, double value) {
    key(name);
    char buf[32];
    out_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
    return *this;
  }

  std::string take() {
    out_ += '}';
    return std::move(out_);
  }

 private:
  void key(std::string_view name) {
    out_ += out_.empty() ? '{' : ',';
    string(name);
    out_ += ':';
  }

  void escaped_byte(unsigned char c) {
    out_.append("\\u00");
    hex::append_byte(out_, c);
  }

  // Length of the valid UTF-8 sequence starting at s[i] (RFC 3629), or 0.
  static size_t utf8_length(std::string_view s, size_t i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xc0) == 0x80; };
    unsigned char c = byte(i);
    if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
      if (!cont(i + 1) || !cont(i + 2)) return 0;
      if (c == 0xe0 && byte(i + 1) < 0xa0) return 0;  // overlong
      if (c == 0xed && byte(i + 1) > 0x9f) return 0;  // surrogates
      return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
      if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
      if (c == 0xf0 && byte(i + 1) < 0x90) return 0;  // overlong
      if (c == 0xf4 && byte(i + 1) > 0x8f) return 0;  // above U+10FFFF
      return 4;
    }
    return 0;
  }

  void string(std::string_view s) {
    out_ += '"';
    for (size_t i = 0; i < s.size();) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += static_cast<char>(c);
        ++i;
      } else if (c < 0x20 || c == 0x7f) {
        escaped_byte(c);
        ++i;
      } else if (c < 0x80) {
        out_ += static_cast<char>(c);
        ++i;
      } else if (size_t n = utf8_length(s, i); n > 0) {
        out_.append(s.substr(i, n));
        i += n;
      } else {
        escaped_byte(c);
        ++i;
      }
    }
    out_ += '"';
  }

  std::string out_;
};

}  // namespace tether::obs
