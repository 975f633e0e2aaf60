// Argon2id password hashing.
#include <gtest/gtest.h>

#include "server/auth/password.h"
#include "server/auth/secrets.h"

namespace tether::server {
namespace {

TEST(AuthPassword, RecommendedParametersAreInTheEncodedString) {
  auto hasher = PasswordHasher::create();
  ASSERT_TRUE(hasher.ok()) << hasher.error().message;
  auto hash = hasher->hash("correct horse battery staple");
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  // RFC 9106's second recommended option: t=3, m=64 MiB, p=4, Argon2 version 0x13.
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=65536,t=3,p=4$", 0), 0u) << *hash;
  EXPECT_TRUE(hasher->verify(*hash, "correct horse battery staple"));
  EXPECT_FALSE(hasher->verify(*hash, "correct horse battery stapl"));
}

TEST(AuthPassword, EachHashHasItsOwnSaltAndVerifiesWithItsOwnParameters) {
  auto cheap = PasswordHasher::create(Argon2Params::insecure_for_tests());
  ASSERT_TRUE(cheap.ok());
  auto a = cheap->hash("same password");
  auto b = cheap->hash("same password");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->rfind("$argon2id$v=19$m=64,t=1,p=1$", 0), 0u) << *a;
  // A hasher with other defaults still verifies it: the parameters travel in the string.
  auto strong = PasswordHasher::create();
  ASSERT_TRUE(strong.ok());
  EXPECT_TRUE(strong->verify(*a, "same password"));
}

TEST(AuthPassword, OnlyArgon2idStringsVerify) {
  auto hasher = PasswordHasher::create(Argon2Params::insecure_for_tests());
  ASSERT_TRUE(hasher.ok());
  auto hash = hasher->hash("pw");
  ASSERT_TRUE(hash.ok());
  std::string argon2i = *hash;
  argon2i.replace(0, 10, "$argon2i$");
  EXPECT_FALSE(hasher->verify(argon2i, "pw"));
  EXPECT_FALSE(hasher->verify("", "pw"));
  EXPECT_FALSE(hasher->verify("$argon2id$garbage", "pw"));
}

TEST(AuthPassword, OverlongPasswordIsRefusedBeforeHashing) {
  auto hasher = PasswordHasher::create(Argon2Params::insecure_for_tests());
  ASSERT_TRUE(hasher.ok());
  auto hash = hasher->hash(std::string(kMaxPasswordBytes + 1, 'x'));
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.error().code, Errc::invalid_argument);
}

TEST(AuthSecrets, RandomValuesHaveTheirLengthAndDiffer) {
  auto a = random_base64url(32);
  auto b = random_base64url(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 43u);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(
      a->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  EXPECT_EQ(random_hex(8)->size(), 16u);
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(secrets_equal("abc", "abc"));
  EXPECT_FALSE(secrets_equal("abc", "abd"));
  EXPECT_FALSE(secrets_equal("abc", "abcd"));
  EXPECT_FALSE(secrets_equal("", "")) << "an empty secret matches nothing";
}

}  // namespace
}  // namespace tether::server
