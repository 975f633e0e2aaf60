#include "x509/handles.h"

#include <algorithm>

namespace tether::x509 {

std::vector<X509*> stack_certificates(const STACK_OF(X509) * stack) {
  std::vector<X509*> certs;
  certs.reserve(static_cast<size_t>(std::max(0, sk_X509_num(stack))));
  for (int i = 0; i < sk_X509_num(stack); ++i) certs.push_back(sk_X509_value(stack, i));
  return certs;
}

X509StackPtr make_stack(const std::vector<X509Ptr>& certs) {
  X509StackPtr stack(sk_X509_new_null());
  for (const auto& cert : certs) {
    X509Ptr ref = up_ref(cert.get());
    if (sk_X509_push(stack.get(), ref.get()) > 0) ref.release();
  }
  return stack;
}

X509CrlStackPtr make_crl_stack(const std::vector<X509CrlPtr>& crls) {
  X509CrlStackPtr stack(sk_X509_CRL_new_null());
  for (const auto& crl : crls) {
    X509CrlPtr ref = up_ref(crl.get());
    if (sk_X509_CRL_push(stack.get(), ref.get()) > 0) ref.release();
  }
  return stack;
}

}  // namespace tether::x509
