#include "gateway/config.h"

#include <toml++/toml.h>

#include <boost/asio/ip/address.hpp>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <tuple>

#include "common/dns_name.h"
#include "common/duration.h"
#include "common/quote.h"
#include "gateway/embedded_config.h"
#include "verify/identity.h"

namespace tether::gateway {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

namespace {

std::string quoted(std::string_view value) {
  return quote_value(value, '"');
}

std::string describe(const toml::node& n) {
  if (auto s = n.as_string()) return quoted(s->get());
  if (auto i = n.as_integer()) return std::to_string(i->get());
  if (auto b = n.as_boolean()) return b->get() ? "true" : "false";
  if (n.is_table()) return "(a table)";
  if (n.is_array()) return "(an array)";
  if (n.is_floating_point()) return "(a float)";
  return "(a date or time)";
}

std::string join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

// A lowercase DNS name of at least `min_labels` labels.
bool dns_name(std::string_view name, size_t min_labels) {
  return is_ldh_name(name, LetterCase::lower_only) && label_count(name) >= min_labels;
}

// Every segment of a path prefix (which starts with '/') is non-empty and not "." or "..": requests
// are matched after dot segments are resolved, so such a prefix could never match as written.
bool clean_segments(std::string_view v) {
  std::string_view rest = v.substr(1);
  size_t start = 0;
  while (start < rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view seg = rest.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

// Bounds of tls.session_cache_size other than 0 ("off"). A session with a P-256 client
// certificate takes about 900 bytes (more with RSA), so 16 KiB holds about 18; 64 GiB is beyond
// any sane budget and keeps the arithmetic far from overflow.
constexpr uint64_t kMinSessionCacheBytes = uint64_t{16} << 10;
constexpr uint64_t kMaxSessionCacheBytes = uint64_t{64} << 30;

// "<n>KiB", "<n>MiB" or "<n>GiB" (powers of 1024) in bytes, "off" as 0; nullopt for anything
// else. At most 9 digits, so that even GiB cannot overflow.
std::optional<uint64_t> parse_byte_size(std::string_view text) {
  if (text == "off") return 0;
  size_t digits = text.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos || digits > 9) return std::nullopt;
  std::string_view unit = text.substr(digits);
  int shift = unit == "KiB" ? 10 : unit == "MiB" ? 20 : unit == "GiB" ? 30 : -1;
  if (shift < 0) return std::nullopt;
  uint64_t n = 0;
  for (char c : text.substr(0, digits)) n = n * 10 + static_cast<uint64_t>(c - '0');
  return n << shift;
}

// Reads one TOML document into a Config, remembering the source name for every message.
class Reader {
 public:
  explicit Reader(std::string_view source, const EmbeddedDefaults* embedded = nullptr)
      : source_(source), embedded_(embedded) {}

  // "<source>:<line>" where toml++ knows the line.
  std::string place(const toml::node* at) const {
    std::string out(source_);
    if (at && at->source().begin.line > 0) out += ":" + std::to_string(at->source().begin.line);
    return out;
  }

  // "<source>:<line>: <setting> = <value>: <problem and fix>"
  Error fail(const toml::node* at, std::string_view setting, std::string_view value,
             std::string_view detail) const {
    std::string msg = place(at) + ": " + std::string(setting);
    if (!value.empty()) msg += " = " + std::string(value);
    msg += ": " + std::string(detail);
    return make_error(Errc::invalid_argument, std::move(msg));
  }

  Status only_keys(const toml::table& t, std::string_view path,
                   std::initializer_list<std::string_view> known) const {
    for (const auto& [key, node] : t) {
      bool ok = false;
      for (auto k : known) ok = ok || key.str() == k;
      if (ok) continue;
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return fail(&node, join(path, key.str()), "",
                  "unknown setting: the settings here are " + list);
    }
    return ok_status();
  }

  Result<std::optional<std::string>> opt_string(const toml::table& t, std::string_view path,
                                                std::string_view key) const {
    const toml::node* n = t.get(key);
    if (!n) return std::optional<std::string>();
    auto s = n->as_string();
    if (!s) return fail(n, join(path, key), describe(*n), "must be a string in double quotes");
    if (s->get().empty()) return fail(n, join(path, key), "\"\"", "must not be empty");
    return std::optional<std::string>(s->get());
  }

  Result<std::string> req_string(const toml::table& t, std::string_view path, std::string_view key,
                                 std::string_view fix) const {
    TETHER_ASSIGN_OR_RETURN(auto v, opt_string(t, path, key));
    if (!v) return fail(&t, join(path, key), "", "is missing: " + std::string(fix));
    return *v;
  }

  Result<std::optional<int64_t>> opt_int(const toml::table& t, std::string_view path,
                                         std::string_view key, int64_t min, int64_t max) const {
    const toml::node* n = t.get(key);
    if (!n) return std::optional<int64_t>();
    auto i = n->as_integer();
    if (!i) return fail(n, join(path, key), describe(*n), "must be an integer without quotes");
    if (i->get() < min || i->get() > max) {
      return fail(n, join(path, key), describe(*n),
                  "must be from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return std::optional<int64_t>(i->get());
  }

  Result<std::optional<bool>> opt_bool(const toml::table& t, std::string_view path,
                                       std::string_view key) const {
    const toml::node* n = t.get(key);
    if (!n) return std::optional<bool>();
    auto b = n->as_boolean();
    if (!b) return fail(n, join(path, key), describe(*n), "must be true or false, without quotes");
    return std::optional<bool>(b->get());
  }

  // Seconds from a "10s" / "1m" string; must be positive.
  Result<int64_t> duration(const toml::table& t, std::string_view path, std::string_view key,
                           int64_t fallback) const {
    TETHER_ASSIGN_OR_RETURN(auto text, opt_string(t, path, key));
    if (!text) return fallback;
    const toml::node* n = t.get(key);
    auto seconds = parse_duration(*text, join(path, key));
    if (!seconds) return fail(n, join(path, key), quoted(*text), seconds.error().message);
    if (*seconds <= 0) return fail(n, join(path, key), quoted(*text), "must be at least 1s");
    return *seconds;
  }

  Result<std::vector<std::string>> string_list(const toml::table& t, std::string_view path,
                                               std::string_view key, std::string_view fix) const {
    const toml::node* n = t.get(key);
    std::string setting = join(path, key);
    if (!n) return fail(&t, setting, "", "is missing: " + std::string(fix));
    auto arr = n->as_array();
    if (!arr) return fail(n, setting, describe(*n), "must be a list: " + std::string(fix));
    if (arr->empty()) return fail(n, setting, "[]", "must not be empty: " + std::string(fix));
    std::vector<std::string> out;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = *arr->get(i);
      std::string at = setting + "[" + std::to_string(i) + "]";
      auto s = e.as_string();
      if (!s) return fail(&e, at, describe(e), "must be a string in double quotes");
      if (s->get().empty()) return fail(&e, at, "\"\"", "must not be empty");
      out.push_back(s->get());
    }
    return out;
  }

  Result<const toml::table*> opt_table(const toml::table& t, std::string_view key) const {
    const toml::node* n = t.get(key);
    if (!n) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) {
      return fail(n, key, describe(*n), "must be a table: write [" + std::string(key) + "]");
    }
    return n->as_table();
  }

  Result<Config> config(const toml::table& root) const;

 private:
  Status listener(const toml::table& t, ListenerConfig& out) const;
  Status limits(const toml::table& t, LimitsConfig& out) const;
  Status tls(const toml::table& t, TlsConfig& out) const;
  Result<AdminConfig> admin(const toml::table& t) const;
  Status store(const toml::table& t, StoreConfig& out) const;
  Result<Route> route(const toml::table& t, std::string_view path) const;
  Status match(const toml::table& t, std::string_view path, Route& out) const;
  Status cross_checks(const toml::table& root, const Config& c) const;

  std::string_view source_;
  const EmbeddedDefaults* embedded_;
};

Status Reader::listener(const toml::table& t, ListenerConfig& out) const {
  constexpr std::string_view p = "listener";
  TETHER_TRY(only_keys(t, p,
                       {"address", "port", "server_cert", "server_key", "trust", "intermediates",
                        "min_version", "proxy_protocol", "proxy_protocol_from"}));
  TETHER_ASSIGN_OR_RETURN(auto address, opt_string(t, p, "address"));
  if (address) out.address = *address;
  TETHER_ASSIGN_OR_RETURN(auto port, opt_int(t, p, "port", 0, 65535));
  if (port) out.port = static_cast<uint16_t>(*port);
  if (embedded_ != nullptr && !t.contains("server_cert") && !t.contains("server_key")) {
    out.server_cert = embedded_->server_cert;
    out.server_key = embedded_->server_key;
  } else {
    TETHER_ASSIGN_OR_RETURN(out.server_cert, req_string(t, p, "server_cert",
                                                        "set it to the server certificate PEM "
                                                        "file (leaf, then intermediates)"));
    TETHER_ASSIGN_OR_RETURN(
        out.server_key,
        req_string(t, p, "server_key", "set it to the server private key PEM file"));
  }
  if (embedded_ != nullptr && !t.contains("trust")) {
    out.trust = embedded_->trust;
  } else {
    TETHER_ASSIGN_OR_RETURN(out.trust, string_list(t, p, "trust",
                                                   "list the PEM files of the trust anchors, e.g. "
                                                   "trust = [\"/etc/tether/ca.pem\"]"));
  }
  if (t.contains("intermediates")) {
    TETHER_ASSIGN_OR_RETURN(
        out.intermediates,
        string_list(t, p, "intermediates",
                    "list PEM files of the CA certificates that issue client certificates, e.g. "
                    "intermediates = [\"/var/lib/tether/ca/issuing.pem\"]"));
  }
  TETHER_ASSIGN_OR_RETURN(auto proxy, opt_bool(t, p, "proxy_protocol"));
  out.proxy_protocol = proxy.value_or(false);
  if (out.proxy_protocol || t.contains("proxy_protocol_from")) {
    if (!out.proxy_protocol) {
      return fail(t.get("proxy_protocol_from"), "listener.proxy_protocol_from", "",
                  "is set but listener.proxy_protocol is not: set proxy_protocol = true, or "
                  "remove proxy_protocol_from");
    }
    TETHER_ASSIGN_OR_RETURN(
        auto from,
        string_list(t, p, "proxy_protocol_from",
                    "list the addresses or networks of the load balancers that send "
                    "PROXY protocol headers, e.g. proxy_protocol_from = [\"10.0.0.0/8\"]"));
    auto networks = SourceNetworks::parse(from);
    if (!networks) {
      return fail(t.get("proxy_protocol_from"), "listener.proxy_protocol_from", "",
                  networks.error().message);
    }
    out.proxy_protocol_from = std::move(networks).value();
  }
  TETHER_ASSIGN_OR_RETURN(auto version, opt_string(t, p, "min_version"));
  if (version) {
    if (*version == "1.2") {
      out.min_version = TlsVersion::tls1_2;
    } else if (*version == "1.3") {
      out.min_version = TlsVersion::tls1_3;
    } else {
      return fail(t.get("min_version"), "listener.min_version", quoted(*version),
                  "use \"1.2\" (the default) or \"1.3\"");
    }
  }
  return ok_status();
}

Status Reader::limits(const toml::table& t, LimitsConfig& out) const {
  constexpr std::string_view p = "limits";
  TETHER_TRY(only_keys(
      t, p,
      {"handshake_timeout", "header_timeout", "idle_timeout", "upstream_timeout",
       "max_header_bytes", "max_body_bytes", "max_connections", "max_connections_per_source"}));
  TETHER_ASSIGN_OR_RETURN(out.handshake_timeout_s,
                          duration(t, p, "handshake_timeout", out.handshake_timeout_s));
  TETHER_ASSIGN_OR_RETURN(out.header_timeout_s,
                          duration(t, p, "header_timeout", out.header_timeout_s));
  TETHER_ASSIGN_OR_RETURN(out.idle_timeout_s, duration(t, p, "idle_timeout", out.idle_timeout_s));
  TETHER_ASSIGN_OR_RETURN(out.upstream_timeout_s,
                          duration(t, p, "upstream_timeout", out.upstream_timeout_s));
  TETHER_ASSIGN_OR_RETURN(auto header_bytes, opt_int(t, p, "max_header_bytes", 1024, 1 << 20));
  if (header_bytes) out.max_header_bytes = static_cast<uint32_t>(*header_bytes);
  TETHER_ASSIGN_OR_RETURN(auto body_bytes, opt_int(t, p, "max_body_bytes", 0, int64_t{1} << 34));
  if (body_bytes) out.max_body_bytes = static_cast<uint64_t>(*body_bytes);
  TETHER_ASSIGN_OR_RETURN(auto conns, opt_int(t, p, "max_connections", 1, 10'000'000));
  if (conns) out.max_connections = static_cast<uint32_t>(*conns);
  TETHER_ASSIGN_OR_RETURN(auto per_source,
                          opt_int(t, p, "max_connections_per_source", 0, 10'000'000));
  if (per_source) out.max_connections_per_source = static_cast<uint32_t>(*per_source);
  return ok_status();
}

Status Reader::tls(const toml::table& t, TlsConfig& out) const {
  constexpr std::string_view p = "tls";
  TETHER_TRY(only_keys(t, p, {"session_cache_size"}));
  const toml::node* n = t.get("session_cache_size");
  if (!n) return ok_status();
  const std::string setting = join(p, "session_cache_size");
  const std::string forms =
      "write a size such as \"32MiB\" (KiB, MiB and GiB are powers of 1024), a number of bytes "
      "without quotes, or \"off\" for no session cache";
  uint64_t bytes = 0;
  if (auto i = n->as_integer()) {
    if (i->get() < 0) return fail(n, setting, describe(*n), "must not be negative: " + forms);
    bytes = static_cast<uint64_t>(i->get());
  } else if (auto text = n->as_string()) {
    auto parsed = parse_byte_size(text->get());
    if (!parsed) return fail(n, setting, describe(*n), "not a size: " + forms);
    bytes = *parsed;
  } else {
    return fail(n, setting, describe(*n), forms);
  }
  if (bytes != 0 && bytes < kMinSessionCacheBytes) {
    return fail(n, setting, describe(*n),
                "holds hardly any sessions (about 900 bytes each, client certificate included): "
                "use at least 16KiB, or \"off\" for no session cache");
  }
  if (bytes > kMaxSessionCacheBytes) {
    return fail(n, setting, describe(*n),
                "must be at most 64GiB: the cache lives in the gateway's memory (32MiB holds "
                "about 37,000 sessions)");
  }
  out.session_cache_bytes = bytes;
  return ok_status();
}

Result<AdminConfig> Reader::admin(const toml::table& t) const {
  constexpr std::string_view p = "admin";
  TETHER_TRY(only_keys(t, p, {"address", "port"}));
  AdminConfig out;
  TETHER_ASSIGN_OR_RETURN(auto address, opt_string(t, p, "address"));
  if (address) out.address = *address;
  TETHER_ASSIGN_OR_RETURN(auto port, opt_int(t, p, "port", 0, 65535));
  if (!port)
    return fail(&t, "admin.port", "", "is missing: set the metrics/health port, e.g. 9090");
  out.port = static_cast<uint16_t>(*port);
  return out;
}

Status Reader::store(const toml::table& t, StoreConfig& out) const {
  constexpr std::string_view p = "store";
  TETHER_TRY(only_keys(t, p, {"path", "poll_interval_ms", "activity_flush_interval_ms"}));
  if (out.path.empty() || t.contains("path")) {
    TETHER_ASSIGN_OR_RETURN(out.path, req_string(t, p, "path", "set it to the tether.db file"));
  }
  TETHER_ASSIGN_OR_RETURN(auto poll, opt_int(t, p, "poll_interval_ms", 10, 1000));
  if (poll) out.poll_interval_ms = static_cast<uint32_t>(*poll);
  TETHER_ASSIGN_OR_RETURN(auto flush, opt_int(t, p, "activity_flush_interval_ms", 10, 60000));
  if (flush) out.activity_flush_interval_ms = static_cast<uint32_t>(*flush);
  return ok_status();
}

Status Reader::match(const toml::table& t, std::string_view path, Route& out) const {
  TETHER_TRY(only_keys(t, path, {"sni", "path_prefix", "port"}));
  TETHER_ASSIGN_OR_RETURN(auto sni, opt_string(t, path, "sni"));
  if (sni) {
    std::string host = canonical_host(*sni);
    bool wildcard = host.starts_with("*.");
    bool valid = wildcard ? dns_name(std::string_view(host).substr(2), 2) : dns_name(host, 1);
    if (!valid) {
      return fail(t.get("sni"), join(path, "sni"), quoted(*sni),
                  "not a DNS host name: use labels of a-z, 0-9 and '-', with '*' only as a "
                  "whole first label followed by at least two labels (\"*.example.com\")");
    }
    out.match.sni = std::move(host);
  }
  TETHER_ASSIGN_OR_RETURN(auto prefix, opt_string(t, path, "path_prefix"));
  if (prefix) {
    const toml::node* n = t.get("path_prefix");
    std::string setting = join(path, "path_prefix");
    std::string_view v = *prefix;
    if (!v.starts_with('/')) return fail(n, setting, quoted(v), "must start with '/'");
    if (v.find('*') != std::string_view::npos) {
      return fail(n, setting, quoted(v),
                  "no wildcards: a prefix already matches every path below it, so write \"/api\" "
                  "rather than \"/api/*\"");
    }
    for (char c : v) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '?' || c == '#' || c == '%' ||
          c == ';' || c == '\\') {
        // Routes match the decoded path (request_target.h), so the prefix is written decoded;
        // ';' starts a path parameter, which ends a segment for matching.
        return fail(n, setting, quoted(v),
                    "must be a plain, decoded path: no spaces, control characters, '?', '#', '%', "
                    "';' or '\\'");
      }
    }
    if (!clean_segments(v)) {
      return fail(n, setting, quoted(v), "must not contain empty, '.' or '..' segments");
    }
    out.match.path_prefix = *prefix;
  }
  TETHER_ASSIGN_OR_RETURN(auto port, opt_int(t, path, "port", 1, 65535));
  if (port) out.match.port = static_cast<uint16_t>(*port);
  return ok_status();
}

// "host:port" or "[v6]:port" -> host (lowercase, no brackets; an address in asio's canonical
// text) and port. Address literals go through asio's parser now, so "[:]:8080" or
// "999.1.1.1:80" are refused at startup instead of failing as a 502 at the first request. A name
// whose last label is all digits is taken as an IPv4 literal, as resolvers do (RFC 1123 2.1).
// Returns "" or what is wrong.
std::string parse_upstream(std::string_view text, std::string& host, uint16_t& port) {
  std::string_view h;
  std::string_view p;
  std::string canonical;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") {
      return "an IPv6 address is written \"[address]:port\"";
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
    error_code ec;
    auto v6 = asio::ip::make_address_v6(std::string(h), ec);
    if (ec) return "\"" + std::string(h) + "\" is not an IPv6 address";
    canonical = v6.to_string();
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return "the port is missing";
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    std::string name = canonical_host(h);
    std::string_view last_label = std::string_view(name).substr(name.rfind('.') + 1);
    bool numeric =
        !last_label.empty() && last_label.find_first_not_of("0123456789") == std::string_view::npos;
    if (numeric) {
      error_code ec;
      auto v4 = asio::ip::make_address_v4(name, ec);
      if (ec) return "\"" + std::string(h) + "\" is not an IPv4 address";
      canonical = v4.to_string();
    } else if (!dns_name(name, 1)) {
      return "\"" + std::string(h) + "\" is neither an IP address nor a DNS name";
    } else {
      canonical = std::move(name);
    }
  }
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos) {
    return "the port is not a number";
  }
  int n = std::stoi(std::string(p));
  if (n < 1 || n > 65535) return "the port is outside 1..65535";
  host = std::move(canonical);
  port = static_cast<uint16_t>(n);
  return "";
}

