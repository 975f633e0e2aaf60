#include "server/responses.h"

#include <boost/json.hpp>

namespace tether::server {

namespace json = boost::json;

Response json_response(http::status status, const json::value& body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = json::serialize(body);
  return res;
}

Response bytes_response(http::status status, std::string body, std::string_view content_type) {
  Response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

Response no_content() {
  return Response{http::status::no_content, 11};
}

Result<json::object> json_body(const Request& request) {
  std::string_view type = request[http::field::content_type];
  std::string_view media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media != "application/json") {
    return make_field_error(Errc::unsupported_media_type, "Content-Type",
                            "Content-Type '" + std::string(type) +
                                "' is not accepted here: send the body as application/json");
  }
  boost::system::error_code ec;
  json::value value = json::parse(request.body(), ec);
  if (ec) {
    return make_field_error(Errc::parse_error, "body",
                            "the body is not valid JSON (" + ec.message() + ")");
  }
  if (!value.is_object()) {
    return make_field_error(Errc::parse_error, "body", "the body must be a JSON object");
  }
  return std::move(value.as_object());
}

namespace {
std::string field_name(std::string_view key) {
  return "body." + std::string(key);
}
}  // namespace

Result<std::optional<std::string>> optional_string(const json::object& body, std::string_view key) {
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) {
    return make_field_error(Errc::invalid_argument, field_name(key),
                            "'" + std::string(key) + "' must be a string");
  }
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::string> required_string(const json::object& body, std::string_view key) {
  TETHER_ASSIGN_OR_RETURN(auto value, optional_string(body, key));
  if (!value || value->empty()) {
    return make_field_error(Errc::invalid_argument, field_name(key),
                            "'" + std::string(key) + "' is required");
  }
  return std::move(*value);
}

Result<std::optional<int64_t>> optional_int(const json::object& body, std::string_view key) {
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->as_int64());
  if (v->is_uint64() && v->as_uint64() <= uint64_t(INT64_MAX)) {
    return std::optional<int64_t>(int64_t(v->as_uint64()));
  }
  return make_field_error(Errc::invalid_argument, field_name(key),
                          "'" + std::string(key) + "' must be an integer");
}

Status only_members(const json::object& body, std::initializer_list<std::string_view> known) {
  for (const auto& member : body) {
    bool found = false;
    for (auto k : known) found = found || member.key() == k;
    if (!found) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return make_field_error(
          Errc::invalid_argument, field_name(member.key()),
          "unknown member '" + std::string(member.key()) + "': this request takes " + list);
    }
  }
  return ok_status();
}

}  // namespace tether::server
