// The API's reading of untrusted requests: the router on an arbitrary path (segments,
// percent-decoding of parameters) and a JSON body read the way the handlers read it. Checks
// that a matched parameter never holds a '/' (one parameter cannot stand for two segments) and
// that every refusal is an error with a code and a message, never a crash.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"
#include "server/responses.h"
#include "server/router.h"

using namespace tether;
using namespace tether::server;

namespace {

const Router& router() {
  static const Router r = [] {
    Router made;
    auto none = [](ApiContext&) -> Result<Response> { return no_content(); };
    made.add({http::verb::get, "/v1/tenants", Access::authenticated, none});
    made.add({http::verb::post, "/v1/tenants/{tenant}/connectors", Access::authenticated, none});
    made.add(
        {http::verb::get, "/v1/tenants/{tenant}/connectors/{id}", Access::authenticated, none});
    made.add({http::verb::get, "/v1/certificates/{serial}/pem", Access::authenticated, none});
    return made;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = fuzz::as_view(data, size);
  size_t split = input.find('\n');
  std::string_view path = input.substr(0, split);
  std::string_view body = split == std::string_view::npos ? "" : input.substr(split + 1);

  for (auto verb : {http::verb::get, http::verb::post}) {
    auto found = router().find(verb, path);
    if (found) {
      for (const auto& [name, value] : found->params) {
        fuzz::require(value.find('/') == std::string::npos, "a parameter holds a '/'");
        fuzz::require(!name.empty(), "a parameter without a name");
      }
    } else {
      fuzz::require(!found.error().message.empty(), "a refusal without a message");
    }
  }

  Request request{http::verb::post, "/v1/tenants", 11};
  request.set(http::field::content_type, "application/json");
  request.body() = std::string(body);
  auto parsed = json_body(request);
  if (!parsed) {
    fuzz::require(!parsed.error().field.empty(), "a body refusal names no field");
    return 0;
  }
  (void)only_members(*parsed, {"id", "name", "days"});
  (void)required_string(*parsed, "id");
  (void)optional_string(*parsed, "name");
  (void)optional_int(*parsed, "days");
  return 0;
}
