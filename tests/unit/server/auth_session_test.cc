// Bootstrap, login, lockout, sessions, CSRF, password change, admin certificates.
#include <gtest/gtest.h>

#include "auth_test_support.h"

namespace tether::server::test {
namespace {

constexpr const char* kPassword = "a long enough password";

TEST_F(AuthTest, BootstrapCreatesOneOperatorOnce) {
  auto first = auth_->bootstrap_operator(*store_, now_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(first->has_value());
  EXPECT_GE((*first)->size(), 22u) << "at least 128 bits in base64url";
  auto admin = store_->find_user("admin");
  ASSERT_TRUE(admin->has_value());
  EXPECT_EQ((*admin)->role, "operator");
  EXPECT_TRUE((*admin)->must_change_password);
  EXPECT_EQ((*admin)->password_hash.find(**first), std::string::npos);
  auto events = audit("user.create");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "server");
  EXPECT_EQ(events[0].identity, "user/admin");
  EXPECT_EQ(events[0].detail.find(**first), std::string::npos) << "no secret in the audit log";

  auto second = auth_->bootstrap_operator(*store_, now_);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value());
  EXPECT_EQ(audit("user.create").size(), 1u);

  // The one-time password logs in, and the session must change it first.
  Session s = login("admin", **first);
  EXPECT_EQ(s.login.at("password_change_required"), true);
  Response tokens = send(on_session(s, http::verb::get, "/v1/tokens"));
  EXPECT_EQ(tokens.result(), http::status::forbidden);
  EXPECT_EQ(reason_of(tokens), "password_change_required");
  Response me = send(on_session(s, http::verb::get, "/v1/me"));
  EXPECT_EQ(me.result(), http::status::ok) << me.body();
}

TEST_F(AuthTest, LoginSetsAStrictCookieAndAnswersWhoLoggedIn) {
  add_tenant("acme");
  add_user("bob", kPassword, "tenant-admin", "acme");
  Response res = login_response("bob", kPassword);
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  std::string cookie(res[http::field::set_cookie]);
  EXPECT_EQ(cookie.rfind("tether_session=", 0), 0u) << cookie;
  for (const char* attr : {"; Path=/", "; HttpOnly", "; Secure", "; SameSite=Strict"}) {
    EXPECT_NE(cookie.find(attr), std::string::npos) << attr << " missing in " << cookie;
  }
  auto body = body_of(res);
  EXPECT_EQ(text(body, "user"), "bob");
  EXPECT_EQ(text(body, "role"), "tenant-admin");
  EXPECT_EQ(text(body, "tenant"), "acme");
  EXPECT_EQ(body.at("password_change_required"), false);
  EXPECT_FALSE(text(body, "csrf_token").empty());
  auto events = audit("user.login");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "user:bob");

  std::string session_id = cookie.substr(15, cookie.find(';') - 15);
  auto stored = store_->find_session(sha256_hex(session_id));
  ASSERT_TRUE(stored->has_value()) << "the store keeps the id's SHA-256";
  EXPECT_FALSE(store_->find_session(session_id)->has_value());
}

TEST_F(AuthTest, WrongPasswordAndUnknownUserGetTheSameGenericAnswer) {
  add_user("alice", kPassword);
  Response wrong = login_response("alice", "not the password");
  Response unknown = login_response("nobody", kPassword);
  EXPECT_EQ(wrong.result(), http::status::unauthorized);
  EXPECT_EQ(unknown.result(), http::status::unauthorized);
  EXPECT_EQ(reason_of(wrong), "unauthenticated");
  EXPECT_EQ(body_of(wrong).at("detail"), body_of(unknown).at("detail"));
  EXPECT_TRUE(wrong[http::field::set_cookie].empty());
}

