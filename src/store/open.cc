#include "store/open.h"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <filesystem>
#include <string>

#include "store/sqlite_store.h"

namespace tether::store {

namespace {

constexpr std::string_view kAcceptedForms =
    "use a file path, sqlite:PATH or sqlite:///absolute/path (PostgreSQL URIs, "
    "postgresql://..., are reserved for the PostgreSQL store)";

// The URI as it may be shown: a password in it is masked.
std::string shown(std::string_view uri) {
  auto parsed = boost::urls::parse_uri_reference(uri);
  if (!parsed || !parsed->has_password()) return std::string(uri);
  boost::urls::url masked(*parsed);
  masked.set_password("***");
  return std::string(masked.buffer());
}

Error refused(std::string_view uri, std::string_view why) {
  return make_error(Errc::invalid_argument, "store '" + shown(uri) + "' " + std::string(why) +
                                                ": " + std::string(kAcceptedForms));
}

// RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ':'. Text that does not
// start that way is a file path; a file whose name does start that way is spelled "./name".
bool has_scheme(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  if (!std::isalpha(static_cast<unsigned char>(text[0]))) return false;
  for (char c : text.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// The file a sqlite: URI names: "sqlite:relative/path", "sqlite:/abs" or "sqlite:///abs".
Result<std::string> sqlite_path(std::string_view uri) {
  auto parsed = boost::urls::parse_uri(uri);
  if (!parsed) return refused(uri, "is not a valid URI (" + parsed.error().message() + ")");
  if (parsed->has_authority() && !parsed->encoded_host().empty()) {
    return refused(uri, "names a host, but a SQLite store is a local file");
  }
  if (parsed->has_query() || parsed->has_fragment()) {
    return refused(uri, "has a query or fragment, which a SQLite store does not take");
  }
  std::string path = parsed->path();  // percent-decoded
  if (path.empty()) return refused(uri, "names no file");
  return path;
}

Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, const OpenOptions& options) {
  if (!options.create && !std::filesystem::exists(path)) {
    return make_error(Errc::not_found, "store '" + path + "' does not exist");
  }
  TETHER_ASSIGN_OR_RETURN(auto store, SqliteStore::open(path));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace

Result<std::unique_ptr<Store>> open(std::string_view uri, OpenOptions options) {
  if (uri.empty()) return refused(uri, "is empty");
  if (!has_scheme(uri)) return open_sqlite(std::string(uri), options);
  std::string scheme(uri.substr(0, uri.find(':')));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "sqlite") {
    TETHER_ASSIGN_OR_RETURN(std::string path, sqlite_path(uri));
    return open_sqlite(path, options);
  }
  if (scheme == "postgresql" || scheme == "postgres") {
    return make_error(Errc::store_unsupported,
                      "store '" + shown(uri) +
                          "': PostgreSQL is not built in yet: this tether opens SQLite stores "
                          "only; use a file path, sqlite:PATH or sqlite:///absolute/path");
  }
  return refused(uri, "has the scheme '" + scheme + ":', which no store adapter takes");
}

}  // namespace tether::store
