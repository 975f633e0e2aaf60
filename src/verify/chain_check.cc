#include "verify/chain_check.h"

#include "x509/inspect.h"
#include "x509/openssl_error.h"
#include "x509/pem.h"

namespace tether::verify {

namespace {

std::string which(size_t index, X509* cert) {
  return "certificate " + std::to_string(index + 1) + " (" + x509::subject_string(cert) + ")";
}

bool is_private_key_label(std::string_view label) {
  return label.find("PRIVATE KEY") != std::string_view::npos;
}

}  // namespace

Result<CheckedChain> check_chain(std::string_view bytes) {
  // A blank file (an editor's lone newline) is empty, not "not PEM": the DER advice that
  // not_pem gives would send the user the wrong way.
  if (bytes.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return make_error(Errc::parse_error, "the chain file is empty");
  }
  if (!x509::looks_like_pem(bytes)) {
    return make_error(Errc::not_pem,
                      "the chain file is not PEM (no '-----BEGIN CERTIFICATE-----' "
                      "line): convert DER with 'openssl x509 -inform der'");
  }
  // Refuse private keys before parsing anything else: they must never be uploaded, and we do
  // not want to hold one in memory longer than it takes to say so.
  if (bytes.find("PRIVATE KEY-----") != std::string_view::npos) {
    return make_error(Errc::private_key_present,
                      "the chain file contains a private key: upload certificates only and "
                      "treat that key as exposed");
  }
  TETHER_ASSIGN_OR_RETURN(auto blocks, x509::parse_pem_blocks(bytes));
  CheckedChain result;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto& block = blocks[i];
    if (is_private_key_label(block.label)) {
      return make_error(
          Errc::private_key_present,
          "PEM block " + std::to_string(i + 1) + " is a private key: upload certificates only");
    }
    if (block.label != "CERTIFICATE") {
      return make_error(Errc::unexpected_pem_block,
                        "PEM block " + std::to_string(i + 1) + " is '" + block.label +
                            "': the chain file may hold only CERTIFICATE blocks");
    }
    // The payload is DER: parse_certificate() would also take PEM text here, so a block whose
    // base64 decodes to another PEM file would pass as that file's first certificate.
    auto cert = x509::parse_certificate_der(block.der, "its payload");
    if (!cert) {
      return make_error(Errc::parse_error, "certificate " + std::to_string(i + 1) +
                                               " cannot be parsed: " + cert.error().message);
    }
    result.certificates.push_back(std::move(cert).value());
  }

  auto& certs = result.certificates;
  for (size_t i = 0; i < certs.size(); ++i) {
    X509* cert = certs[i].get();
    bool last = i + 1 == certs.size();
    X509* issuer = last ? nullptr : certs[i + 1].get();
    if (issuer == nullptr) {
      // The last certificate has no successor; if it claims to be self-issued its own signature
      // must verify, otherwise the chain simply ends at an intermediate.
      if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(cert)) == 0) {
        EVP_PKEY* key = X509_get0_pubkey(cert);
        if (key == nullptr || X509_verify(cert, key) != 1) {
          x509::drain_openssl_errors();
          return make_error(Errc::bad_signature, which(i, cert) +
                                                     " is self-issued but its signature does not "
                                                     "verify with its own key");
        }
      }
      break;
    }
    if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) != 0) {
      return make_error(
          Errc::issuer_mismatch,
          which(i, cert) + " names issuer '" + x509::issuer_string(cert) +
              "' but the next certificate's subject is '" + x509::subject_string(issuer) +
              "': order the file leaf first, each certificate followed by its issuer");
    }
    if (!x509::is_ca(issuer)) {
      return make_error(Errc::not_a_ca, which(i + 1, issuer) +
                                            " issues the certificate before it but is not a CA "
                                            "(basicConstraints CA:TRUE missing)");
    }
    EVP_PKEY* key = X509_get0_pubkey(issuer);
    if (key == nullptr || X509_verify(cert, key) != 1) {
      x509::drain_openssl_errors();
      return make_error(
          Errc::bad_signature,
          which(i, cert) + ": signature does not verify with the key of " + which(i + 1, issuer));
    }
  }
  return result;
}

}  // namespace tether::verify
