// Owning smart pointers for every OpenSSL handle tether uses.
//
// This is the only place that names an OpenSSL *_free function. Everywhere else a raw pointer is
// a borrowed parameter; ownership is always one of the types below.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <vector>

namespace tether::x509 {

template <auto F>
struct Free {
  template <class T>
  void operator()(T* p) const {
    F(p);
  }
};

// Buffers OpenSSL allocates for us (i2d output, BN_bn2hex, ASN1_STRING_to_UTF8, PEM_read_bio).
inline void openssl_free(void* p) {
  OPENSSL_free(p);
}
using OpensslBytes = std::unique_ptr<unsigned char, Free<&openssl_free>>;
using OpensslString = std::unique_ptr<char, Free<&openssl_free>>;

using BioPtr = std::unique_ptr<BIO, Free<&BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Free<&BN_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Free<&ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Free<&ASN1_TIME_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Free<&ASN1_OCTET_STRING_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Free<&ASN1_OBJECT_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<&EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<&EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<&EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Free<&X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, Free<&X509_REQ_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, Free<&X509_CRL_free>>;
using X509RevokedPtr = std::unique_ptr<X509_REVOKED, Free<&X509_REVOKED_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Free<&X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Free<&X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Free<&X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<&X509_STORE_CTX_free>>;
using X509VerifyParamPtr = std::unique_ptr<X509_VERIFY_PARAM, Free<&X509_VERIFY_PARAM_free>>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, Free<&PKCS12_free>>;
using BasicConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, Free<&BASIC_CONSTRAINTS_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free<&GENERAL_NAMES_free>>;
using ExtKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, Free<&EXTENDED_KEY_USAGE_free>>;
using Asn1EnumeratedPtr = std::unique_ptr<ASN1_ENUMERATED, Free<&ASN1_ENUMERATED_free>>;
using NameConstraintsPtr = std::unique_ptr<NAME_CONSTRAINTS, Free<&NAME_CONSTRAINTS_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, Free<&AUTHORITY_KEYID_free>>;

// An extension's value as X509V3_EXT_d2i decoded it: a structure of the extension's own type,
// freed the way its method says (an ASN1_ITEM, or the method's ext_free).
class DecodedExtension {
 public:
  DecodedExtension(const X509V3_EXT_METHOD* method, void* value) : method_(method), value_(value) {}
  ~DecodedExtension() {
    if (value_ == nullptr) return;
    if (method_->it != nullptr) {
      ASN1_item_free(static_cast<ASN1_VALUE*>(value_), ASN1_ITEM_ptr(method_->it));
    } else {
      method_->ext_free(value_);
    }
  }
  DecodedExtension(const DecodedExtension&) = delete;
  DecodedExtension& operator=(const DecodedExtension&) = delete;
  void* get() const { return value_; }

 private:
  const X509V3_EXT_METHOD* method_;
  void* value_;
};

// A stack of certificates that owns its elements (sk_X509_pop_free on destruction).
struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

// A stack that only borrows its certificates (sk_X509_free: the elements are not freed).
struct X509BorrowedStackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using X509BorrowedStackPtr = std::unique_ptr<STACK_OF(X509), X509BorrowedStackFree>;

struct X509CrlStackFree {
  void operator()(STACK_OF(X509_CRL) * s) const { sk_X509_CRL_pop_free(s, X509_CRL_free); }
};
using X509CrlStackPtr = std::unique_ptr<STACK_OF(X509_CRL), X509CrlStackFree>;

struct X509ExtensionStackFree {
  void operator()(STACK_OF(X509_EXTENSION) * s) const {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};
using X509ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), X509ExtensionStackFree>;

// Takes a new reference on a borrowed handle and returns it owned.
inline X509Ptr up_ref(X509* cert) {
  X509_up_ref(cert);
  return X509Ptr(cert);
}
inline PkeyPtr up_ref(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  return PkeyPtr(key);
}
inline X509CrlPtr up_ref(X509_CRL* crl) {
  X509_CRL_up_ref(crl);
  return X509CrlPtr(crl);
}

// Builds an owning stack holding new references to the given certificates.
X509StackPtr make_stack(const std::vector<X509Ptr>& certs);
X509CrlStackPtr make_crl_stack(const std::vector<X509CrlPtr>& crls);
// The certificates of a stack, borrowed: valid as long as the stack holds them.
std::vector<X509*> stack_certificates(const STACK_OF(X509) * stack);

}  // namespace tether::x509

// TLS handles (libssl). Only targets that link OpenSSL::SSL instantiate these.
#include <openssl/ssl.h>

namespace tether::x509 {

using SslCtxPtr = std::unique_ptr<SSL_CTX, Free<&SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Free<&SSL_free>>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, Free<&SSL_SESSION_free>>;
using LibraryCtxPtr = std::unique_ptr<OSSL_LIB_CTX, Free<&OSSL_LIB_CTX_free>>;

// The ex_data calls of the two owners OpenSSL lets tether keep objects on.
inline void* ex_data(const SSL* ssl, int slot) {
  return SSL_get_ex_data(ssl, slot);
}
inline void* ex_data(const SSL_CTX* ctx, int slot) {
  return SSL_CTX_get_ex_data(ctx, slot);
}
inline int set_ex_data(SSL* ssl, int slot, void* value) {
  return SSL_set_ex_data(ssl, slot, value);
}
inline int set_ex_data(SSL_CTX* ctx, int slot, void* value) {
  return SSL_CTX_set_ex_data(ctx, slot, value);
}
inline int new_ex_data_slot(SSL*, CRYPTO_EX_free* free_slot) {
  return SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_slot);
}
inline int new_ex_data_slot(SSL_CTX*, CRYPTO_EX_free* free_slot) {
  return SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_slot);
}

// Owns one object of type T per Owner (an SSL or an SSL_CTX), in an ex_data slot of its own:
// set() replaces it and the owner's destruction frees it. The slot holds a pointer its owner
// owns; nothing else frees it.
template <class Owner, class T>
class OwnedExData {
 public:
  // Returns the object now in the slot (null if OpenSSL could not store it).
  static T* set(Owner* owner, T value) {
    auto owned = std::make_unique<T>(std::move(value));
    std::unique_ptr<T> previous(get(owner));
    if (set_ex_data(owner, slot(), owned.get()) != 1) {
      previous.release();  // still in the slot: the owner keeps owning it
      return nullptr;
    }
    return owned.release();
  }
  static T* get(Owner* owner) { return static_cast<T*>(ex_data(owner, slot())); }
  static const T* get(const Owner* owner) { return static_cast<const T*>(ex_data(owner, slot())); }

 private:
  static void free_slot(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
    std::unique_ptr<T> owned(static_cast<T*>(ptr));
  }
  static int slot() {
    static const int index = new_ex_data_slot(static_cast<Owner*>(nullptr), &free_slot);
    return index;
  }
};

template <class T>
using SslExData = OwnedExData<SSL, T>;
template <class T>
using SslCtxExData = OwnedExData<SSL_CTX, T>;

}  // namespace tether::x509
