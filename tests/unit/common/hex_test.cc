#include "common/hex.h"

#include <gtest/gtest.h>

#include <array>

namespace tether::hex {
namespace {

TEST(Hex, EncodesLowercaseWithoutSeparators) {
  std::array<unsigned char, 4> bytes{0x00, 0xab, 0x0f, 0xff};
  EXPECT_EQ(encode(bytes), "00ab0fff");
}

TEST(Hex, OpensslFormatIsUpperCaseColonSeparated) {
  EXPECT_EQ(openssl_format("00ab0fff"), "00:AB:0F:FF");
}

TEST(Hex, CanonicalIntegerHasEvenLengthAndNoLeadingZeroOctet) {
  EXPECT_EQ(canonical_integer("ABC"), "0abc");
  EXPECT_EQ(canonical_integer("000abc"), "0abc");
  EXPECT_EQ(canonical_integer("0000ab"), "ab");
  EXPECT_EQ(canonical_integer("0"), "00");
  EXPECT_EQ(canonical_integer("-A"), "-0a");
}

}  // namespace
}  // namespace tether::hex
