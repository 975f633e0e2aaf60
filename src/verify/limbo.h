// The x509-limbo conformance harness (C2SP/x509-limbo): each test case becomes the same
// verify_chain call `tether cert verify` makes, and the results are written in the harness
// format other implementations use, so tether can be compared with them case by case.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "common/error.h"
#include "verify/verify.h"

namespace tether::verify {

// One case as verify_chain takes it.
struct LimboCase {
  std::string id;
  x509::X509Ptr leaf;
  VerifyOptions options;
};

// Maps a test case object onto verify options. An error names the field that could not be used.
Result<LimboCase> limbo_case_from_json(const boost::json::object& testcase);

struct LimboOutcome {
  std::string id;
  std::string actual_result;  // "SUCCESS" or "FAILURE"
  // For a FAILURE: "<reason code>: <sentence>".
  std::string context;
  double seconds = 0;
};

LimboOutcome run_limbo_case(const boost::json::object& testcase);

// The testcases array of a suite document (JSON text); an error says what is malformed.
Result<boost::json::array> limbo_testcases(std::string_view document);

// A file's bytes, gunzipped when it is gzip-compressed.
Result<std::string> read_maybe_gzipped(const std::string& path);

}  // namespace tether::verify