Result<Route> Reader::route(const toml::table& t, std::string_view path) const {
  TETHER_TRY(only_keys(t, path, {"name", "match", "upstream", "protocol", "allow"}));
  Route r;
  TETHER_ASSIGN_OR_RETURN(r.name, req_string(t, path, "name", "name the route, e.g. \"acme-api\""));
  if (auto s = verify::validate_id(r.name, "route name"); !s) {
    return fail(t.get("name"), join(path, "name"), quoted(r.name), s.error().message);
  }

  TETHER_ASSIGN_OR_RETURN(auto protocol, opt_string(t, path, "protocol"));
  if (protocol) {
    if (*protocol == "http") {
      r.protocol = Protocol::http;
    } else if (*protocol == "websocket") {
      r.protocol = Protocol::websocket;
    } else if (*protocol == "tcp") {
      r.protocol = Protocol::tcp;
    } else {
      return fail(t.get("protocol"), join(path, "protocol"), quoted(*protocol),
                  "use \"http\" (the default), \"websocket\" or \"tcp\"");
    }
  }

  std::string match_path = join(path, "match");
  if (const toml::node* m = t.get("match")) {
    if (!m->is_table()) {
      return fail(m, match_path, describe(*m),
                  "must be a table, e.g. match = { sni = \"api.example.com\", path_prefix = "
                  "\"/api\" }");
    }
    TETHER_TRY(match(*m->as_table(), match_path, r));
  }
  if (r.protocol == Protocol::tcp) {
    // A raw TCP stream has no Host or path, and no SNI is trusted to route it: port only.
    const toml::table* m = t.get_as<toml::table>("match");
    for (std::string_view key : {"sni", "path_prefix"}) {
      if (m && m->get(key)) {
        return fail(m->get(key), join(match_path, key), describe(*m->get(key)),
                    "tcp routes match by port only: remove it, or use protocol = \"http\"");
      }
    }
    if (!r.match.port) {
      return fail(m ? static_cast<const toml::node*>(m) : &t, join(match_path, "port"), "",
                  "is missing: tcp routes match by listener port, e.g. match = { port = 8883 }");
    }
  }

  TETHER_ASSIGN_OR_RETURN(std::string upstream,
                          req_string(t, path, "upstream", "set it to \"host:port\""));
  if (upstream.starts_with(kInternalUpstreamPrefix)) {
    std::string name = upstream.substr(kInternalUpstreamPrefix.size());
    if (name != kWhoamiUpstream) {
      return fail(t.get("upstream"), join(path, "upstream"), quoted(upstream),
                  "names no internal service: the one there is \"internal:whoami\"");
    }
    r.internal_upstream = name;
  } else if (std::string why = parse_upstream(upstream, r.upstream_host, r.upstream_port);
             !why.empty()) {
    return fail(t.get("upstream"), join(path, "upstream"), quoted(upstream),
                why +
                    ": use \"host:port\" (\"127.0.0.1:8080\", \"api.internal:443\", "
                    "\"[::1]:8080\") with a port from 1 to 65535, or \"internal:whoami\"");
  }

  // Default deny: a route nobody may use is a mistake, so say so now rather than 403 later.
  std::string allow_path = join(path, "allow");
  TETHER_ASSIGN_OR_RETURN(auto allow, string_list(t, path, "allow",
                                                  "list who may use the route, e.g. allow = "
                                                  "[\"connector:acme/*\"]"));
  const toml::array* arr = t.get_as<toml::array>("allow");
  for (size_t i = 0; i < allow.size(); ++i) {
    std::string setting = allow_path + "[" + std::to_string(i) + "]";
    auto rule = parse_rule(allow[i], setting);
    if (!rule) {
      // parse_rule's message already names the setting and the value; add the place.
      return make_error(Errc::invalid_argument, place(arr->get(i)) + ": " + rule.error().message);
    }
    r.allow.push_back(std::move(rule).value());
  }
  return r;
}

