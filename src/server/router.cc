#include "server/router.h"

#include <boost/url/parse.hpp>
#include <boost/url/parse_path.hpp>
#include <boost/url/url_view.hpp>

namespace tether::server {

namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Percent-decodes one path segment; nullopt when it is not valid percent-encoding or decodes to
// a '/', which would let one parameter stand for two segments.
std::optional<std::string> decode_segment(std::string_view segment) {
  auto parsed = boost::urls::parse_path(segment);
  if (!parsed || parsed->size() != 1) return std::nullopt;
  std::string decoded = (*parsed->begin()).decode();
  if (decoded.find('/') != std::string::npos) return std::nullopt;
  return decoded;
}

std::optional<std::vector<std::pair<std::string, std::string>>> match_pattern(
    std::string_view pattern, std::string_view path) {
  auto want = segments(pattern);
  auto got = segments(path);
  if (want.size() != got.size()) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> params;
  for (size_t i = 0; i < want.size(); ++i) {
    if (is_param(want[i])) {
      auto value = decode_segment(got[i]);
      if (!value) return std::nullopt;
      params.emplace_back(std::string(want[i].substr(1, want[i].size() - 2)), std::move(*value));
    } else if (want[i] != got[i]) {
      return std::nullopt;
    }
  }
  return params;
}

}  // namespace

const std::string& ApiContext::param(std::string_view name) const {
  static const std::string kNone;
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return kNone;
}

std::optional<std::string> ApiContext::query(std::string_view name) const {
  auto target = boost::urls::parse_origin_form(request.target());
  if (!target) return std::nullopt;
  auto params = target->params();
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return std::string((*it).value);
}

void Router::add(RouteSpec route) {
  routes_.push_back(std::move(route));
}

void Router::add(std::vector<RouteSpec> routes) {
  for (auto& r : routes) add(std::move(r));
}

Result<Router::Match> Router::find(http::verb method, std::string_view path) const {
  bool path_known = false;
  for (const auto& route : routes_) {
    auto params = match_pattern(route.pattern, path);
    if (!params) continue;
    path_known = true;
    if (route.method == method) return Match{&route, std::move(*params)};
  }
  if (path_known) {
    return make_error(Errc::method_not_allowed, "this path allows " + allowed_methods(path) +
                                                    ", not " +
                                                    std::string(http::to_string(method)));
  }
  return make_error(Errc::not_found, "no API path '" + std::string(path) +
                                         "': the API is described at /v1/openapi.json");
}

std::string Router::allowed_methods(std::string_view path) const {
  std::string out;
  for (const auto& route : routes_) {
    if (!match_pattern(route.pattern, path)) continue;
    std::string name(http::to_string(route.method));
    if (out.find(name) != std::string::npos) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace tether::server
