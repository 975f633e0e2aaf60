#include "x509/revocation_reason.h"

#include <array>
#include <utility>

namespace tether::x509 {

namespace {
struct Reason {
  int code;
  std::string_view rfc;
  std::string_view kebab;
};
constexpr std::array<Reason, 8> kReasons = {{
    {0, "unspecified", "unspecified"},
    {1, "keyCompromise", "key-compromise"},
    {2, "cACompromise", "ca-compromise"},
    {3, "affiliationChanged", "affiliation-changed"},
    {4, "superseded", "superseded"},
    {5, "cessationOfOperation", "cessation-of-operation"},
    {9, "privilegeWithdrawn", "privilege-withdrawn"},
    {10, "aACompromise", "aa-compromise"},
}};
}  // namespace

Result<int> parse_revocation_reason(std::string_view name) {
  for (const auto& r : kReasons) {
    if (name == r.rfc || name == r.kebab) return r.code;
  }
  std::string allowed;
  for (const auto& r : kReasons) allowed += (allowed.empty() ? "" : ", ") + std::string(r.kebab);
  return make_error(Errc::invalid_argument,
                    "unknown revocation reason '" + std::string(name) + "': use one of " + allowed);
}

std::string_view revocation_reason_name(int code) {
  for (const auto& r : kReasons) {
    if (r.code == code) return r.kebab;
  }
  return "unknown";
}

}  // namespace tether::x509
