#include "server/problem.h"

#include <boost/json.hpp>

namespace tether::server {

std::string problem_title(Errc code) {
  std::string title(errc_reason(code));
  for (char& c : title) {
    if (c == '_') c = ' ';
  }
  if (!title.empty() && title[0] >= 'a' && title[0] <= 'z') title[0] = char(title[0] - 'a' + 'A');
  return title;
}

Response problem_response(const Error& error) {
  int status = http_status(error.code);
  boost::json::object body{
      {"type", "urn:tether:problem:" + std::string(errc_reason(error.code))},
      {"title", problem_title(error.code)},
      {"status", status},
      {"detail", error.message},
      {"reason", errc_reason(error.code)},
  };
  if (!error.field.empty()) body["field"] = error.field;
  Response res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, kProblemContentType);
  res.body() = boost::json::serialize(body);
  return res;
}

}  // namespace tether::server
