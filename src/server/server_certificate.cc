#include "server/server_certificate.h"

#include <algorithm>

#include "common/fs.h"
#include "pki/lifecycle.h"
#include "x509/inspect.h"
#include "x509/pem.h"

namespace tether::server {

namespace {

// Writes `data` beside `path`, syncs it and renames it into place.
Status replace_file(const std::string& path, const std::string& data, unsigned mode) {
  std::string staged = path + ".new";
  fs::remove_all(staged);
  TETHER_TRY(fs::write_new_file(staged, data, mode));
  return fs::rename_path(staged, path);
}

// Whether the certificate on disk is the recorded one and names what the config asks for.
bool files_current(const ServerPaths& paths, const store::CertificateRecord& record,
                   const ServerConfig& config) {
  auto chain = fs::read_file(paths.server_chain, "server certificate");
  if (!chain || !fs::exists(paths.server_key)) return false;
  auto cert = x509::parse_certificate(*chain);
  if (!cert || x509::serial_hex(cert->get()) != record.serial) return false;
  auto dns = x509::dns_sans(cert->get());
  auto ips = x509::ip_sans(cert->get());
  auto want_ips = pki::ServerNames::parse(config.dns, config.ips);
  if (!want_ips) return false;
  std::sort(dns.begin(), dns.end());
  std::sort(ips.begin(), ips.end());
  auto want_dns = want_ips->dns;
  auto want_ip = want_ips->ips;
  std::sort(want_dns.begin(), want_dns.end());
  std::sort(want_ip.begin(), want_ip.end());
  return dns == want_dns && ips == want_ip;
}

}  // namespace

int64_t renewal_due(int64_t not_before, int64_t not_after) {
  return not_before + (not_after - not_before) * 2 / 3;
}

Result<bool> ensure_server_certificate(store::Store& store, pki::CertificateAuthority& ca,
                                       const ServerConfig& config, const ServerPaths& paths,
                                       int64_t now) {
  store::CertificateFilter filter;
  filter.kind = "gateway";
  filter.name = kServerIdentityName;
  TETHER_ASSIGN_OR_RETURN(auto certs, store.list_certificates(filter));
  const store::CertificateRecord* current = pki::certificate_to_replace(certs);
  bool usable = current != nullptr && !current->revoked_at && now < current->not_after &&
                now < renewal_due(current->not_before, current->not_after) &&
                files_current(paths, *current, config);
  if (usable) return false;

  pki::NamedIssueRequest request;
  request.kind = verify::IdentityKind::gateway;
  request.name = kServerIdentityName;
  TETHER_ASSIGN_OR_RETURN(request.names, pki::ServerNames::parse(config.dns, config.ips));
  request.profile.key_type = x509::KeyType::ecdsa_p256;
  TETHER_ASSIGN_OR_RETURN(request.profile.days, pki::Days::of(config.server_certificate_days));
  pki::Context ctx{"server", now};
  auto issued = current == nullptr ? pki::issue_named(store, ca, ctx, std::move(request))
                                   : pki::renew_named(store, ca, ctx, std::move(request));
  if (!issued) return std::move(issued).error();
  if (!fs::exists(paths.server_dir)) TETHER_TRY(fs::make_dir(paths.server_dir, 0700));
  TETHER_ASSIGN_OR_RETURN(std::string key, x509::private_key_to_pem(issued->private_key.get(), ""));
  // The key first: a listener that reloads between the two renames finds a key that does not
  // match the old certificate and keeps its running context, then picks up the pair.
  Status wrote_key = replace_file(paths.server_key, key, 0600);
  OPENSSL_cleanse(key.data(), key.size());
  TETHER_TRY(wrote_key);
  TETHER_TRY(replace_file(paths.server_chain,
                          issued->certificate.pem + x509::to_pem(issued->issuing), 0644));
  TETHER_TRY(fs::sync_dir(paths.server_dir));
  return true;
}

}  // namespace tether::server
