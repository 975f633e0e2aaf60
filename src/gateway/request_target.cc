#include "gateway/request_target.h"

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

#include "common/quote.h"

namespace tether::gateway {

namespace urls = boost::urls;

namespace {

Error bad_target(std::string_view target, std::string_view why) {
  return make_error(Errc::invalid_argument,
                    "request target " + quote_value(target, '"') + " " + std::string(why));
}

bool has_control(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// A dot segment as a server that strips path parameters (";jsessionid=...", Tomcat and other
// Java servers) would read it: "..;x" is "..".
bool is_dot_segment(std::string_view decoded) {
  std::string_view name = decoded.substr(0, decoded.find(';'));
  return name == "." || name == "..";
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

Result<RequestTarget> parse_request_target(std::string_view target) {
  if (!target.starts_with('/')) {
    return bad_target(target, "is not a path: send origin-form (\"/path?query\")");
  }
  auto parsed = urls::parse_origin_form(target);
  if (!parsed) {
    return bad_target(target,
                      "is not a valid URI path and query (RFC 3986): percent-encode spaces, "
                      "'\\', '#' and other characters outside the URI syntax, and write '%' only "
                      "before two hex digits");
  }
  urls::url_view url = *parsed;
  RequestTarget out;
  // The segments are split here rather than taken from url.encoded_segments(), which hides a
  // leading "/." (Boost.URL's own prefix for paths like "/.//x"): every segment the upstream
  // will see must pass the checks below.
  std::string_view path = url.encoded_path();
  path.remove_prefix(1);  // the leading '/'
  while (true) {
    size_t slash = path.find('/');
    bool last = slash == std::string_view::npos;
    std::string_view raw = path.substr(0, slash);
    // Percent-encoding was validated by the parse above.
    std::string decoded = urls::make_pct_string_view(raw).value().decode();
    if (decoded.empty()) {
      // "/a//b" is "/a/b"; a trailing "/" stays, since "/a/" and "/a" may differ upstream.
      if (last && !out.path.empty()) {
        out.path += '/';
        out.forward += '/';
      }
    } else if (decoded.find_first_of("/\\") != std::string::npos) {
      return bad_target(target, "has an encoded '/' or '\\' in the segment " +
                                    quote_value(raw, '"') + ": send path separators unencoded");
    } else if (has_control(decoded)) {
      return bad_target(target, "has a control character in the segment " + quote_value(raw, '"'));
    } else if (is_dot_segment(decoded)) {
      return bad_target(target, "has the dot segment " + quote_value(raw, '"') +
                                    ": resolve '.' and '..' before sending (RFC 3986 5.2.4)");
    } else {
      out.path += '/';
      out.path += decoded;
      out.forward += '/';
      out.forward += urls::encode(decoded, urls::pchars);
    }
    if (last) break;
    path.remove_prefix(slash + 1);
  }
  if (out.path.empty()) {
    out.path = "/";
    out.forward = "/";
  }
  if (url.has_query()) {
    out.forward += '?';
    out.forward += std::string_view(url.encoded_query());
  }
  return out;
}

Result<HostHeader> parse_host_header(std::string_view value) {
  auto fail = [&](std::string_view why) {
    return make_error(Errc::invalid_argument,
                      "Host header " + quote_value(value, '"') + " " + std::string(why));
  };
  if (value.empty()) return fail("is empty: name the host the request is for");
  auto parsed = urls::parse_authority(value);
  if (!parsed) return fail("is not a host with an optional port (RFC 9110 7.2)");
  urls::authority_view authority = *parsed;
  if (authority.has_userinfo()) return fail("carries user information: send the host alone");
  HostHeader out;
  switch (authority.host_type()) {
    case urls::host_type::name: {
      std::string_view name = authority.encoded_host();
      if (name.find('%') != std::string_view::npos) return fail("has a percent-encoded host name");
      for (char c : name) out.host += lower(c);
      if (out.host.ends_with('.')) out.host.pop_back();
      if (out.host.empty()) return fail("names no host");
      if (out.host.starts_with('.') || out.host.ends_with('.') ||
          out.host.find("..") != std::string::npos) {
        return fail("has an empty label in its host name");
      }
      out.value = out.host;
      break;
    }
    case urls::host_type::ipv4:
      out.host = authority.host_address();
      out.value = out.host;
      break;
    case urls::host_type::ipv6:
      out.host = authority.host_address();
      out.value = "[" + out.host + "]";
      break;
    default:
      return fail("names an address format this gateway does not route (IPvFuture)");
  }
  if (authority.has_port()) {
    std::string_view digits = authority.port();
    unsigned port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty()) {
      // "host:" is allowed by the URI syntax and means no port (RFC 3986 3.2.3).
    } else if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 ||
               port > 65535) {
      return fail("has a port outside 1..65535");
    } else {
      out.port = static_cast<uint16_t>(port);
      out.value += ":" + std::to_string(port);
    }
  }
  return out;
}

}  // namespace tether::gateway
