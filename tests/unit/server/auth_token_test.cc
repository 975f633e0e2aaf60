// API tokens and users through the API.
#include <gtest/gtest.h>

#include "auth_test_support.h"

namespace tether::server::test {
namespace {

constexpr const char* kPassword = "a long enough password";

class AuthTokenTest : public AuthTest {
 protected:
  void SetUp() override {
    AuthTest::SetUp();
    add_tenant("acme");
    add_tenant("beta");
    add_user("root", kPassword);
    add_user("bob", kPassword, "tenant-admin", "acme");
    root_ = login("root", kPassword);
    bob_ = login("bob", kPassword);
  }

  Response create_token(const Session& s, json::object body) {
    return send(on_session(s, http::verb::post, "/v1/tokens", json::serialize(body)));
  }
  // The token's secret form, from a creation that must succeed.
  std::string new_token(const Session& s, json::object body) {
    Response res = create_token(s, std::move(body));
    EXPECT_EQ(res.result(), http::status::created) << res.body();
    return text(body_of(res), "token");
  }
  json::array listed(const Session& s) {
    Response res = send(on_session(s, http::verb::get, "/v1/tokens"));
    EXPECT_EQ(res.result(), http::status::ok) << res.body();
    auto body = body_of(res);
    return body.contains("tokens") ? body.at("tokens").as_array() : json::array();
  }

  Session root_;
  Session bob_;
};

TEST_F(AuthTokenTest, TokenIsShownOnceAndAuthenticatesAsItsRole) {
  Response res =
      create_token(root_, {{"name", "ci"}, {"role", "operator"}, {"expires_in_days", 30}});
  ASSERT_EQ(res.result(), http::status::created) << res.body();
  auto body = body_of(res);
  std::string token = text(body, "token");
  std::string id = text(body, "id");
  ASSERT_EQ(token.rfind("tth_" + id + "_", 0), 0u) << token;
  EXPECT_EQ(token.size(), 4 + 16 + 1 + 43u);
  EXPECT_EQ(text(body, "expires_at"), format_rfc3339(now_ + 30 * 86400));
  EXPECT_EQ(text(body, "created_by"), "user:root");

  auto list = listed(root_);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_FALSE(list[0].as_object().contains("token"));
  EXPECT_EQ(json::serialize(list).find(token.substr(21)), std::string::npos) << "no secret listed";
  auto stored = store_->find_api_token(id);
  EXPECT_EQ((*stored)->secret_hash, sha256_hex(token.substr(21)));
  auto events = audit("token.create");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "user:root");
  EXPECT_EQ(events[0].identity, "token/" + id);
  EXPECT_EQ(events[0].detail.find(token.substr(21)), std::string::npos);

  // The token is a credential of its own, needing no CSRF token (it is not cookie-borne).
  Response users = send(
      with_token(token, http::verb::post, "/v1/users", R"({"name":"carol","role":"operator"})"));
  EXPECT_EQ(users.result(), http::status::created) << users.body();
  auto created = audit("user.create");
  EXPECT_EQ(created.front().actor, "token:" + id);
  auto me = body_of(send(with_token(token, http::verb::get, "/v1/me")));
  EXPECT_EQ(text(me, "via"), "api_token");
  EXPECT_FALSE(me.contains("csrf_token"));
}

TEST_F(AuthTokenTest, WrongSecretUnknownIdAndMalformedTokensAreUnauthenticated) {
  std::string token = new_token(root_, {{"name", "ci"}, {"role", "operator"}});
  std::string wrong = token;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  for (const std::string& t : {wrong, std::string("tth_0123456789abcdef_") + token.substr(21),
                               std::string("tth_short"), std::string("not-a-token")}) {
    Response res = send(with_token(t, http::verb::get, "/v1/tokens"));
    EXPECT_EQ(res.result(), http::status::unauthorized) << t;
    EXPECT_EQ(reason_of(res), "unauthenticated") << t;
  }
  Request basic = request(http::verb::get, "/v1/tokens");
  basic.set(http::field::authorization, "Basic cm9vdDpwdw==");
  EXPECT_EQ(reason_of(send(basic)), "unauthenticated");
}

TEST_F(AuthTokenTest, RevokedAndExpiredTokensAreRefused) {
  std::string token =
      new_token(root_, {{"name", "short"}, {"role", "operator"}, {"expires_in_days", 1}});
  std::string id = token.substr(4, 16);
  EXPECT_EQ(send(with_token(token, http::verb::get, "/v1/tokens")).result(), http::status::ok);
  now_ += 86400;
  Response expired = send(with_token(token, http::verb::get, "/v1/tokens"));
  EXPECT_EQ(expired.result(), http::status::unauthorized);
  EXPECT_NE(text(body_of(expired), "detail").find("expired"), std::string::npos);
  root_ = login("root", kPassword);  // the day outlived the session too
  EXPECT_EQ(text(listed(root_)[0].as_object(), "status"), "expired");

  std::string other = new_token(root_, {{"name", "revoke me"}, {"role", "operator"}});
  std::string other_id = other.substr(4, 16);
  Response revoked = send(on_session(root_, http::verb::delete_, "/v1/tokens/" + other_id));
  EXPECT_EQ(revoked.result(), http::status::no_content) << revoked.body();
  Response refused = send(with_token(other, http::verb::get, "/v1/tokens"));
  EXPECT_EQ(refused.result(), http::status::unauthorized);
  EXPECT_NE(text(body_of(refused), "detail").find("revoked"), std::string::npos);
  auto events = audit("token.revoke");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].identity, "token/" + other_id);
  Response missing = send(on_session(root_, http::verb::delete_, "/v1/tokens/0000000000000000"));
  EXPECT_EQ(missing.result(), http::status::not_found);
}

