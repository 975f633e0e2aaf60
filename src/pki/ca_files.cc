#include "pki/ca_files.h"

#include "common/fs.h"
#include "x509/pem.h"

namespace tether::pki {

Result<x509::X509Ptr> load_certificate_file(const std::string& path, std::string_view what) {
  TETHER_ASSIGN_OR_RETURN(std::string pem, fs::read_file(path, what));
  auto cert = x509::parse_certificate(pem);
  if (!cert) {
    return make_error(cert.error().code,
                      std::string(what) + " '" + path + "': " + cert.error().message);
  }
  return std::move(cert).value();
}

CaPaths CaPaths::in(const std::string& data_dir) {
  std::string dir = data_dir + "/ca";
  return CaPaths{dir, dir + "/root.pem", dir + "/issuing.pem", dir + "/server-ca.pem"};
}

bool ca_exists(const std::string& data_dir) {
  return fs::exists(CaPaths::in(data_dir).dir);
}

Result<CaCertificates> load_ca_certificates(const std::string& data_dir) {
  CaPaths paths = CaPaths::in(data_dir);
  if (!fs::exists(paths.dir)) {
    return make_error(Errc::ca_missing, "no CA in '" + data_dir + "': run 'tether ca init --data " +
                                            data_dir + "' first");
  }
  CaCertificates certs;
  TETHER_ASSIGN_OR_RETURN(certs.root, load_certificate_file(paths.root_cert, "root certificate"));
  TETHER_ASSIGN_OR_RETURN(certs.connector_ca, load_certificate_file(paths.connector_ca_cert,
                                                                    "Connector CA certificate"));
  if (fs::exists(paths.server_ca_cert)) {
    TETHER_ASSIGN_OR_RETURN(certs.server_ca,
                            load_certificate_file(paths.server_ca_cert, "Server CA certificate"));
  }
  return certs;
}

}  // namespace tether::pki
