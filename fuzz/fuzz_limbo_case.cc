// The x509-limbo batch mode (verify::limbo): suite JSON, each case's fields (PEM certificates and
// CRLs, times, names, usages, depth) and the verification they feed, path search included.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"
#include "verify/limbo.h"

using namespace tether;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto testcases = verify::limbo_testcases(fuzz::as_view(data, size));
  if (testcases) {
    // A few cases per input keep each run short; the seeds hold one case each.
    size_t n = 0;
    for (const boost::json::value& tc : *testcases) {
      if (++n > 4) break;
      verify::LimboOutcome out = verify::run_limbo_case(tc.as_object());
      fuzz::require(out.actual_result == "SUCCESS" || out.actual_result == "FAILURE",
                    "every case ends in SUCCESS or FAILURE");
      fuzz::require(out.actual_result == "SUCCESS" || out.context.find(": ") != std::string::npos,
                    "a FAILURE carries '<reason>: <sentence>'");
      fuzz::require(out.actual_result == "FAILURE" || out.context.empty(),
                    "a SUCCESS carries no reason");
    }
  }
  fuzz::end_input();
  return 0;
}
