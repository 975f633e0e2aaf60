// The tether CA as one component: the root and its two issuing intermediates ("tether Connector
// CA" for client certificates, "tether Server CA" for server certificates) of one data
// directory, their keys behind a KeyStore, and the store's record of them.
//
// The CLI parses arguments, sources the passphrase and prints; everything else about making
// and opening a CA is here.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pki/authority.h"
#include "pki/ca_files.h"
#include "pki/context.h"
#include "pki/key_store.h"
#include "store/store.h"

namespace tether::pki {

// The choices `ca init` takes, checked when made, so initialisation starts from valid ones.
class CaInitOptions {
 public:
  CaInitOptions() = default;  // ECDSA P-256 keys, trust domain tether.internal
  static Result<CaInitOptions> create(x509::KeyType key_type, std::string trust_domain);

  x509::KeyType key_type() const { return key_type_; }
  const std::string& trust_domain() const { return trust_domain_; }

 private:
  x509::KeyType key_type_ = x509::KeyType::ecdsa_p256;
  std::string trust_domain_ = "tether.internal";
};

class CertificateAuthority {
 public:
  // Opens the key store for a CA directory. Initialisation writes a new CA into a staging
  // directory and renames it into place, so the CA appears whole or not at all; a key store
  // whose keys are not files (a PKCS#11 token) may ignore the directory.
  using KeyStoreAt = std::function<std::unique_ptr<KeyStore>(const std::string& ca_dir)>;

  // Makes the root, the Connector CA and the Server CA in <data>/ca and records them in the
  // store with a "ca.init" audit event. Refuses (Errc::ca_exists) when either already has a CA.
  static Result<CertificateAuthority> initialize(const std::string& data_dir, store::Store& store,
                                                 const KeyStoreAt& keys_at,
                                                 const CaInitOptions& options, const Context& ctx);
  // Opens the CA of a data directory. Reads certificates only: keys are loaded when an issuer
  // is first asked for.
  static Result<CertificateAuthority> open(const std::string& data_dir, store::Store& store,
                                           std::unique_ptr<KeyStore> keys);

  // The issuing CA for `role`, its key loaded on first use. A data directory made before the
  // Server CA existed gets it here, on the first command that needs it, signed by the root key,
  // with a "ca.server_ca.create" audit event.
  Result<const Authority*> issuer(IssuerRole role, const Context& ctx);
  Result<const Authority*> issuer_for(verify::IdentityKind kind, const Context& ctx) {
    return issuer(profile_for(kind).issuer, ctx);
  }

  X509* root() const { return certs_.root.get(); }
  X509* connector_ca() const { return certs_.connector_ca.get(); }
  // Null until the Server CA is made (see issuer()).
  X509* server_ca() const { return certs_.server_ca.get(); }
  const std::string& trust_domain() const { return trust_domain_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  CertificateAuthority(std::string data_dir, store::Store& store, std::unique_ptr<KeyStore> keys,
                       CaCertificates certs, std::string trust_domain);
  Status make_server_ca(const Context& ctx);
  Result<std::unique_ptr<Authority>> load_issuer(IssuerRole role) const;

  std::string data_dir_;
  store::Store* store_;
  std::unique_ptr<KeyStore> keys_;
  CaCertificates certs_;
  std::string trust_domain_;
  std::unique_ptr<Authority> connector_issuer_;
  std::unique_ptr<Authority> server_issuer_;
};

}  // namespace tether::pki
