#include "common/duration.h"

#include <gtest/gtest.h>

namespace tether {
namespace {

TEST(ParseDuration, UnitsMultiply) {
  EXPECT_EQ(*parse_duration("30d", "--x"), 30 * 86400);
  EXPECT_EQ(*parse_duration("24h", "--x"), 24 * 3600);
  EXPECT_EQ(*parse_duration("90m", "--x"), 90 * 60);
  EXPECT_EQ(*parse_duration("15s", "--x"), 15);
}

TEST(ParseDuration, RejectsWithOptionAndValue) {
  for (const char* bad : {"", "d", "30", "3x", "-1d", "1.5d", "99999999999999d"}) {
    auto r = parse_duration(bad, "--expiring-within");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find("--expiring-within"), std::string::npos);
  }
}

}  // namespace
}  // namespace tether
