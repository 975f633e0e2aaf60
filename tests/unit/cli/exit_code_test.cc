#include "cli/exit_code.h"

#include <gtest/gtest.h>

namespace tether::cli {
namespace {

TEST(ExitCode, InvalidInputIsTwo) {
  for (Errc code : {Errc::invalid_argument, Errc::invalid_id, Errc::parse_error, Errc::not_pem,
                    Errc::passphrase_required, Errc::bad_csr_signature})
    EXPECT_EQ(exit_code_for(code), kExitUsage) << errc_reason(code);
}

TEST(ExitCode, FailedOperationIsOne) {
  for (Errc code : {Errc::io_error, Errc::store_error, Errc::crypto_error, Errc::not_found,
                    Errc::already_exists, Errc::wrong_passphrase, Errc::expired})
    EXPECT_EQ(exit_code_for(code), kExitFailure) << errc_reason(code);
}

TEST(ExitCode, OkIsZero) {
  EXPECT_EQ(exit_code_for(Errc::ok), 0);
}

}  // namespace
}  // namespace tether::cli
