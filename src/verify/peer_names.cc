#include "verify/peer_names.h"

#include <openssl/x509v3.h>

#include "x509/inspect.h"
#include "x509/openssl_error.h"

namespace tether::verify {

namespace {

bool is_ip_address(const std::string& name) {
  x509::Asn1OctetStringPtr ip(a2i_IPADDRESS(name.c_str()));
  return ip != nullptr;
}

const char* kind_text(PeerName::Kind kind) {
  switch (kind) {
    case PeerName::Kind::dns:
      return "DNS name";
    case PeerName::Kind::ip:
      return "IP address";
    case PeerName::Kind::email:
      return "e-mail address";
  }
  return "name";
}

}  // namespace

PeerName peer_name_from_text(std::string text) {
  PeerName name;
  if (is_ip_address(text)) {
    name.kind = PeerName::Kind::ip;
  } else if (text.find('@') != std::string::npos) {
    name.kind = PeerName::Kind::email;
  }
  name.value = std::move(text);
  return name;
}

Status set_expected_name(X509_VERIFY_PARAM* param, const PeerName& name) {
  int rc = 0;
  switch (name.kind) {
    case PeerName::Kind::ip:
      rc = X509_VERIFY_PARAM_set1_ip_asc(param, name.value.c_str());
      break;
    case PeerName::Kind::email:
      rc = X509_VERIFY_PARAM_set1_email(param, name.value.data(), name.value.size());
      break;
    case PeerName::Kind::dns:
      rc = X509_VERIFY_PARAM_set1_host(param, name.value.data(), name.value.size());
      break;
  }
  if (rc != 1) {
    return x509::openssl_error(
        Errc::invalid_argument,
        std::string("cannot use '") + name.value + "' as an expected " + kind_text(name.kind));
  }
  return ok_status();
}

Status check_more_names(X509* leaf, const std::vector<PeerName>& names) {
  for (size_t i = 1; i < names.size(); ++i) {
    const PeerName& name = names[i];
    int rc = 0;
    switch (name.kind) {
      case PeerName::Kind::ip:
        rc = X509_check_ip_asc(leaf, name.value.c_str(), 0);
        break;
      case PeerName::Kind::email:
        rc = X509_check_email(leaf, name.value.data(), name.value.size(), 0);
        break;
      case PeerName::Kind::dns:
        rc = X509_check_host(leaf, name.value.data(), name.value.size(), kHostFlags, nullptr);
        break;
    }
    if (rc != 1) {
      x509::drain_openssl_errors();
      return make_error(Errc::name_mismatch, x509::describe_at_depth(leaf, 0) + ": does not name " +
                                                 kind_text(name.kind) + " '" + name.value + "'");
    }
  }
  return ok_status();
}

}  // namespace tether::verify
