#include "verify/name_rules.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <cctype>
#include <string>

#include "common/dns_name.h"
#include "x509/inspect.h"

namespace tether::verify {

namespace {

std::string_view as_view(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<size_t>(ASN1_STRING_length(s))};
}

using x509::NameConstraintsPtr;

NameConstraintsPtr name_constraints(X509* cert, int* critical) {
  return NameConstraintsPtr(static_cast<NAME_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_name_constraints, critical, nullptr)));
}

Status check_subtree_bases(const STACK_OF(GENERAL_SUBTREE) * subtrees, X509* cert, size_t depth) {
  for (int i = 0; i < sk_GENERAL_SUBTREE_num(subtrees); ++i) {
    const GENERAL_NAME* base = sk_GENERAL_SUBTREE_value(subtrees, i)->base;
    if (base->type == GEN_DNS) {
      std::string_view dns = as_view(base->d.dNSName);
      if (!is_valid_dns_constraint(dns)) {
        return make_error(Errc::name_constraint_violation,
                          x509::describe_at_depth(cert, depth) + ": name constraint dNSName '" +
                              std::string(dns) +
                              "' is not a host or domain name (no wildcards or leading period)");
      }
    } else if (base->type == GEN_IPADD) {
      int len = ASN1_STRING_length(base->d.iPAddress);
      if (len != 8 && len != 32) {
        return make_error(Errc::name_constraint_violation,
                          x509::describe_at_depth(cert, depth) +
                              ": name constraint iPAddress has " + std::to_string(len) +
                              " octets, not an address and mask (8 or 32)");
      }
    }
  }
  return ok_status();
}

}  // namespace

bool is_valid_dns_san(std::string_view name) {
  if (name.starts_with("*.")) name.remove_prefix(2);
  return is_ldh_name(name, LetterCase::any);
}

bool is_valid_dns_constraint(std::string_view name) {
  return is_ldh_name(name, LetterCase::any);
}

bool is_valid_email_san(std::string_view name) {
  size_t at = name.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view local = name.substr(0, at);
  bool printable = std::all_of(local.begin(), local.end(),
                               [](char c) { return c > 0x20 && c < 0x7f && c != '@'; });
  return printable && is_ldh_name(name.substr(at + 1), LetterCase::any);
}

bool dns_within(std::string_view name, std::string_view base) {
  if (boost::beast::iequals(name, base)) return true;
  return name.size() > base.size() + 1 && name[name.size() - base.size() - 1] == '.' &&
         boost::beast::iequals(name.substr(name.size() - base.size()), base);
}

Status check_san_syntax(X509* leaf) {
  x509::GeneralNamesPtr sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    if (gn->type == GEN_DNS && !is_valid_dns_san(as_view(gn->d.dNSName))) {
      return make_error(Errc::bad_name, x509::describe_at_depth(leaf, 0) +
                                            ": subjectAltName dNSName '" +
                                            std::string(as_view(gn->d.dNSName)) +
                                            "' is not a host name (RFC 5280 4.2.1.6)");
    }
    if (gn->type == GEN_EMAIL && !is_valid_email_san(as_view(gn->d.rfc822Name))) {
      return make_error(Errc::bad_name, x509::describe_at_depth(leaf, 0) +
                                            ": subjectAltName rfc822Name '" +
                                            std::string(as_view(gn->d.rfc822Name)) +
                                            "' is not an e-mail address (RFC 5280 4.2.1.6)");
    }
    if (gn->type == GEN_IPADD) {
      int len = ASN1_STRING_length(gn->d.iPAddress);
      if (len != 4 && len != 16) {
        return make_error(Errc::bad_name, x509::describe_at_depth(leaf, 0) +
                                              ": subjectAltName iPAddress has " +
                                              std::to_string(len) + " octets, not 4 or 16");
      }
    }
  }
  return ok_status();
}

Status check_name_constraints_form(const std::vector<X509*>& chain) {
  for (size_t depth = 0; depth < chain.size(); ++depth) {
    X509* cert = chain[depth];
    int critical = -1;
    NameConstraintsPtr nc = name_constraints(cert, &critical);
    if (critical == -1) continue;  // no extension
    if (nc == nullptr) {
      return make_error(Errc::bad_extension,
                        x509::describe_at_depth(cert, depth) + ": nameConstraints is malformed");
    }
    if ((X509_get_extension_flags(cert) & EXFLAG_CA) == 0) {
      return make_error(Errc::bad_extension,
                        x509::describe_at_depth(cert, depth) +
                            ": nameConstraints in a certificate that is not a CA (RFC 5280 "
                            "4.2.1.10: CA certificates only)");
    }
    if (critical == 0) {
      return make_error(Errc::bad_extension, x509::describe_at_depth(cert, depth) +
                                                 ": nameConstraints is not critical (RFC 5280 "
                                                 "4.2.1.10: conforming CAs MUST mark it critical)");
    }
    if (sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) <= 0 &&
        sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) <= 0) {
      return make_error(Errc::bad_extension,
                        x509::describe_at_depth(cert, depth) +
                            ": nameConstraints has neither permitted nor excluded subtrees (RFC "
                            "5280 4.2.1.10: at least one MUST be present)");
    }
    TETHER_TRY(check_subtree_bases(nc->permittedSubtrees, cert, depth));
    TETHER_TRY(check_subtree_bases(nc->excludedSubtrees, cert, depth));
  }
  return ok_status();
}

Status check_expected_names_constrained(const std::vector<X509*>& chain,
                                        const std::vector<PeerName>& names) {
  for (const PeerName& name : names) {
    if (name.kind != PeerName::Kind::dns) continue;
    for (size_t depth = 1; depth < chain.size(); ++depth) {
      X509* cert = chain[depth];
      NameConstraintsPtr nc = name_constraints(cert, nullptr);
      if (nc == nullptr) continue;
      bool any_permitted_dns = false;
      bool permitted = false;
      for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); ++i) {
        const GENERAL_NAME* base = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i)->base;
        if (base->type != GEN_DNS) continue;
        any_permitted_dns = true;
        permitted = permitted || dns_within(name.value, as_view(base->d.dNSName));
      }
      if (any_permitted_dns && !permitted) {
        return make_error(Errc::name_constraint_violation,
                          x509::describe_at_depth(cert, depth) +
                              ": its name constraints do not permit '" + name.value +
                              "', the name expected of the leaf");
      }
      for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees); ++i) {
        const GENERAL_NAME* base = sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, i)->base;
        if (base->type == GEN_DNS && dns_within(name.value, as_view(base->d.dNSName))) {
          return make_error(Errc::name_constraint_violation,
                            x509::describe_at_depth(cert, depth) +
                                ": its name constraints exclude '" + name.value +
                                "', the name expected of the leaf");
        }
      }
    }
  }
  return ok_status();
}

}  // namespace tether::verify
