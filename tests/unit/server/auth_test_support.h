// What the auth tests share: a fresh SQLite store in a temporary directory, an AuthService with
// cheap Argon2 parameters, and requests dispatched through a Router the way the API server
// does it (authenticate, then the route's access rule, then the handler; errors as problems).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/time_format.h"
#include "server/auth/auth_service.h"
#include "server/auth/secrets.h"
#include "server/problem.h"
#include "server/router.h"
#include "store/open.h"

namespace tether::server::test {

namespace json = boost::json;

class AuthTest : public ::testing::Test {
 protected:
  static constexpr int64_t kStart = 1'800'000'000;

  void SetUp() override {
    static std::atomic<int> next{0};
    dir_ =
        std::filesystem::temp_directory_path() / ("tether-auth-test-" + std::to_string(::getpid()) +
                                                  "-" + std::to_string(next.fetch_add(1)));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto opened = store::open((dir_ / "tether.db").string(), {.create = true});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    AuthSettings settings;
    settings.password_hash = Argon2Params::insecure_for_tests();
    auto created = AuthService::create(settings);
    ASSERT_TRUE(created.ok()) << created.error().message;
    auth_ = std::move(created).value();
    router_.add(auth_->routes());
    now_ = kStart;
  }
  void TearDown() override {
    router_ = Router();
    auth_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static Request request(http::verb method, std::string target, std::string body = "") {
    Request req{method, target, 11};
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = std::move(body);
    }
    req.prepare_payload();
    return req;
  }

  // Dispatches as the server does.
  Response send(const Request& req, const Peer& peer) {
    std::string_view target = req.target();
    auto match = router_.find(req.method(), target.substr(0, target.find('?')));
    if (!match) return problem_response(match.error());
    ApiContext ctx{req, peer, std::nullopt, match->params, *store_, now_};
    if (match->route->access != Access::public_access) {
      auto principal = auth_->authenticate(req, peer, *store_, now_);
      if (!principal) return problem_response(principal.error());
      if (match->route->access == Access::authenticated && principal->password_change_required) {
        return problem_response(make_error(Errc::password_change_required, "change it first"));
      }
      ctx.principal = std::move(principal).value();
    }
    auto res = match->route->handler(ctx);
    if (!res) return problem_response(res.error());
    return std::move(res).value();
  }
  Response send(const Request& req) { return send(req, peer_); }

  static json::object body_of(const Response& res) {
    boost::system::error_code ec;
    json::value v = json::parse(res.body(), ec);
    if (ec || !v.is_object()) return {};
    return v.as_object();
  }
  static std::string reason_of(const Response& res) {
    auto body = body_of(res);
    auto* r = body.if_contains("reason");
    return r != nullptr && r->is_string() ? std::string(r->as_string()) : "";
  }
  static std::string text(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
  }

  // A logged-in session: its cookie value and CSRF token.
  struct Session {
    std::string id;
    std::string csrf;
    json::object login;
  };

  Response login_response(const std::string& user, const std::string& password) {
    json::object body{{"user", user}, {"password", password}};
    return send(request(http::verb::post, "/v1/login", json::serialize(body)));
  }

  Session login(const std::string& user, const std::string& password) {
    Response res = login_response(user, password);
    EXPECT_EQ(res.result(), http::status::ok) << res.body();
    Session s;
    std::string cookie(res[http::field::set_cookie]);
    std::string prefix = std::string(kSessionCookie) + "=";
    if (cookie.rfind(prefix, 0) == 0)
      s.id = cookie.substr(prefix.size(), cookie.find(';') - prefix.size());
    s.login = body_of(res);
    s.csrf = text(s.login, "csrf_token");
    return s;
  }

  // A request on a session; state-changing ones carry its CSRF token.
  static Request on_session(const Session& s, http::verb method, std::string target,
                            std::string body = "") {
    Request req = request(method, std::move(target), std::move(body));
    req.set(http::field::cookie, "theme=dark; " + std::string(kSessionCookie) + "=" + s.id);
    if (method != http::verb::get) req.set(kCsrfHeader, s.csrf);
    return req;
  }
  static Request with_token(const std::string& token, http::verb method, std::string target,
                            std::string body = "") {
    Request req = request(method, std::move(target), std::move(body));
    req.set(http::field::authorization, "Bearer " + token);
    return req;
  }

  // Creates a user with a known password (through the store, bypassing the API).
  void add_user(const std::string& name, const std::string& password,
                const std::string& role = "operator", const std::string& tenant = "",
                bool must_change = false) {
    auto hasher = PasswordHasher::create(Argon2Params::insecure_for_tests());
    ASSERT_TRUE(hasher.ok());
    auto hash = hasher->hash(password);
    ASSERT_TRUE(hash.ok());
    store::UserRecord u{name, *hash, role, tenant, must_change, now_, false};
    ASSERT_TRUE(store_->create_user(u, {now_, "test", "user.create", "user/" + name, "", ""}).ok());
  }
  void add_tenant(const std::string& id) {
    ASSERT_TRUE(
        store_->create_tenant({id, id, now_}, {now_, "test", "tenant.create", "", "", ""}).ok());
  }

  std::vector<store::AuditEvent> audit(const std::string& action) {
    std::vector<store::AuditEvent> out;
    auto all = store_->list_audit(1000);
    EXPECT_TRUE(all.ok());
    if (!all.ok()) return out;
    for (auto& e : *all) {
      if (e.action == action) out.push_back(e);
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AuthService> auth_;
  Router router_;
  Peer peer_{"192.0.2.10", std::nullopt, "", "", 0};
  int64_t now_ = 0;
};

}  // namespace tether::server::test
