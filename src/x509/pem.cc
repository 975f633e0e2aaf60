#include "x509/pem.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <initializer_list>
#include <limits>

#include "x509/openssl_error.h"

namespace tether::x509 {

namespace {

// Inputs larger than this are refused before parsing: no certificate file tether handles comes
// near it, and it bounds the work an attacker can ask of the parsers.
constexpr size_t kMaxInputBytes = 16 * 1024 * 1024;

BioPtr memory_bio(std::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

Status check_size(std::string_view bytes, std::string_view what) {
  if (bytes.size() > kMaxInputBytes) {
    return make_error(Errc::parse_error, std::string(what) + " is " + std::to_string(bytes.size()) +
                                             " bytes; the limit is 16 MiB");
  }
  if (bytes.empty()) return make_error(Errc::parse_error, std::string(what) + " is empty");
  return ok_status();
}

// Decodes one DER object and insists every byte was consumed: trailing bytes after a DER
// object are a sign of a confused or malicious input.
template <class T, class Ptr, auto D2I>
Result<Ptr> decode_der(std::string_view der, std::string_view what) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  if (der.size() > static_cast<size_t>(std::numeric_limits<long>::max())) {
    return make_error(Errc::parse_error, std::string(what) + " is too large");
  }
  Ptr obj(D2I(nullptr, &p, static_cast<long>(der.size())));
  if (!obj) return openssl_error(Errc::parse_error, std::string(what) + " is not valid DER");
  size_t used = static_cast<size_t>(p - reinterpret_cast<const unsigned char*>(der.data()));
  if (used != der.size()) {
    return make_error(Errc::parse_error, std::string(what) + " has " +
                                             std::to_string(der.size() - used) +
                                             " trailing bytes after the DER object");
  }
  return obj;
}

// Which encoding a file is in. DER certificates, CSRs and CRLs are SEQUENCEs (first octet 0x30);
// PEM text never starts with that octet unless it starts with the digit '0'. Sniffing for
// "-----BEGIN " alone would refuse a DER object that merely contains that text (in a subject,
// say), so input that starts like DER and decodes as DER is DER.
bool prefer_der(std::string_view bytes) {
  return !bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x30;
}

template <class T, class Ptr, auto D2I>
Result<Ptr> decode_single(std::string_view bytes, std::string_view label, std::string_view what) {
  TETHER_TRY(check_size(bytes, what));
  if (prefer_der(bytes) || !looks_like_pem(bytes)) {
    auto der = decode_der<T, Ptr, D2I>(bytes, what);
    if (der.ok() || !looks_like_pem(bytes)) return der;
  }
  TETHER_ASSIGN_OR_RETURN(auto blocks, parse_pem_blocks(bytes));
  for (const auto& block : blocks) {
    if (block.label == label) return decode_der<T, Ptr, D2I>(block.der, what);
  }
  return make_error(Errc::parse_error, std::string(what) + " has no '-----BEGIN " +
                                           std::string(label) + "-----' block");
}

// Every object of one type in a file: all blocks with one of `labels` of a PEM file, or one DER
// object. A block's payload is decoded as DER only, so PEM can never nest inside PEM.
template <class T, class Ptr, auto D2I>
Result<std::vector<Ptr>> decode_all(std::string_view bytes,
                                    std::initializer_list<std::string_view> labels,
                                    std::string_view what) {
  TETHER_TRY(check_size(bytes, std::string(what) + " file"));
  std::vector<Ptr> objects;
  if (prefer_der(bytes) || !looks_like_pem(bytes)) {
    auto der = decode_der<T, Ptr, D2I>(bytes, what);
    if (der.ok() || !looks_like_pem(bytes)) {
      if (!der.ok()) return std::move(der).error();
      objects.push_back(std::move(der).value());
      return objects;
    }
  }
  TETHER_ASSIGN_OR_RETURN(auto blocks, parse_pem_blocks(bytes));
  for (const auto& block : blocks) {
    if (std::find(labels.begin(), labels.end(), block.label) == labels.end()) continue;
    std::string which =
        std::string(what) + " " + std::to_string(objects.size() + 1) + " of the file";
    TETHER_ASSIGN_OR_RETURN(auto object, (decode_der<T, Ptr, D2I>(block.der, which)));
    objects.push_back(std::move(object));
  }
  if (objects.empty()) {
    return make_error(Errc::parse_error,
                      "no '-----BEGIN " + std::string(*labels.begin()) + "-----' block found");
  }
  return objects;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

template <class T, auto I2D>
std::string encode_der(T* obj) {
  unsigned char* raw = nullptr;
  int len = I2D(obj, &raw);
  OpensslBytes out(raw);
  if (len <= 0) return {};
  return std::string(reinterpret_cast<char*>(out.get()), static_cast<size_t>(len));
}

}  // namespace

bool looks_like_pem(std::string_view bytes) {
  return bytes.find("-----BEGIN ") != bytes.npos;
}

Result<std::vector<PemBlock>> parse_pem_blocks(std::string_view text) {
  TETHER_TRY(check_size(text, "PEM input"));
  ERR_clear_error();
  BioPtr bio = memory_bio(text);
  std::vector<PemBlock> blocks;
  for (;;) {
    char* raw_name = nullptr;
    char* raw_header = nullptr;
    unsigned char* raw_data = nullptr;
    long len = 0;
    int rc = PEM_read_bio(bio.get(), &raw_name, &raw_header, &raw_data, &len);
    OpensslString name(raw_name);
    OpensslString header(raw_header);
    OpensslBytes data(raw_data);
    if (rc != 1) {
      unsigned long err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        break;  // no further block: normal end of input
      }
      return openssl_error(Errc::parse_error,
                           "PEM block " + std::to_string(blocks.size() + 1) + " is malformed");
    }
    blocks.push_back(
        {name.get(), std::string(reinterpret_cast<char*>(data.get()), static_cast<size_t>(len))});
  }
  if (blocks.empty()) return make_error(Errc::parse_error, "no PEM block found");
  return blocks;
}

Result<X509Ptr> parse_certificate(std::string_view bytes) {
  return decode_single<X509, X509Ptr, &d2i_X509>(bytes, "CERTIFICATE", "certificate");
}

Result<std::vector<X509Ptr>> parse_certificates(std::string_view bytes) {
  return decode_all<X509, X509Ptr, &d2i_X509>(bytes, {"CERTIFICATE", "TRUSTED CERTIFICATE"},
                                              "certificate");
}

Result<X509Ptr> parse_certificate_der(std::string_view der, std::string_view what) {
  TETHER_TRY(check_size(der, what));
  return decode_der<X509, X509Ptr, &d2i_X509>(der, what);
}

Result<std::vector<X509CrlPtr>> parse_crls(std::string_view bytes) {
  return decode_all<X509_CRL, X509CrlPtr, &d2i_X509_CRL>(bytes, {"X509 CRL"}, "CRL");
}

Result<X509ReqPtr> parse_csr(std::string_view bytes) {
  TETHER_TRY(check_size(bytes, "CSR"));
  if (looks_like_pem(bytes) &&
      bytes.find("-----BEGIN NEW CERTIFICATE REQUEST-----") != bytes.npos) {
    return decode_single<X509_REQ, X509ReqPtr, &d2i_X509_REQ>(bytes, "NEW CERTIFICATE REQUEST",
                                                              "CSR");
  }
  return decode_single<X509_REQ, X509ReqPtr, &d2i_X509_REQ>(bytes, "CERTIFICATE REQUEST", "CSR");
}

Result<X509CrlPtr> parse_crl(std::string_view bytes) {
  return decode_single<X509_CRL, X509CrlPtr, &d2i_X509_CRL>(bytes, "X509 CRL", "CRL");
}

Result<PkeyPtr> parse_private_key(std::string_view pem, std::string_view passphrase,
                                  std::string_view what) {
  TETHER_TRY(check_size(pem, what));
  ERR_clear_error();
  BioPtr bio = memory_bio(pem);
  std::string pass(passphrase);
  // A callback (rather than the u argument as a string) so that an empty passphrase is passed as
  // "no passphrase" and OpenSSL never prompts on a terminal.
  auto callback = [](char* buf, int size, int, void* u) -> int {
    const auto* p = static_cast<const std::string*>(u);
    if (p->empty() || p->size() > static_cast<size_t>(size)) return -1;
    p->copy(buf, p->size());
    return static_cast<int>(p->size());
  };
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, callback, &pass));
  OPENSSL_cleanse(pass.data(), pass.size());
  if (key) return key;
  bool encrypted = pem.find("ENCRYPTED") != pem.npos;
  if (encrypted && passphrase.empty()) {
    drain_openssl_errors();
    return make_error(Errc::passphrase_required,
                      std::string(what) +
                          " is encrypted and no passphrase was given; pass "
                          "--passphrase-file FILE, or set TETHER_CA_PASSPHRASE_FILE (a path) or "
                          "TETHER_CA_PASSPHRASE (the passphrase)");
  }
  if (encrypted) {
    drain_openssl_errors();
    return make_error(Errc::wrong_passphrase,
                      "wrong passphrase for " + std::string(what) + ": it could not be decrypted");
  }
  return openssl_error(Errc::parse_error, std::string(what) + " is not a valid PEM private key");
}

std::string to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bio_contents(bio.get());
}

std::string to_pem(X509_REQ* csr) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), csr);
  return bio_contents(bio.get());
}

std::string to_pem(X509_CRL* crl) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), crl);
  return bio_contents(bio.get());
}

std::string to_der(X509* cert) {
  return encode_der<X509, &i2d_X509>(cert);
}
std::string to_der(X509_CRL* crl) {
  return encode_der<X509_CRL, &i2d_X509_CRL>(crl);
}

Result<std::string> private_key_to_pem(EVP_PKEY* key, std::string_view passphrase) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  const EVP_CIPHER* cipher = passphrase.empty() ? nullptr : EVP_aes_256_cbc();
  std::string pass(passphrase);
  int rc =
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key, cipher, pass.empty() ? nullptr : pass.data(),
                                    static_cast<int>(pass.size()), nullptr, nullptr);
  OPENSSL_cleanse(pass.data(), pass.size());
  TETHER_TRY(check(rc, Errc::crypto_error, "cannot encode private key"));
  return bio_contents(bio.get());
}

std::string public_key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key);
  return bio_contents(bio.get());
}

}  // namespace tether::x509