TEST_F(AuthTest, TenFailuresLockTheUserEvenAgainstTheRightPassword) {
  add_user("alice", kPassword);
  for (int i = 0; i < 10; ++i) {
    now_ += 10;
    Peer other{"198.51.100." + std::to_string(i), std::nullopt, "", "", 0};
    json::object body{{"user", "alice"}, {"password", "guess " + std::to_string(i)}};
    Response res = send(request(http::verb::post, "/v1/login", json::serialize(body)), other);
    ASSERT_EQ(res.result(), http::status::unauthorized) << "attempt " << i << ": " << res.body();
  }
  now_ += 10;
  Response locked = login_response("alice", kPassword);
  EXPECT_EQ(locked.result(), http::status::too_many_requests) << locked.body();
  EXPECT_EQ(reason_of(locked), "too_many_attempts");
  EXPECT_TRUE(locked[http::field::set_cookie].empty());
  // The first failure was at kStart + 10; it stops counting 15 minutes later.
  int64_t retry = std::stoll(std::string(locked[http::field::retry_after]));
  EXPECT_EQ(retry, kStart + 10 + 15 * 60 - now_);
  EXPECT_NE(text(body_of(locked), "detail").find("try again after"), std::string::npos);

  now_ += retry;
  Response after = login_response("alice", kPassword);
  EXPECT_EQ(after.result(), http::status::ok) << after.body();
}

TEST_F(AuthTest, TenFailuresFromOneAddressLockItForEveryUser) {
  add_user("alice", kPassword);
  for (int i = 0; i < 10; ++i) {
    Response res = login_response("user" + std::to_string(i), "guess");
    ASSERT_EQ(res.result(), http::status::unauthorized) << res.body();
  }
  Response same_address = login_response("alice", kPassword);
  EXPECT_EQ(same_address.result(), http::status::too_many_requests);
  EXPECT_EQ(reason_of(same_address), "too_many_attempts");
  Peer elsewhere{"203.0.113.7", std::nullopt, "", "", 0};
  json::object body{{"user", "alice"}, {"password", kPassword}};
  Response other_address =
      send(request(http::verb::post, "/v1/login", json::serialize(body)), elsewhere);
  EXPECT_EQ(other_address.result(), http::status::ok) << other_address.body();
}

TEST_F(AuthTest, SessionExpiresWhenIdle) {
  add_user("alice", kPassword);
  Session s = login("alice", kPassword);
  now_ += 29 * 60;
  EXPECT_EQ(send(on_session(s, http::verb::get, "/v1/me")).result(), http::status::ok);
  // That use counts: 29 more minutes are still within the idle timeout.
  now_ += 29 * 60;
  EXPECT_EQ(send(on_session(s, http::verb::get, "/v1/me")).result(), http::status::ok);
  now_ += 30 * 60;
  Response idle = send(on_session(s, http::verb::get, "/v1/me"));
  EXPECT_EQ(idle.result(), http::status::unauthorized);
  EXPECT_NE(text(body_of(idle), "detail").find("without use"), std::string::npos) << idle.body();
}

TEST_F(AuthTest, SessionUseIsWrittenAtMostOnceAMinute) {
  add_user("alice", kPassword);
  Session s = login("alice", kPassword);
  auto last_used = [&] { return (*store_->find_session(sha256_hex(s.id)))->last_used_at; };
  now_ += 59;
  ASSERT_EQ(send(on_session(s, http::verb::get, "/v1/me")).result(), http::status::ok);
  EXPECT_EQ(last_used(), kStart) << "within a minute of the last write";
  now_ += 1;
  ASSERT_EQ(send(on_session(s, http::verb::get, "/v1/me")).result(), http::status::ok);
  EXPECT_EQ(last_used(), kStart + 60);
}

TEST_F(AuthTest, SessionExpiresTwelveHoursAfterLoginHoweverMuchItIsUsed) {
  add_user("alice", kPassword);
  Session s = login("alice", kPassword);
  for (int i = 0; i < 12 * 4 - 1; ++i) {
    now_ += 15 * 60;
    ASSERT_EQ(send(on_session(s, http::verb::get, "/v1/me")).result(), http::status::ok) << i;
  }
  now_ += 15 * 60;
  Response expired = send(on_session(s, http::verb::get, "/v1/me"));
  EXPECT_EQ(expired.result(), http::status::unauthorized);
  EXPECT_NE(text(body_of(expired), "detail").find("after login"), std::string::npos);
}

