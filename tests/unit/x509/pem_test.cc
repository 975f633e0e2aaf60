#include "x509/pem.h"

#include <gtest/gtest.h>

#include <set>

#include "common/time_format.h"
#include "x509/build.h"
#include "x509/inspect.h"
#include "x509/key.h"

namespace tether::x509 {
namespace {

X509Ptr self_signed(EVP_PKEY* key) {
  CertificateSpec spec;
  spec.subject = {{"CN", "test"}};
  spec.not_before = 1700000000;
  spec.not_after = 1800000000;
  spec.is_ca = true;
  spec.key_usage = "keyCertSign,cRLSign";
  auto serial = random_serial();
  return std::move(build_certificate(spec, key, serial->get(), nullptr, key)).value();
}

TEST(Pem, CertificateRoundTripsThroughPemAndDer) {
  auto key = generate_key(KeyType::ecdsa_p256);
  ASSERT_TRUE(key.ok());
  X509Ptr cert = self_signed(key->get());
  auto from_pem = parse_certificate(to_pem(cert.get()));
  ASSERT_TRUE(from_pem.ok()) << from_pem.error().message;
  auto from_der = parse_certificate(to_der(cert.get()));
  ASSERT_TRUE(from_der.ok()) << from_der.error().message;
  EXPECT_EQ(fingerprint_sha256(from_pem->get()), fingerprint_sha256(cert.get()));
  EXPECT_EQ(fingerprint_sha256(from_der->get()), fingerprint_sha256(cert.get()));
}

TEST(Pem, DerWithTrailingBytesIsRejected) {
  auto key = generate_key(KeyType::ecdsa_p256);
  X509Ptr cert = self_signed(key->get());
  std::string der = to_der(cert.get()) + "xx";
  auto r = parse_certificate(der);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::parse_error);
  EXPECT_NE(r.error().message.find("2 trailing bytes"), std::string::npos) << r.error().message;
}

TEST(Pem, CorruptBase64IsAParseError) {
  auto r = parse_certificates("-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::parse_error);
}

TEST(Pem, EncryptedKeyNeedsTheRightPassphrase) {
  auto key = generate_key(KeyType::ecdsa_p256);
  auto pem = private_key_to_pem(key->get(), "right passphrase");
  ASSERT_TRUE(pem.ok());
  EXPECT_NE(pem->find("ENCRYPTED PRIVATE KEY"), std::string::npos);
  EXPECT_TRUE(parse_private_key(*pem, "right passphrase", "key").ok());
  auto wrong = parse_private_key(*pem, "wrong passphrase", "key");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::wrong_passphrase);
  auto none = parse_private_key(*pem, "", "key");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::passphrase_required);
}

TEST(Serial, RandomSerialsArePositiveFullWidthAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto s = random_serial();
    ASSERT_TRUE(s.ok());
    std::string hex = serial_hex(s->get());
    EXPECT_GE(hex.size(), 31u) << hex;  // top octet non-zero: at least 121 significant bits
    EXPECT_LE(hex.size(), 32u);
    EXPECT_NE(hex[0], '-');
    EXPECT_TRUE(seen.insert(hex).second);
  }
}

TEST(Rfc3339, ParsesZuluAndOffsets) {
  EXPECT_EQ(*parse_rfc3339("2027-01-31T12:00:00Z"), 1801396800);
  EXPECT_EQ(*parse_rfc3339("2027-01-31T13:00:00+01:00"), 1801396800);
  EXPECT_EQ(format_rfc3339(1801396800), "2027-01-31T12:00:00Z");
  EXPECT_FALSE(parse_rfc3339("2027-01-31").ok());
  EXPECT_FALSE(parse_rfc3339("2027-13-01T00:00:00Z").ok());
  EXPECT_FALSE(parse_rfc3339("2027-02-31T00:00:00Z").ok()) << "no such day";
  EXPECT_TRUE(parse_rfc3339("2028-02-29T00:00:00Z").ok()) << "leap day";
  EXPECT_FALSE(parse_rfc3339("2027-02-29T00:00:00Z").ok());
  EXPECT_FALSE(parse_rfc3339("2027-1-5T00:00:00Z").ok()) << "two-digit month";
  EXPECT_FALSE(parse_rfc3339("2027-01-05T00:00:00+99:99").ok()) << "offset out of range";
  EXPECT_EQ(*parse_rfc3339("2027-01-31T12:00:00.250Z"), 1801396800);
}

}  // namespace
}  // namespace tether::x509
