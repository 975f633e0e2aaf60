#include "verify/limbo.h"

#include <boost/json/parse.hpp>
#include <chrono>
#include <memory>

#include "common/archive_handles.h"
#include "common/fs.h"
#include "common/time_format.h"
#include "x509/inspect.h"
#include "x509/pem.h"

namespace tether::verify {

namespace {

namespace json = boost::json;

Error bad_field(const std::string& id, std::string_view field, std::string_view why) {
  return make_error(Errc::parse_error,
                    "case '" + id + "': field '" + std::string(field) + "' " + std::string(why));
}

Result<std::vector<std::string>> string_list(const json::object& tc, const std::string& id,
                                             std::string_view field) {
  std::vector<std::string> out;
  const json::value* v = tc.if_contains(field);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) return bad_field(id, field, "is not a list of strings");
  for (const json::value& item : v->as_array()) {
    if (!item.is_string()) return bad_field(id, field, "holds a non-string entry");
    out.emplace_back(item.as_string());
  }
  return out;
}

// A list of PEM texts, each parsed by `parse` (certificates or CRLs), flattened in order.
template <class Item>
Result<std::vector<Item>> pem_list(const json::object& tc, const std::string& id,
                                   std::string_view field, std::string_view what,
                                   Result<std::vector<Item>> (*parse)(std::string_view)) {
  std::vector<Item> out;
  TETHER_ASSIGN_OR_RETURN(std::vector<std::string> texts, string_list(tc, id, field));
  for (const std::string& text : texts) {
    auto parsed = parse(text);
    if (!parsed) {
      return bad_field(id, field,
                       "holds a bad " + std::string(what) + ": " + parsed.error().message);
    }
    for (auto& item : *parsed) out.push_back(std::move(item));
  }
  return out;
}

Result<PeerName> peer_name(const json::value& v, const std::string& id) {
  const json::object* o = v.if_object();
  const json::value* kind = o ? o->if_contains("kind") : nullptr;
  const json::value* value = o ? o->if_contains("value") : nullptr;
  if (kind == nullptr || value == nullptr || !kind->is_string() || !value->is_string())
    return bad_field(id, "expected_peer_name", "is not {kind, value}");
  PeerName name;
  name.value = std::string(value->as_string());
  if (kind->as_string() == "DNS") {
    name.kind = PeerName::Kind::dns;
  } else if (kind->as_string() == "IP") {
    name.kind = PeerName::Kind::ip;
  } else if (kind->as_string() == "RFC822") {
    name.kind = PeerName::Kind::email;
  } else {
    return bad_field(id, "expected_peer_name",
                     "has kind '" + std::string(kind->as_string()) + "': use DNS, IP or RFC822");
  }
  return name;
}

}  // namespace