TEST_F(AuthTokenTest, TenantAdminCreatesOnlyItsOwnTenantAdminTokens) {
  Response op = create_token(bob_, {{"name", "x"}, {"role", "operator"}});
  EXPECT_EQ(op.result(), http::status::forbidden);
  EXPECT_EQ(reason_of(op), "forbidden");
  Response other =
      create_token(bob_, {{"name", "x"}, {"role", "tenant-admin"}, {"tenant", "beta"}});
  EXPECT_EQ(reason_of(other), "forbidden");

  Response own = create_token(bob_, {{"name", "deploy"}, {"role", "tenant-admin"}});
  ASSERT_EQ(own.result(), http::status::created) << own.body();
  EXPECT_EQ(text(body_of(own), "tenant"), "acme");
  std::string token = text(body_of(own), "token");
  auto principal =
      auth_->authenticate(with_token(token, http::verb::get, "/v1/me"), peer_, *store_, now_);
  ASSERT_TRUE(principal.ok());
  EXPECT_EQ(principal->role, Role::tenant_admin);
  EXPECT_EQ(principal->tenant, "acme");
  EXPECT_EQ(audit("token.create").size(), 1u) << "refused creations leave no event";
}

TEST_F(AuthTokenTest, TenantAdminSeesAndRevokesOnlyItsTenantsTokens) {
  new_token(root_, {{"name", "ops"}, {"role", "operator"}});
  std::string beta =
      new_token(root_, {{"name", "beta ci"}, {"role", "tenant-admin"}, {"tenant", "beta"}});
  new_token(root_, {{"name", "acme ci"}, {"role", "tenant-admin"}, {"tenant", "acme"}});

  auto mine = listed(bob_);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(text(mine[0].as_object(), "name"), "acme ci");
  EXPECT_EQ(listed(root_).size(), 3u);

  Response revoke = send(on_session(bob_, http::verb::delete_, "/v1/tokens/" + beta.substr(4, 16)));
  EXPECT_EQ(revoke.result(), http::status::not_found) << "another tenant's token is not there";
  EXPECT_EQ(send(with_token(beta, http::verb::get, "/v1/me")).result(), http::status::ok);
}

TEST_F(AuthTokenTest, TokenRequestsAreValidated) {
  Response no_tenant = create_token(root_, {{"name", "x"}, {"role", "tenant-admin"}});
  EXPECT_EQ(text(body_of(no_tenant), "field"), "body.tenant");
  Response unknown_tenant =
      create_token(root_, {{"name", "x"}, {"role", "tenant-admin"}, {"tenant", "gamma"}});
  EXPECT_EQ(unknown_tenant.result(), http::status::not_found);
  Response operator_tenant =
      create_token(root_, {{"name", "x"}, {"role", "operator"}, {"tenant", "acme"}});
  EXPECT_EQ(text(body_of(operator_tenant), "field"), "body.tenant");
  Response bad_role = create_token(root_, {{"name", "x"}, {"role", "root"}});
  EXPECT_EQ(text(body_of(bad_role), "field"), "body.role");
  Response too_long =
      create_token(root_, {{"name", "x"}, {"role", "operator"}, {"expires_in_days", 366}});
  EXPECT_EQ(text(body_of(too_long), "field"), "body.expires_in_days");
  Response extra = create_token(root_, {{"name", "x"}, {"role", "operator"}, {"scope", "all"}});
  EXPECT_EQ(text(body_of(extra), "field"), "body.scope");
}

TEST_F(AuthTokenTest, OperatorCreatesUsersWithAOneTimePassword) {
  Response res = send(on_session(root_, http::verb::post, "/v1/users",
                                 R"({"name":"dana","role":"tenant-admin","tenant":"beta"})"));
  ASSERT_EQ(res.result(), http::status::created) << res.body();
  auto body = body_of(res);
  std::string password = text(body, "password");
  EXPECT_GE(password.size(), 22u);
  EXPECT_EQ(body.at("password_change_required"), true);
  auto events = audit("user.create");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().actor, "user:root");
  EXPECT_EQ(events.front().detail.find(password), std::string::npos);

  Session dana = login("dana", password);
  EXPECT_EQ(dana.login.at("password_change_required"), true);
  EXPECT_EQ(text(dana.login, "tenant"), "beta");

  Response list = send(on_session(root_, http::verb::get, "/v1/users"));
  ASSERT_EQ(list.result(), http::status::ok);
  EXPECT_EQ(body_of(list).at("users").as_array().size(), 3u);
  EXPECT_EQ(list.body().find("argon2"), std::string::npos) << "no hash listed";

  Response dup = send(
      on_session(root_, http::verb::post, "/v1/users", R"({"name":"dana","role":"operator"})"));
  EXPECT_EQ(dup.result(), http::status::conflict);
  Response bad_name = send(on_session(root_, http::verb::post, "/v1/users",
                                      R"({"name":"Dana Smith","role":"operator"})"));
  EXPECT_EQ(text(body_of(bad_name), "field"), "body.name");
}

TEST_F(AuthTokenTest, TenantAdminCannotManageUsers) {
  Response create = send(on_session(bob_, http::verb::post, "/v1/users",
                                    R"({"name":"eve","role":"tenant-admin","tenant":"acme"})"));
  EXPECT_EQ(create.result(), http::status::forbidden);
  EXPECT_EQ(reason_of(create), "forbidden");
  Response list = send(on_session(bob_, http::verb::get, "/v1/users"));
  EXPECT_EQ(reason_of(list), "forbidden");
  EXPECT_FALSE(store_->find_user("eve")->has_value());
}

}  // namespace
}  // namespace tether::server::test
