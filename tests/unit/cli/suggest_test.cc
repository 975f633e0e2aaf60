#include "cli/suggest.h"

#include <gtest/gtest.h>

namespace tether::cli {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("list", "list"), 0u);
  EXPECT_EQ(edit_distance("lst", "list"), 1u);
  EXPECT_EQ(edit_distance("--tenat", "--tenant"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("lsit", "list"), 1u) << "a swap of neighbours is one edit";
}

TEST(ClosestName, SuggestsANearTypo) {
  EXPECT_EQ(closest_name("--expiring-withn", {"--tenant", "--expiring-within", "--json"}),
            "--expiring-within");
  EXPECT_EQ(closest_name("lsit", {"create", "renew", "list", "show"}), "list");
}

TEST(ClosestName, StaysQuietWhenNothingIsClose) {
  EXPECT_FALSE(closest_name("--frobnicate", {"--tenant", "--json"}).has_value());
  EXPECT_FALSE(closest_name("x", {"id"}).has_value()) << "one letter is no basis for a guess";
}

}  // namespace
}  // namespace tether::cli
