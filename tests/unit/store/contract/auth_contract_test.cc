// The API server's users, sessions, API tokens and login failures.
#include <gtest/gtest.h>

#include "store_contract.h"

namespace tether::store::contract {
namespace {

UserRecord user(const std::string& name, const std::string& role = "operator",
                const std::string& tenant = "") {
  return UserRecord{name, "$argon2id$hash-of-" + name, role, tenant, true, 100, false};
}

ApiTokenRecord token(const std::string& id, const std::string& tenant, int64_t created_at) {
  ApiTokenRecord t;
  t.id = id;
  t.secret_hash = "sha-" + id;
  t.name = "token " + id;
  t.role = tenant.empty() ? "operator" : "tenant-admin";
  t.tenant = tenant;
  t.created_by = "user:admin";
  t.created_at = created_at;
  t.expires_at = created_at + 1000;
  return t;
}

TEST_P(StoreContract, UsersRoundTripAndADuplicateNameIsAlreadyExists) {
  EXPECT_FALSE(*store_->has_users());
  ASSERT_TRUE(store_->create_user(user("bob", "tenant-admin", "acme"), event("user.create")).ok());
  ASSERT_TRUE(store_->create_user(user("alice"), event("user.create")).ok());
  EXPECT_TRUE(*store_->has_users());

  auto bob = store_->find_user("bob");
  ASSERT_TRUE(bob.ok()) << bob.error().message;
  ASSERT_TRUE(bob->has_value());
  EXPECT_EQ((*bob)->password_hash, "$argon2id$hash-of-bob");
  EXPECT_EQ((*bob)->role, "tenant-admin");
  EXPECT_EQ((*bob)->tenant, "acme");
  EXPECT_TRUE((*bob)->must_change_password);
  EXPECT_EQ((*bob)->created_at, 100);
  EXPECT_FALSE((*bob)->disabled);
  EXPECT_FALSE(store_->find_user("carol")->has_value());

  auto all = store_->list_users();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alice") << "listed by name";

  Status again = store_->create_user(user("alice"), event("user.create"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_EQ(audit_count(), 2u);
}

TEST_P(StoreContract, FirstUserIsCreatedOnlyWhenThereIsNone) {
  auto first = store_->create_first_user(user("admin"), event("user.create"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(*first);
  auto other = open_handle();
  auto second = other->create_first_user(user("root"), event("user.create"));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  EXPECT_FALSE(store_->find_user("root")->has_value());
  EXPECT_EQ(audit_count(), 1u);
}

TEST_P(StoreContract, SetPasswordEndsTheUsersOtherSessions) {
  ASSERT_TRUE(store_->create_user(user("alice"), event("user.create")).ok());
  ASSERT_TRUE(store_->create_user(user("bob"), event("user.create")).ok());
  for (const char* id : {"s1", "s2"}) {
    ASSERT_TRUE(store_->create_session({id, "alice", 10, 10}, event("user.login")).ok());
  }
  ASSERT_TRUE(store_->create_session({"s3", "bob", 10, 10}, event("user.login")).ok());

  Status s =
      store_->set_password("alice", "$argon2id$new", false, "s1", event("user.password_change"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto alice = store_->find_user("alice");
  EXPECT_EQ((*alice)->password_hash, "$argon2id$new");
  EXPECT_FALSE((*alice)->must_change_password);
  EXPECT_TRUE(store_->find_session("s1")->has_value()) << "the session that changed it";
  EXPECT_FALSE(store_->find_session("s2")->has_value());
  EXPECT_TRUE(store_->find_session("s3")->has_value()) << "another user's";

  Status missing = store_->set_password("carol", "x", false, "", event("user.password_change"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_EQ(audit_count(), 6u);
}

TEST_P(StoreContract, SessionsAreTouchedDeletedAndPruned) {
  ASSERT_TRUE(store_->create_user(user("alice"), event("user.create")).ok());
  ASSERT_TRUE(store_->create_session({"old", "alice", 10, 10}, event("user.login")).ok());
  ASSERT_TRUE(store_->create_session({"idle", "alice", 500, 500}, event("user.login")).ok());
  ASSERT_TRUE(store_->create_session({"live", "alice", 500, 500}, event("user.login")).ok());

  Status no_user = store_->create_session({"x", "nobody", 1, 1}, event("user.login"));
  ASSERT_FALSE(no_user.ok());
  EXPECT_EQ(no_user.error().code, Errc::not_found);

  ASSERT_TRUE(store_->touch_session("live", 900).ok());
  ASSERT_TRUE(store_->touch_session("live", 800).ok()) << "a late writer";
  EXPECT_EQ((*store_->find_session("live"))->last_used_at, 900) << "never moves back";
  EXPECT_EQ((*store_->find_session("live"))->created_at, 500);

  ASSERT_TRUE(store_->delete_expired_sessions(/*idle_before=*/600, /*created_before=*/100).ok());
  EXPECT_FALSE(store_->find_session("old")->has_value());
  EXPECT_FALSE(store_->find_session("idle")->has_value());
  EXPECT_TRUE(store_->find_session("live")->has_value());

  size_t before = audit_count();
  ASSERT_TRUE(store_->delete_session("live", event("user.logout")).ok());
  EXPECT_FALSE(store_->find_session("live")->has_value());
  EXPECT_EQ(audit_count(), before + 1);
  ASSERT_TRUE(store_->delete_session("live", event("user.logout")).ok());
  EXPECT_EQ(audit_count(), before + 1) << "no event for a session that was already gone";
}

TEST_P(StoreContract, ApiTokensAreListedByTenantAndRevokedOnce) {
  ASSERT_TRUE(store_->create_api_token(token("01", "", 10), event("token.create")).ok());
  ASSERT_TRUE(store_->create_api_token(token("02", "acme", 20), event("token.create")).ok());
  ASSERT_TRUE(store_->create_api_token(token("03", "beta", 30), event("token.create")).ok());
  Status dup = store_->create_api_token(token("02", "acme", 40), event("token.create"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::already_exists);

  auto all = store_->list_api_tokens(std::nullopt);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "03") << "newest first";
  auto acme = store_->list_api_tokens(std::string("acme"));
  ASSERT_EQ(acme->size(), 1u);
  EXPECT_EQ((*acme)[0].id, "02");
  EXPECT_EQ((*acme)[0].secret_hash, "sha-02");
  EXPECT_EQ((*acme)[0].created_by, "user:admin");
  EXPECT_EQ((*acme)[0].expires_at, 1020);
  EXPECT_FALSE((*acme)[0].revoked_at.has_value());
  EXPECT_FALSE((*acme)[0].last_used_at.has_value());

  ASSERT_TRUE(store_->touch_api_token("02", 50).ok());
  EXPECT_EQ((*store_->find_api_token("02"))->last_used_at.value_or(0), 50);

  auto revoked = store_->revoke_api_token("02", 60, event("token.revoke"));
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  EXPECT_TRUE(*revoked);
  EXPECT_EQ((*store_->find_api_token("02"))->revoked_at.value_or(0), 60);
  size_t before = audit_count();
  auto again = store_->revoke_api_token("02", 70, event("token.revoke"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ((*store_->find_api_token("02"))->revoked_at.value_or(0), 60);
  EXPECT_EQ(audit_count(), before);

  auto missing = store_->revoke_api_token("99", 70, event("token.revoke"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_FALSE(store_->find_api_token("99")->has_value());
}

TEST_P(StoreContract, LoginFailuresAreCountedPerUserAndPerAddressInAWindow) {
  for (int64_t at : {100, 200, 300}) {
    ASSERT_TRUE(store_->record_login_failure("alice", "10.0.0.1", at, 0).ok());
  }
  ASSERT_TRUE(store_->record_login_failure("bob", "10.0.0.1", 400, 0).ok());

  auto alice = store_->login_failures_for_user("alice", 150, 10);
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  EXPECT_EQ(*alice, (std::vector<int64_t>{300, 200})) << "newest first, within the window";
  EXPECT_EQ(*store_->login_failures_for_user("alice", 0, 1), (std::vector<int64_t>{300}));
  EXPECT_EQ(*store_->login_failures_from_address("10.0.0.1", 0, 10),
            (std::vector<int64_t>{400, 300, 200, 100}));
  EXPECT_TRUE(store_->login_failures_from_address("10.0.0.2", 0, 10)->empty());

  // Recording forgets what is older than every window still asked about.
  ASSERT_TRUE(store_->record_login_failure("carol", "10.0.0.2", 500, 250).ok());
  EXPECT_EQ(*store_->login_failures_for_user("alice", 0, 10), (std::vector<int64_t>{300}));

  ASSERT_TRUE(store_->clear_login_failures("alice").ok());
  EXPECT_TRUE(store_->login_failures_for_user("alice", 0, 10)->empty());
  EXPECT_EQ(*store_->login_failures_from_address("10.0.0.1", 0, 10), (std::vector<int64_t>{400}));
  EXPECT_EQ(audit_count(), 0u) << "bookkeeping is not audited";
}

}  // namespace
}  // namespace tether::store::contract