Status Reader::cross_checks(const toml::table& root, const Config& c) const {
  const toml::array* arr = root.get_as<toml::array>("route");
  auto at = [&](size_t i) { return arr->get(i); };
  auto where = [](size_t i) { return "route[" + std::to_string(i) + "]"; };
  std::set<std::string> names;
  for (size_t i = 0; i < c.routes.size(); ++i) {
    const Route& r = c.routes[i];
    if (!names.insert(r.name).second) {
      return fail(at(i), where(i) + ".name", quoted(r.name),
                  "another route has this name: route names must be unique");
    }
    for (size_t j = 0; j < i; ++j) {
      const Route& o = c.routes[j];
      bool same = false;
      std::string why;
      if (r.protocol == Protocol::tcp || o.protocol == Protocol::tcp) {
        same = r.match.port && r.match.port == o.match.port;
        why = "a tcp route owns its whole port: give each a different match.port";
      } else {
        same = std::tie(r.match.sni, r.match.path_prefix, r.match.port) ==
               std::tie(o.match.sni, o.match.path_prefix, o.match.port);
        why = "both match exactly the same requests: change sni, path_prefix or port";
      }
      if (same)
        return fail(at(i), where(i), quoted(r.name),
                    "conflicts with " + where(j) + " " + quoted(o.name) + ": " + why);
    }
    if (r.protocol == Protocol::tcp && c.listener.port != 0 && r.match.port == c.listener.port) {
      return fail(at(i), where(i) + ".match.port", std::to_string(*r.match.port),
                  "is listener.port, which speaks HTTP: give the tcp route its own port");
    }
    if (c.admin && c.admin->port != 0 && r.match.port == c.admin->port) {
      return fail(at(i), where(i) + ".match.port", std::to_string(*r.match.port),
                  "is admin.port: use a different port");
    }
  }
  if (c.admin && c.admin->port != 0 && c.admin->port == c.listener.port) {
    return fail(root.get("admin"), "admin.port", std::to_string(c.admin->port),
                "is also listener.port: metrics need their own port");
  }
  return ok_status();
}

