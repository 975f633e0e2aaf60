// Reading and writing certificates, CSRs, CRLs and keys as PEM or DER.
//
// Every function here parses untrusted bytes and is covered by a fuzz target in fuzz/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::x509 {

// One PEM block as it appears in a file: its label ("CERTIFICATE") and decoded DER bytes.
struct PemBlock {
  std::string label;
  std::string der;
};

// Splits text into PEM blocks. Fails on a malformed block (bad base64, missing END line) or when
// there is no block at all. Text between blocks is ignored, as OpenSSL does.
Result<std::vector<PemBlock>> parse_pem_blocks(std::string_view text);

// True if the bytes look like PEM (contain a "-----BEGIN " line).
bool looks_like_pem(std::string_view bytes);

// One certificate, PEM or DER (detected).
Result<X509Ptr> parse_certificate(std::string_view bytes);
// All certificates in a PEM text, in order; an error if there are none or any is malformed.
Result<std::vector<X509Ptr>> parse_certificates(std::string_view bytes);
// Exactly one DER certificate (a PEM block's payload): never PEM, no trailing bytes.
Result<X509Ptr> parse_certificate_der(std::string_view der, std::string_view what);
Result<X509ReqPtr> parse_csr(std::string_view bytes);
// One CRL, PEM or DER (detected).
Result<X509CrlPtr> parse_crl(std::string_view bytes);
// Every CRL in a file: all X509 CRL blocks of a PEM file, or one DER CRL.
Result<std::vector<X509CrlPtr>> parse_crls(std::string_view bytes);
// A private key in PEM (PKCS#8, encrypted or not). `passphrase` is used when it is encrypted.
Result<PkeyPtr> parse_private_key(std::string_view pem, std::string_view passphrase,
                                  std::string_view what);

std::string to_pem(X509* cert);
std::string to_pem(X509_REQ* csr);
std::string to_pem(X509_CRL* crl);
std::string to_der(X509* cert);
std::string to_der(X509_CRL* crl);
// PKCS#8 PEM; encrypted with AES-256-CBC (PBKDF2 via PKCS#5 v2) unless passphrase is empty.
Result<std::string> private_key_to_pem(EVP_PKEY* key, std::string_view passphrase);
std::string public_key_to_pem(EVP_PKEY* key);

}  // namespace tether::x509
