// The CA's certificates in the data directory: <data>/ca/root.pem, issuing.pem (the Connector
// CA, whose name gateways' listener.intermediates default reads) and server-ca.pem (the Server
// CA). The keys beside them belong to the key store (file_key_store.h), not to this layout.
#pragma once

#include <string>

#include "common/error.h"
#include "x509/handles.h"

namespace tether::pki {

struct CaPaths {
  std::string dir;
  std::string root_cert;
  std::string connector_ca_cert;
  std::string server_ca_cert;

  static CaPaths in(const std::string& data_dir);
};

// Key store labels of the CA's keys.
inline constexpr const char* kRootKeyLabel = "root";
inline constexpr const char* kConnectorCaKeyLabel = "issuing";
inline constexpr const char* kServerCaKeyLabel = "server-ca";

struct CaCertificates {
  x509::X509Ptr root;
  x509::X509Ptr connector_ca;
  x509::X509Ptr server_ca;  // null in a data directory made before the Server CA existed
};

bool ca_exists(const std::string& data_dir);
Result<CaCertificates> load_ca_certificates(const std::string& data_dir);
Result<x509::X509Ptr> load_certificate_file(const std::string& path, std::string_view what);

}  // namespace tether::pki
