// Reading the issuance options of a create or renew request, and answering with the new
// certificate in the format the client asked for: JSON with PEM fields, or one bundle file
// (.tar.gz, .zip, PKCS#12) to download.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "common/error.h"
#include "pki/bundle.h"
#include "pki/lifecycle.h"
#include "server/router.h"

namespace tether::server::api {

struct IssuanceOptions {
  std::optional<x509::KeyType> key_type;
  std::optional<pki::Days> days;
  x509::X509ReqPtr csr;
  // Format of the answer: json (default), tar.gz, zip or p12 (?format=, or the body's "format").
  std::optional<pki::BundleFormat> bundle;
  std::string p12_passphrase;
};

// Reads key_type, days, csr (PEM text), format and p12_passphrase from the body (besides the
// members `also` lists, which the caller reads). Errors name the field.
Result<IssuanceOptions> read_issuance_options(const ApiContext& ctx,
                                              const boost::json::object& body);

// The 201 answer: JSON {connector?, certificate, bundle: {certificate_pem, chain_pem,
// private_key_pem?, ca_pem}}, or the bundle file with a Content-Disposition naming it.
Result<Response> issued_response(const pki::IssuedBundle& issued, X509* root,
                                 const IssuanceOptions& options, const std::string& file_stem,
                                 boost::json::object document);

}  // namespace tether::server::api
