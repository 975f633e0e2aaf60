#include "x509/inspect.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <array>
#include <cctype>
#include <cstdio>

#include "common/hex.h"
#include "common/time_format.h"
#include "x509/key.h"
#include "x509/openssl_error.h"

namespace tether::x509 {

namespace {
std::string fingerprint(const X509* cert) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md.data(), &len) != 1) {
    drain_openssl_errors();
    return {};
  }
  return hex::encode(std::span(md.data(), len));
}
}  // namespace

std::string name_to_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string common_name(const X509_NAME* name) {
  int index = -1;
  int last = -1;
  while ((index = X509_NAME_get_index_by_NID(name, NID_commonName, index)) >= 0) last = index;
  if (last < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
  unsigned char* raw = nullptr;
  int len = ASN1_STRING_to_UTF8(&raw, data);
  OpensslBytes utf8(raw);
  if (len < 0) {
    drain_openssl_errors();
    return {};
  }
  return std::string(reinterpret_cast<char*>(utf8.get()), static_cast<size_t>(len));
}

std::string describe_at_depth(const X509* cert, size_t depth) {
  std::string text = "certificate at depth " + std::to_string(depth);
  if (cert != nullptr) text += " (" + subject_string(cert) + ")";
  return text;
}

std::string subject_string(const X509* cert) {
  return name_to_string(X509_get_subject_name(cert));
}
std::string issuer_string(const X509* cert) {
  return name_to_string(X509_get_issuer_name(cert));
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return {};
  OpensslString hex(BN_bn2hex(bn.get()));
  if (!hex) return {};
  // One form for every serial tether prints or stores, so the same serial always reads the same.
  return hex::canonical_integer(hex.get());
}

std::string serial_hex(const X509* cert) {
  return serial_hex(X509_get0_serialNumber(cert));
}

std::string fingerprint_sha256(const X509* cert) {
  return fingerprint(cert);
}

std::optional<int64_t> asn1_time_to_unix(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  return unix_from_utc(tm);
}

int64_t not_before(const X509* cert) {
  return asn1_time_to_unix(X509_get0_notBefore(cert)).value_or(0);
}
int64_t not_after(const X509* cert) {
  return asn1_time_to_unix(X509_get0_notAfter(cert)).value_or(0);
}

std::vector<std::string> uri_sans(X509* cert) {
  std::vector<std::string> uris;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return uris;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return uris;
}

std::vector<std::string> subject_alt_names(X509* cert) {
  std::vector<std::string> out;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  auto text = [](const ASN1_STRING* s) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
  };
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    switch (gn->type) {
      case GEN_DNS:
        out.push_back("DNS:" + text(gn->d.dNSName));
        break;
      case GEN_URI:
        out.push_back("URI:" + text(gn->d.uniformResourceIdentifier));
        break;
      case GEN_EMAIL:
        out.push_back("email:" + text(gn->d.rfc822Name));
        break;
      case GEN_IPADD: {
        auto text = ip_address_text(gn->d.iPAddress);
        out.push_back(text ? "IP:" + *text
                           : "IP:<" + std::to_string(ASN1_STRING_length(gn->d.iPAddress)) +
                                 " octets>");
        break;
      }
      case GEN_DIRNAME:
        out.push_back("DirName:" + name_to_string(gn->d.directoryName));
        break;
      default:
        out.push_back("othername:<type " + std::to_string(gn->type) + ">");
        break;
    }
  }
  return out;
}

std::vector<std::string> extended_key_usages(X509* cert) {
  std::vector<std::string> out;
  ExtKeyUsagePtr eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
  if (!eku) return out;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    const ASN1_OBJECT* obj = sk_ASN1_OBJECT_value(eku.get(), i);
    int nid = OBJ_obj2nid(obj);
    if (nid != NID_undef) {
      out.emplace_back(OBJ_nid2sn(nid));
      continue;
    }
    char oid[128];
    OBJ_obj2txt(oid, sizeof oid, obj, 1);
    out.emplace_back(oid);
  }
  return out;
}

std::string key_description(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) {
    drain_openssl_errors();
    return "unreadable key";
  }
  if (auto ours = classify_key(key)) return std::string(key_type_name(*ours));
  drain_openssl_errors();
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_EC) {
    char group[80] = "";
    size_t len = 0;
    EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len);
    return "EC " + std::string(group);
  }
  std::string name = OBJ_nid2sn(id);
  if (id == EVP_PKEY_RSA) name += " " + std::to_string(EVP_PKEY_get_bits(key)) + " bits";
  return name;
}

std::vector<std::string> dns_sans(X509* cert) {
  std::vector<std::string> dns;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_DNS) continue;
    dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                     static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
  }
  return dns;
}

std::optional<std::string> ip_address_text(const ASN1_OCTET_STRING* ip) {
  int length = ASN1_STRING_length(ip);
  int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
  char out[INET6_ADDRSTRLEN];
  if (family == 0 || ::inet_ntop(family, ASN1_STRING_get0_data(ip), out, sizeof out) == nullptr)
    return std::nullopt;
  return std::string(out);
}

std::vector<std::string> ip_sans(X509* cert) {
  std::vector<std::string> ips;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_IPADD) continue;
    if (auto text = ip_address_text(gn->d.iPAddress)) ips.push_back(*text);
  }
  return ips;
}

bool is_ca(X509* cert) {
  // basicConstraints present with cA TRUE; v1 "roots" and Netscape types do not count.
  uint32_t flags = X509_get_extension_flags(cert);
  return (flags & EXFLAG_BCONS) && (flags & EXFLAG_CA);
}

Result<Asn1IntegerPtr> random_serial() {
  std::array<unsigned char, 16> bytes{};
  for (;;) {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      return openssl_error(Errc::crypto_error, "random number generator failed");
    }
    bytes[0] &= 0x7f;  // positive
    // A serial with leading zero octets would have fewer than 64 bits of entropy in its
    // encoding; CA/B Forum practice is a full-width value, so draw again.
    if (bytes[0] != 0) break;
  }
  BignumPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return openssl_error(Errc::crypto_error, "cannot encode serial number");
  return serial;
}

}  // namespace tether::x509
