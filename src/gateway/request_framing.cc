#include "gateway/request_framing.h"

#include <boost/beast/core/string.hpp>
#include <string_view>
#include <vector>

#include "common/quote.h"

namespace tether::gateway {

namespace http = boost::beast::http;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The transfer codings of every Transfer-Encoding field, in order, without their parameters
// (RFC 9112 7: transfer-coding = token *( OWS ";" OWS transfer-parameter )). Empty list elements
// are skipped (RFC 9110 5.6.1).
std::vector<std::string_view> codings(const http::request_header<>& head, std::string& all) {
  for (auto it = head.find(http::field::transfer_encoding);
       it != head.end() && it->name() == http::field::transfer_encoding; ++it) {
    if (!all.empty()) all += ", ";
    all += it->value();
  }
  std::vector<std::string_view> out;
  std::string_view rest = all;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view element = rest.substr(0, comma);
    element = trim(element.substr(0, element.find(';')));
    if (!element.empty()) out.push_back(element);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::optional<FramingRefusal> check_request_framing(const http::request_header<>& head) {
  if (head.find(http::field::transfer_encoding) == head.end()) return std::nullopt;
  std::string value;
  std::vector<std::string_view> list = codings(head, value);
  std::string quoted = quote_value(value, '"');
  if (head.version() < 11) {
    return FramingRefusal{Errc::bad_request,
                          "Transfer-Encoding " + quoted +
                              " in an HTTP/1.0 request: its framing is faulty (RFC 9112 "
                              "6.1); send Content-Length"};
  }
  if (list.empty() || !boost::beast::iequals(list.back(), "chunked")) {
    return FramingRefusal{Errc::bad_request,
                          "Transfer-Encoding " + quoted +
                              " does not end in chunked, so the body's length is unknown "
                              "(RFC 9112 6.3): send \"Transfer-Encoding: chunked\" or "
                              "Content-Length"};
  }
  for (size_t i = 0; i + 1 < list.size(); ++i) {
    if (boost::beast::iequals(list[i], "chunked")) {
      return FramingRefusal{Errc::bad_request, "Transfer-Encoding " + quoted +
                                                   " applies chunked more than once (RFC 9112 7)"};
    }
  }
  if (list.size() > 1) {
    return FramingRefusal{Errc::not_implemented,
                          "Transfer-Encoding " + quoted + " uses the coding " +
                              quote_value(list.front(), '"') +
                              ", which this gateway does not implement: send the body "
                              "with chunked alone"};
  }
  return std::nullopt;
}

}  // namespace tether::gateway
