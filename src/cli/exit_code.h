// The one place that decides a command's exit code from the error that ended it.
#pragma once

#include "common/error.h"

namespace tether::cli {

// 0 success; 1 the operation was tried and failed (I/O, store, crypto, not found, already
// exists, a certificate or chain rejected on its merits); 2 the input was refused as given (a bad
// flag, value, id, file that is not what it must be, or a missing required input).
constexpr int kExitSuccess = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int exit_code_for(Errc code);

}  // namespace tether::cli