TEST_F(AuthTest, LogoutEndsTheSession) {
  add_user("alice", kPassword);
  Session s = login("alice", kPassword);
  Response out = send(on_session(s, http::verb::post, "/v1/logout"));
  EXPECT_EQ(out.result(), http::status::no_content) << out.body();
  EXPECT_NE(std::string(out[http::field::set_cookie]).find("Max-Age=0"), std::string::npos);
  Response after = send(on_session(s, http::verb::get, "/v1/me"));
  EXPECT_EQ(after.result(), http::status::unauthorized);
  EXPECT_EQ(reason_of(after), "unauthenticated");
  auto events = audit("user.logout");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "user:alice");
}

TEST_F(AuthTest, StateChangingSessionRequestNeedsTheCsrfToken) {
  add_user("alice", kPassword);
  Session s = login("alice", kPassword);
  Request missing = on_session(s, http::verb::post, "/v1/logout");
  missing.erase(kCsrfHeader);
  Response no_token = send(missing);
  EXPECT_EQ(no_token.result(), http::status::forbidden);
  EXPECT_EQ(reason_of(no_token), "csrf_token_missing");

  Request wrong = on_session(s, http::verb::post, "/v1/logout");
  std::string forged = s.csrf;
  forged[0] = forged[0] == 'A' ? 'B' : 'A';
  wrong.set(kCsrfHeader, forged);
  Response bad_token = send(wrong);
  EXPECT_EQ(bad_token.result(), http::status::forbidden);
  EXPECT_EQ(reason_of(bad_token), "csrf_token_missing");

  // Another session's token does not do either.
  Session other = login("alice", kPassword);
  Request crossed = on_session(s, http::verb::post, "/v1/logout");
  crossed.set(kCsrfHeader, other.csrf);
  EXPECT_EQ(reason_of(send(crossed)), "csrf_token_missing");

  EXPECT_TRUE(audit("user.logout").empty()) << "nothing was done";
  EXPECT_EQ(send(on_session(s, http::verb::get, "/v1/me")).result(), http::status::ok)
      << "a GET needs no CSRF token";
  // The session's token is the one GET /v1/me tells (after a page reload, say).
  EXPECT_EQ(text(body_of(send(on_session(s, http::verb::get, "/v1/me"))), "csrf_token"), s.csrf);
}

TEST_F(AuthTest, PasswordChangeClearsTheFlagEndsOtherSessionsAndIsAudited) {
  add_user("alice", kPassword, "operator", "", /*must_change=*/true);
  Session s = login("alice", kPassword);
  Session elsewhere = login("alice", kPassword);
  EXPECT_EQ(send(on_session(s, http::verb::get, "/v1/users")).result(), http::status::forbidden);

  auto change = [&](const std::string& current, const std::string& next) {
    json::object body{{"current_password", current}, {"new_password", next}};
    return send(on_session(s, http::verb::post, "/v1/password", json::serialize(body)));
  };
  Response short_one = change(kPassword, "too short");
  EXPECT_EQ(short_one.result(), http::status::bad_request);
  EXPECT_EQ(text(body_of(short_one), "field"), "body.new_password");
  Response same = change(kPassword, kPassword);
  EXPECT_EQ(same.result(), http::status::bad_request);
  EXPECT_EQ(text(body_of(same), "field"), "body.new_password");
  Response wrong = change("not the password", "a brand new password");
  EXPECT_EQ(wrong.result(), http::status::forbidden);
  EXPECT_EQ(text(body_of(wrong), "field"), "body.current_password");

  Response ok = change(kPassword, "a brand new password");
  ASSERT_EQ(ok.result(), http::status::no_content) << ok.body();
  EXPECT_FALSE((*store_->find_user("alice"))->must_change_password);
  EXPECT_EQ(send(on_session(s, http::verb::get, "/v1/users")).result(), http::status::ok);
  EXPECT_EQ(send(on_session(elsewhere, http::verb::get, "/v1/me")).result(),
            http::status::unauthorized)
      << "the other session ended with the old password";
  auto events = audit("user.password_change");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "user:alice");
  EXPECT_EQ(events[0].detail.find("brand new"), std::string::npos);
  EXPECT_EQ(login_response("alice", kPassword).result(), http::status::unauthorized);
  EXPECT_EQ(login_response("alice", "a brand new password").result(), http::status::ok);
}