Result<Config> Reader::config(const toml::table& root) const {
  for (const auto& [key, node] : root) {
    bool known = false;
    for (auto k :
         {"trust_domain", "workers", "listener", "limits", "tls", "admin", "store", "route"}) {
      known = known || key.str() == k;
    }
    if (embedded_ != nullptr) {
      for (const auto& k : embedded_->owner_tables) known = known || key.str() == k;
    }
    if (known) continue;
    std::string list = "trust_domain, workers, listener, limits, tls, admin, store, route";
    if (embedded_ != nullptr) {
      for (const auto& k : embedded_->owner_tables) list += ", " + k;
    }
    return fail(&node, key.str(), "", "unknown setting: the settings here are " + list);
  }
  Config c;
  if (embedded_ != nullptr) c.listener.port = embedded_->listener_port;
  TETHER_ASSIGN_OR_RETURN(auto workers, opt_int(root, "", "workers", 0, 256));
  if (workers) c.workers = static_cast<uint32_t>(*workers);
  TETHER_ASSIGN_OR_RETURN(auto domain, opt_string(root, "", "trust_domain"));
  if (domain) {
    if (auto s = verify::validate_trust_domain(*domain); !s) {
      return fail(root.get("trust_domain"), "trust_domain", quoted(*domain), s.error().message);
    }
    c.trust_domain = *domain;
    c.trust_domain_set = true;
  }

  TETHER_ASSIGN_OR_RETURN(const toml::table* listener_t, opt_table(root, "listener"));
  if (listener_t) {
    TETHER_TRY(listener(*listener_t, c.listener));
  } else if (embedded_ != nullptr) {
    c.listener.server_cert = embedded_->server_cert;
    c.listener.server_key = embedded_->server_key;
    c.listener.trust = embedded_->trust;
  } else {
    return fail(&root, "listener", "",
                "is missing: add a [listener] with server_cert, server_key and trust");
  }
  TETHER_ASSIGN_OR_RETURN(const toml::table* limits_t, opt_table(root, "limits"));
  if (limits_t) TETHER_TRY(limits(*limits_t, c.limits));
  TETHER_ASSIGN_OR_RETURN(const toml::table* tls_t, opt_table(root, "tls"));
  if (tls_t) TETHER_TRY(tls(*tls_t, c.tls));
  TETHER_ASSIGN_OR_RETURN(const toml::table* admin_t, opt_table(root, "admin"));
  if (admin_t) {
    TETHER_ASSIGN_OR_RETURN(c.admin, admin(*admin_t));
  }
  TETHER_ASSIGN_OR_RETURN(const toml::table* store_t, opt_table(root, "store"));
  if (store_t && embedded_ != nullptr && store_t->contains("path")) {
    return fail(store_t->get("path"), "store.path", "",
                "is the server's own store (in its data directory): remove it");
  }
  if (store_t) {
    StoreConfig defaults;
    if (embedded_ != nullptr) defaults.path = embedded_->store_path;
    c.store = defaults;
    TETHER_TRY(store(*store_t, c.store));
  } else if (embedded_ != nullptr) {
    c.store.path = embedded_->store_path;
  } else {
    return fail(&root, "store", "",
                "is missing: add [store] with path = the tether.db that revocations come from");
  }

  const toml::node* routes = root.get("route");
  if (!routes && embedded_ != nullptr) {
    c.routes = embedded_->default_routes;
    return c;
  }
  if (!routes) return fail(&root, "route", "", "is missing: add at least one [[route]]");
  const toml::array* arr = routes->as_array();
  if (!arr) return fail(routes, "route", describe(*routes), "write each route as [[route]]");
  if (arr->empty()) return fail(routes, "route", "[]", "add at least one [[route]]");
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::node& n = *arr->get(i);
    std::string path = "route[" + std::to_string(i) + "]";
    if (!n.is_table()) return fail(&n, path, describe(n), "write each route as [[route]]");
    TETHER_ASSIGN_OR_RETURN(Route r, route(*n.as_table(), path));
    c.routes.push_back(std::move(r));
  }
  TETHER_TRY(cross_checks(root, c));
  return c;
}

}  // namespace

Result<toml::table> parse_toml(std::string_view toml_text, std::string_view source_name) {
  try {
    return toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    return make_error(Errc::parse_error, std::string(source_name) + ":" +
                                             std::to_string(begin.line) + ":" +
                                             std::to_string(begin.column) +
                                             ": not valid TOML: " + std::string(e.description()));
  }
}

Result<Config> parse_config(std::string_view toml_text, std::string_view source_name) {
  TETHER_ASSIGN_OR_RETURN(toml::table root, parse_toml(toml_text, source_name));
  return Reader(source_name).config(root);
}

Result<Config> embedded_config(const toml::table& root, std::string_view source_name,
                               const EmbeddedDefaults& defaults) {
  return Reader(source_name, &defaults).config(root);
}

}  // namespace tether::gateway
