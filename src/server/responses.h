// Building the API's successful responses, and reading its JSON request bodies.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "common/error.h"
#include "server/http.h"

namespace tether::server {

Response json_response(http::status status, const boost::json::value& body);
Response bytes_response(http::status status, std::string body, std::string_view content_type);
Response no_content();

// The request's body as a JSON object: Errc::unsupported_media_type unless the Content-Type is
// application/json, Errc::parse_error (field "body") when it is not a JSON object.
Result<boost::json::object> json_body(const Request& request);

// Reading one member of a JSON body; errors name the field ("body.name").
Result<std::string> required_string(const boost::json::object& body, std::string_view key);
Result<std::optional<std::string>> optional_string(const boost::json::object& body,
                                                   std::string_view key);
Result<std::optional<int64_t>> optional_int(const boost::json::object& body, std::string_view key);
// Fails naming the first member not in `known`: a misspelt option must not be ignored.
Status only_members(const boost::json::object& body, std::initializer_list<std::string_view> known);

}  // namespace tether::server
