#include "common/dns_name.h"

#include <gtest/gtest.h>

namespace tether {
namespace {

TEST(DnsName, LabelsAreLettersDigitsAndInnerHyphens) {
  EXPECT_TRUE(is_ldh_label("a", LetterCase::lower_only));
  EXPECT_TRUE(is_ldh_label("edge-1", LetterCase::lower_only));
  EXPECT_TRUE(is_ldh_label(std::string(63, 'a'), LetterCase::lower_only));
  EXPECT_FALSE(is_ldh_label(std::string(64, 'a'), LetterCase::lower_only));
  EXPECT_FALSE(is_ldh_label("", LetterCase::any));
  EXPECT_FALSE(is_ldh_label("-a", LetterCase::any));
  EXPECT_FALSE(is_ldh_label("a-", LetterCase::any));
  EXPECT_FALSE(is_ldh_label("a_b", LetterCase::any));
  EXPECT_FALSE(is_ldh_label("Edge", LetterCase::lower_only));
  EXPECT_TRUE(is_ldh_label("Edge", LetterCase::any));
}

TEST(DnsName, ProblemsNameWhatIsWrong) {
  EXPECT_EQ(ldh_name_problem("tether.internal", LetterCase::lower_only), std::nullopt);
  EXPECT_EQ(ldh_name_problem("", LetterCase::lower_only), "is empty");
  EXPECT_EQ(ldh_name_problem("a..b", LetterCase::lower_only), "has an empty or over-long label");
  EXPECT_EQ(ldh_name_problem("a.", LetterCase::lower_only), "has an empty or over-long label");
  EXPECT_EQ(ldh_name_problem("a.-b", LetterCase::lower_only),
            "has a label starting or ending with '-'");
  EXPECT_EQ(ldh_name_problem("Tether.internal", LetterCase::lower_only), "contains 'T'");
  EXPECT_EQ(ldh_name_problem("Tether.internal", LetterCase::any), std::nullopt);
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  long_name += "de";
  EXPECT_EQ(ldh_name_problem(long_name, LetterCase::any), "is longer than 253 characters");
}

TEST(DnsName, LabelCount) {
  EXPECT_EQ(label_count("a"), 1u);
  EXPECT_EQ(label_count("a.b.c"), 3u);
}

}  // namespace
}  // namespace tether
