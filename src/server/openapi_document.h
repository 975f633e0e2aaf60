// The OpenAPI 3.1 document of the API (src/server/openapi.json), built into the binary and
// served at /v1/openapi.json.
#pragma once

#include <string_view>

namespace tether::server {
extern const std::string_view kOpenApiDocument;
}
