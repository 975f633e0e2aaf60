// Errors as RFC 9457 problem details: every failure the API answers comes from the failure
// table (common/failures.def), whose code gives the status and the stable token.
//
//   {"type": "urn:tether:problem:invalid_id", "title": "Invalid id", "status": 400,
//    "detail": "tenant id 'Acme': ...", "reason": "invalid_id", "field": "tenant"}
//
// `type` is a URN rather than a URL: it names the failure and never has to resolve. `reason` is
// the same token the CLI, logs and metrics use; `field` is present when one input was wrong.
#pragma once

#include "common/error.h"
#include "server/http.h"

namespace tether::server {

inline constexpr std::string_view kProblemContentType = "application/problem+json";

Response problem_response(const Error& error);

// "invalid_id" -> "Invalid id".
std::string problem_title(Errc code);

}  // namespace tether::server
