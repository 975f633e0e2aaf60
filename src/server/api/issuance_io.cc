#include "server/api/issuance_io.h"

#include <openssl/crypto.h>

#include <boost/json.hpp>

#include "server/responses.h"
#include "x509/pem.h"

namespace tether::server::api {

namespace json = boost::json;

namespace {

Result<pki::BundleFormat> parse_format(std::string_view text) {
  if (text == "tar.gz") return pki::BundleFormat::tar_gz;
  if (text == "zip") return pki::BundleFormat::zip;
  if (text == "p12") return pki::BundleFormat::pkcs12;
  return make_field_error(
      Errc::invalid_argument, "format",
      "format '" + std::string(text) + "' is not one of json, tar.gz, zip, p12");
}

std::string_view media_type(pki::BundleFormat format) {
  switch (format) {
    case pki::BundleFormat::tar_gz:
      return "application/gzip";
    case pki::BundleFormat::zip:
      return "application/zip";
    case pki::BundleFormat::pkcs12:
      return "application/x-pkcs12";
    case pki::BundleFormat::directory:
      break;
  }
  return "application/octet-stream";
}

std::string_view extension(pki::BundleFormat format) {
  switch (format) {
    case pki::BundleFormat::tar_gz:
      return ".tar.gz";
    case pki::BundleFormat::zip:
      return ".zip";
    case pki::BundleFormat::pkcs12:
      return ".p12";
    case pki::BundleFormat::directory:
      break;
  }
  return "";
}

}  // namespace

Result<IssuanceOptions> read_issuance_options(const ApiContext& ctx, const json::object& body) {
  IssuanceOptions out;
  TETHER_ASSIGN_OR_RETURN(auto key_type, optional_string(body, "key_type"));
  if (key_type) {
    auto parsed = x509::parse_key_type(*key_type);
    if (!parsed) {
      Error e = std::move(parsed).error();
      e.field = "body.key_type";
      return e;
    }
    out.key_type = *parsed;
  }
  TETHER_ASSIGN_OR_RETURN(auto days, optional_int(body, "days"));
  if (days) {
    auto parsed = pki::Days::of(*days > INT32_MAX ? INT32_MAX : static_cast<int>(*days));
    if (!parsed) {
      Error e = std::move(parsed).error();
      e.field = "body.days";
      return e;
    }
    out.days = *parsed;
  }
  TETHER_ASSIGN_OR_RETURN(auto csr, optional_string(body, "csr"));
  if (csr) {
    auto parsed = x509::parse_csr(*csr);
    if (!parsed) {
      Error e = std::move(parsed).error();
      e.field = "body.csr";
      e.message = "csr: " + e.message;
      return e;
    }
    out.csr = std::move(parsed).value();
  }
  std::optional<std::string> format = ctx.query("format");
  TETHER_ASSIGN_OR_RETURN(auto body_format, optional_string(body, "format"));
  if (body_format) format = body_format;
  if (format && *format != "json") {
    TETHER_ASSIGN_OR_RETURN(out.bundle, parse_format(*format));
  }
  TETHER_ASSIGN_OR_RETURN(auto p12, optional_string(body, "p12_passphrase"));
  if (out.bundle == pki::BundleFormat::pkcs12) {
    if (!p12 || p12->empty()) {
      return make_field_error(Errc::invalid_argument, "body.p12_passphrase",
                              "a PKCS#12 bundle needs p12_passphrase to encrypt the key with");
    }
    if (out.csr) {
      return make_field_error(Errc::invalid_argument, "format",
                              "a PKCS#12 bundle holds the private key, which the server does not "
                              "have in CSR mode: ask for json, tar.gz or zip");
    }
    out.p12_passphrase = std::move(*p12);
  }
  return out;
}

Result<Response> issued_response(const pki::IssuedBundle& issued, X509* root,
                                 const IssuanceOptions& options, const std::string& file_stem,
                                 json::object document) {
  X509* leaf = issued.certificate.cert.get();
  if (options.bundle) {
    pki::BundleContents contents{
        leaf,      issued.issuing,        root, issued.private_key.get(), file_stem,
        file_stem, options.p12_passphrase};
    TETHER_ASSIGN_OR_RETURN(std::string bytes, pki::bundle_bytes(*options.bundle, contents));
    Response res =
        bytes_response(http::status::created, std::move(bytes), media_type(*options.bundle));
    res.set(http::field::content_disposition,
            "attachment; filename=\"" + file_stem + std::string(extension(*options.bundle)) + "\"");
    res.set("X-Tether-Serial", issued.certificate.serial);
    return res;
  }
  json::object bundle{{"certificate_pem", issued.certificate.pem},
                      {"chain_pem", issued.certificate.pem + x509::to_pem(issued.issuing)},
                      {"ca_pem", x509::to_pem(root)}};
  if (issued.private_key) {
    TETHER_ASSIGN_OR_RETURN(std::string key,
                            x509::private_key_to_pem(issued.private_key.get(), ""));
    bundle["private_key_pem"] = key;
    OPENSSL_cleanse(key.data(), key.size());
  }
  document["bundle"] = std::move(bundle);
  return json_response(http::status::created, document);
}

}  // namespace tether::server::api