TEST_F(AuthTest, AdminCertificateIsAnOperator) {
  Peer admin{"192.0.2.20", verify::Identity{verify::IdentityKind::admin, "", "ops"}, "01", "ff", 0};
  auto principal =
      auth_->authenticate(request(http::verb::post, "/v1/tokens"), admin, *store_, now_);
  ASSERT_TRUE(principal.ok()) << principal.error().message;
  EXPECT_EQ(principal->actor, "admin:ops");
  EXPECT_TRUE(principal->is_operator());
  EXPECT_EQ(principal->via, Credential::admin_certificate);
  EXPECT_FALSE(principal->password_change_required);

  Peer connector{"192.0.2.21", verify::Identity::connector("acme", "edge-1"), "02", "ee", 0};
  auto refused = auth_->authenticate(request(http::verb::get, "/v1/me"), connector, *store_, now_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::unauthenticated);

  auto nothing = auth_->authenticate(request(http::verb::get, "/v1/me"), peer_, *store_, now_);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().code, Errc::unauthenticated);
}

TEST_F(AuthTest, RightPasswordForgetsTheUsersEarlierFailures) {
  add_user("alice", kPassword);
  for (int i = 0; i < 9; ++i) {
    Peer other{"198.51.100." + std::to_string(i), std::nullopt, "", "", 0};
    json::object body{{"user", "alice"}, {"password", "guess"}};
    ASSERT_EQ(send(request(http::verb::post, "/v1/login", json::serialize(body)), other).result(),
              http::status::unauthorized);
  }
  ASSERT_EQ(login_response("alice", kPassword).result(), http::status::ok);
  // Nine more failures would lock the name had the first nine still counted.
  for (int i = 0; i < 9; ++i) {
    Peer other{"203.0.113." + std::to_string(i), std::nullopt, "", "", 0};
    json::object body{{"user", "alice"}, {"password", "guess"}};
    ASSERT_EQ(send(request(http::verb::post, "/v1/login", json::serialize(body)), other).result(),
              http::status::unauthorized);
  }
  EXPECT_EQ(login_response("alice", kPassword).result(), http::status::ok);
}

TEST_F(AuthTest, WrongCurrentPasswordsCountTowardsTheLockout) {
  add_user("alice", kPassword);
  Session s = login("alice", kPassword);
  json::object body{{"current_password", "guess"}, {"new_password", "a brand new password"}};
  for (int i = 0; i < 10; ++i) {
    Response res = send(on_session(s, http::verb::post, "/v1/password", json::serialize(body)));
    ASSERT_EQ(res.result(), http::status::forbidden) << res.body();
  }
  body["current_password"] = kPassword;
  Response locked = send(on_session(s, http::verb::post, "/v1/password", json::serialize(body)));
  EXPECT_EQ(locked.result(), http::status::too_many_requests);
  EXPECT_EQ(reason_of(locked), "too_many_attempts");
  EXPECT_FALSE(locked[http::field::retry_after].empty());
}

TEST_F(AuthTest, BearerTokenIsUsedBeforeASessionCookieAndNeedsNoCsrfToken) {
  add_user("alice", kPassword);
  Session s = login("alice", kPassword);
  json::object body{{"name", "ci"}, {"role", "operator"}};
  Response created = send(on_session(s, http::verb::post, "/v1/tokens", json::serialize(body)));
  ASSERT_EQ(created.result(), http::status::created) << created.body();
  std::string token = text(body_of(created), "token");
  Request both = with_token(token, http::verb::post, "/v1/logout");
  both.set(http::field::cookie, std::string(kSessionCookie) + "=" + s.id);
  auto principal = auth_->authenticate(both, peer_, *store_, now_);
  ASSERT_TRUE(principal.ok()) << principal.error().message;
  EXPECT_EQ(principal->via, Credential::api_token);
  EXPECT_EQ(principal->actor, "token:" + token.substr(4, 16));
}

TEST_F(AuthTest, UnknownSessionCookieIsUnauthenticated) {
  Request req = request(http::verb::get, "/v1/me");
  req.set(http::field::cookie, "tether_session=made-up");
  Response res = send(req);
  EXPECT_EQ(res.result(), http::status::unauthorized);
  EXPECT_EQ(reason_of(res), "unauthenticated");
}

}  // namespace
}  // namespace tether::server::test