Result<LimboCase> limbo_case_from_json(const json::object& tc) {
  LimboCase c;
  if (const json::value* id = tc.if_contains("id"); id && id->is_string()) {
    c.id = std::string(id->as_string());
  } else {
    return make_error(Errc::parse_error, "a test case has no string 'id'");
  }
  VerifyOptions& o = c.options;

  const json::value* kind = tc.if_contains("validation_kind");
  if (kind == nullptr || !kind->is_string())
    return bad_field(c.id, "validation_kind", "is missing");
  if (kind->as_string() == "SERVER") {
    o.purpose = Purpose::server;
  } else if (kind->as_string() == "CLIENT") {
    o.purpose = Purpose::client;
  } else {
    return bad_field(c.id, "validation_kind",
                     "is '" + std::string(kind->as_string()) + "': use SERVER or CLIENT");
  }

  TETHER_ASSIGN_OR_RETURN(
      o.trusted, pem_list(tc, c.id, "trusted_certs", "certificate", x509::parse_certificates));
  TETHER_ASSIGN_OR_RETURN(o.untrusted, pem_list(tc, c.id, "untrusted_intermediates", "certificate",
                                                x509::parse_certificates));
  const json::value* peer = tc.if_contains("peer_certificate");
  if (peer == nullptr || !peer->is_string())
    return bad_field(c.id, "peer_certificate", "is missing");
  auto leaf = x509::parse_certificate(peer->as_string());
  if (!leaf)
    return bad_field(c.id, "peer_certificate", "is not a certificate: " + leaf.error().message);
  c.leaf = std::move(leaf).value();

  if (const json::value* t = tc.if_contains("validation_time"); t && !t->is_null()) {
    if (!t->is_string()) return bad_field(c.id, "validation_time", "is not a string");
    // RFC 5280 times have whole seconds: a fractional validation time is truncated, so
    // 00:00:00.999 is still the second 00:00:00.
    auto at = parse_rfc3339(t->as_string());
    if (!at) return bad_field(c.id, "validation_time", at.error().message);
    o.at = *at;
  }
  TETHER_ASSIGN_OR_RETURN(o.extended_key_usages, string_list(tc, c.id, "extended_key_usage"));
  TETHER_ASSIGN_OR_RETURN(o.key_usages, string_list(tc, c.id, "key_usage"));

  if (const json::value* n = tc.if_contains("expected_peer_name"); n && !n->is_null()) {
    TETHER_ASSIGN_OR_RETURN(PeerName name, peer_name(*n, c.id));
    o.names.push_back(std::move(name));
  }
  if (const json::value* ns = tc.if_contains("expected_peer_names"); ns && ns->is_array()) {
    for (const json::value& n : ns->as_array()) {
      TETHER_ASSIGN_OR_RETURN(PeerName name, peer_name(n, c.id));
      o.names.push_back(std::move(name));
    }
  }
  if (const json::value* d = tc.if_contains("max_chain_depth"); d && !d->is_null()) {
    if (!d->is_int64() || d->as_int64() < 0 || d->as_int64() > 1000)
      return bad_field(c.id, "max_chain_depth", "is not a depth from 0 to 1000");
    o.max_depth = static_cast<int>(d->as_int64());
  }
  TETHER_ASSIGN_OR_RETURN(o.crls, pem_list(tc, c.id, "crls", "CRL", x509::parse_crls));
  // When a case carries CRLs, revocation is checked for the whole chain.
  o.crl_check_all = !o.crls.empty();
  return c;
}

LimboOutcome run_limbo_case(const json::object& testcase) {
  auto start = std::chrono::steady_clock::now();
  LimboOutcome out;
  auto c = limbo_case_from_json(testcase);
  if (!c) {
    // A case whose inputs cannot be read (a malformed certificate, say) is one tether refuses.
    const json::value* id = testcase.if_contains("id");
    out.id = id && id->is_string() ? std::string(id->as_string()) : "";
    out.actual_result = "FAILURE";
    out.context = std::string(c.error().reason()) + ": " + c.error().message;
  } else {
    out.id = c->id;
    auto verified = verify_chain(c->leaf.get(), c->options);
    if (verified) {
      out.actual_result = "SUCCESS";
    } else {
      out.actual_result = "FAILURE";
      out.context = std::string(verified.error().reason()) + ": " + verified.error().message;
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

Result<json::array> limbo_testcases(std::string_view document) {
  boost::system::error_code ec;
  json::value doc = json::parse(document, ec);
  if (ec) return make_error(Errc::parse_error, "suite is not JSON: " + ec.message());
  const json::object* root = doc.if_object();
  const json::value* cases = root ? root->if_contains("testcases") : nullptr;
  if (cases == nullptr || !cases->is_array())
    return make_error(Errc::parse_error, "suite has no 'testcases' list");
  for (const json::value& tc : cases->as_array()) {
    if (!tc.is_object()) return make_error(Errc::parse_error, "a test case is not an object");
  }
  return std::move(doc.as_object()["testcases"].as_array());
}

Result<std::string> read_maybe_gzipped(const std::string& path) {
  auto file = fs::read_file(path, "suite");
  if (!file) return std::move(file).error();
  const std::string& bytes = *file;
  if (!std::string_view(bytes).starts_with("\x1f\x8b")) return std::move(file).value();
  ArchiveReader a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_raw(a.get());
  auto fail = [&](std::string_view what) {
    return make_error(Errc::parse_error, "cannot gunzip '" + path + "': " + std::string(what) +
                                             ": " + archive_error_string(a.get()));
  };
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    return fail("open");
  archive_entry* entry = nullptr;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) return fail("header");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
    if (n < 0) return fail("data");
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace tether::verify
