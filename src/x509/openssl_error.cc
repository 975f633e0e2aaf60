#include "x509/openssl_error.h"

#include <openssl/err.h>

namespace tether::x509 {

namespace {
constexpr size_t kMaxErrorLine = 512;
}

std::string drain_openssl_errors() {
  std::string line;
  unsigned long err = 0;
  while ((err = ERR_get_error()) != 0) {
    if (line.size() >= kMaxErrorLine) continue;  // keep draining, stop appending
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    if (!line.empty()) line += "; ";
    line += buf;
  }
  if (line.size() > kMaxErrorLine) line.resize(kMaxErrorLine);
  return line;
}

Error openssl_error(Errc code, std::string_view what) {
  std::string detail = drain_openssl_errors();
  std::string message(what);
  if (!detail.empty()) message += " (openssl: " + detail + ")";
  return Error{code, std::move(message)};
}

}  // namespace tether::x509
