#include "tls/session_binding.h"

#include <cstring>
#include <string>

#include "x509/handles.h"
#include "x509/openssl_error.h"

namespace tether::tls {

namespace {

// The SNI as the ClientHello carried it, kept on the SSL by the ClientHello callback. OpenSSL
// decrypts a TLS 1.3 ticket while it parses the ClientHello's extensions, before
// SSL_get_servername reports the name, so the name has to be taken from the raw extension.
struct ClientHelloName {
  std::string name;
};
using ClientHelloNameSlot = x509::SslExData<ClientHelloName>;

int on_client_hello(SSL* ssl, int*, void*) {
  const unsigned char* data = nullptr;
  size_t size = 0;
  std::string name;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &size) == 1) {
    // A malformed extension is OpenSSL's to refuse; until then it binds as "no name".
    name = parse_server_name_extension(data, size).value_or("");
  }
  ClientHelloNameSlot::set(ssl, ClientHelloName{std::move(name)});
  return SSL_CLIENT_HELLO_SUCCESS;
}

int on_generate_ticket(SSL* ssl, void*) {
  std::string binding = session_binding(ssl);
  return SSL_SESSION_set1_ticket_appdata(SSL_get0_session(ssl), binding.data(), binding.size());
}

SSL_TICKET_RETURN on_decrypt_ticket(SSL* ssl, SSL_SESSION* session, const unsigned char*, size_t,
                                    SSL_TICKET_STATUS status, void*) {
  switch (status) {
    case SSL_TICKET_SUCCESS:
    case SSL_TICKET_SUCCESS_RENEW: {
      void* data = nullptr;
      size_t size = 0;
      if (SSL_SESSION_get0_ticket_appdata(session, &data, &size) != 1) {
        return SSL_TICKET_RETURN_IGNORE_RENEW;
      }
      std::string binding = session_binding(ssl);
      bool same = size == binding.size() && std::memcmp(data, binding.data(), size) == 0;
      if (!same) return SSL_TICKET_RETURN_IGNORE_RENEW;  // full handshake under this name
      return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
    }
    case SSL_TICKET_FATAL_ERR_MALLOC:
    case SSL_TICKET_FATAL_ERR_OTHER:
      return SSL_TICKET_RETURN_ABORT;
    default:  // no ticket, or one we cannot decrypt (other key, other context)
      return SSL_TICKET_RETURN_IGNORE_RENEW;
  }
}

}  // namespace

std::string_view client_hello_server_name(const SSL* ssl) {
  const ClientHelloName* seen = ClientHelloNameSlot::get(ssl);
  return seen ? std::string_view(seen->name) : std::string_view();
}

// The prefix keeps an absent SNI distinct from a ticket without our data.
std::string session_binding(SSL* ssl) {
  return "sni:" + std::string(client_hello_server_name(ssl));
}

std::optional<std::string> parse_server_name_extension(const unsigned char* data, size_t size) {
  // RFC 6066 3: struct { uint16 list_length; { uint8 name_type; uint16 length; opaque name; }* }
  auto u16 = [&](size_t at) { return static_cast<size_t>(data[at] << 8 | data[at + 1]); };
  if (size < 2 || u16(0) != size - 2) return std::nullopt;
  for (size_t at = 2; at < size;) {
    if (size - at < 3) return std::nullopt;
    unsigned type = data[at];
    size_t length = u16(at + 1);
    at += 3;
    if (length > size - at) return std::nullopt;
    if (type == TLSEXT_NAMETYPE_host_name) {
      return std::string(reinterpret_cast<const char*>(data + at), length);
    }
    at += length;
  }
  return std::nullopt;
}

Status bind_sessions_to_server_name(SSL_CTX* ctx) {
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_client_hello_cb(ctx, &on_client_hello, nullptr);
  return x509::check(
      SSL_CTX_set_session_ticket_cb(ctx, &on_generate_ticket, &on_decrypt_ticket, nullptr),
      Errc::crypto_error, "cannot install the session ticket callbacks");
}

}  // namespace tether::tls
