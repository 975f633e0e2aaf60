// The API's routes: a method and a path pattern ("/v1/tenants/{tenant}") to a handler, with the
// credential the route needs. Matching is by whole segments; a parameter matches one segment.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "server/auth/principal.h"
#include "server/http.h"
#include "store/store.h"

namespace tether::server {

// Which credential a route needs.
enum class Access {
  // Anyone: /ca.pem, /crl, the OpenAPI document, login.
  public_access,
  // A valid credential whose user has no pending password change.
  authenticated,
  // A valid credential, also one whose one-time password is still to be changed: changing it,
  // logging out, asking who one is.
  authenticated_pending_password,
};

// Everything a handler gets for one request.
struct ApiContext {
  const Request& request;
  const Peer& peer;
  // Set for every route whose access is not public.
  std::optional<Principal> principal;
  // The path's parameters, by the names in the pattern, percent-decoded.
  std::vector<std::pair<std::string, std::string>> params;
  // A store handle for this request's thread (store handles are per thread).
  store::Store& store;
  int64_t now = 0;

  // The parameter `name`; empty when the pattern has none by that name.
  const std::string& param(std::string_view name) const;
  // The request's query parameter `name` (percent-decoded), if present.
  std::optional<std::string> query(std::string_view name) const;
};

// A handler answers with a response, or with an error the server turns into problem details.
using Handler = std::function<Result<Response>(ApiContext&)>;

struct RouteSpec {
  http::verb method;
  std::string pattern;
  Access access = Access::authenticated;
  Handler handler;
};

class Router {
 public:
  void add(RouteSpec route);
  void add(std::vector<RouteSpec> routes);

  struct Match {
    const RouteSpec* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
  };
  // The route for a request: Errc::not_found when no pattern matches the path,
  // Errc::method_not_allowed (message lists the allowed methods) when one does for other
  // methods. `path` excludes the query.
  Result<Match> find(http::verb method, std::string_view path) const;
  // "GET, POST": the methods some route allows on `path` (the Allow header of a 405).
  std::string allowed_methods(std::string_view path) const;

  const std::vector<RouteSpec>& routes() const { return routes_; }

 private:
  std::vector<RouteSpec> routes_;
};

}  // namespace tether::server
