#include "net/tls_stream.h"

#include <cerrno>

namespace tether::net {

TlsStream::TlsStream(tcp::socket socket, x509::SslPtr ssl, TlsRole role)
    : socket_(std::move(socket)), ssl_(std::move(ssl)), deadline_(socket_) {
  error_code ignored;
  socket_.non_blocking(true, ignored);
  SSL_set_fd(ssl_.get(), socket_.native_handle());
  if (role == TlsRole::accept) {
    SSL_set_accept_state(ssl_.get());
  } else {
    SSL_set_connect_state(ssl_.get());
  }
  // Partial writes: a write completes with what fit, like a socket's write_some. Moving write
  // buffer: a retried write may come from the stream's gather buffer at another address.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_RELEASE_BUFFERS);
}

TlsStream::~TlsStream() = default;

void TlsStream::shut_down() {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.cancel(ignored);
}

TlsStream::Step TlsStream::attempt(Op op, asio::mutable_buffer buffer, error_code& ec,
                                   size_t& bytes) {
  SSL* ssl = ssl_.get();
  if (deadline_.expired()) {
    ec = beast::error::timeout;
    return Step::done;
  }
  ERR_clear_error();
  int rc = 0;
  switch (op) {
    case Op::handshake:
      rc = SSL_do_handshake(ssl);
      break;
    case Op::read:
      if (buffer.size() == 0) return Step::done;
      rc = SSL_read_ex(ssl, buffer.data(), buffer.size(), &bytes);
      break;
    case Op::write:
      if (buffer.size() == 0) return Step::done;
      rc = SSL_write_ex(ssl, buffer.data(), buffer.size(), &bytes);
      break;
    case Op::shutdown:
      rc = SSL_shutdown(ssl);
      if (rc == 0) rc = 1;  // close_notify sent; the peer's is not awaited
      break;
  }
  if (rc == 1) return Step::done;
  int saved_errno = errno;
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
      return Step::want_read;
    case SSL_ERROR_WANT_WRITE:
      return Step::want_write;
    case SSL_ERROR_ZERO_RETURN:
      ec = asio::error::eof;  // close_notify received
      return Step::done;
    case SSL_ERROR_SYSCALL:
      ec = saved_errno != 0 ? error_code(saved_errno, boost::system::system_category())
                            : error_code(asio::ssl::error::stream_truncated);
      return Step::done;
    default: {
      // The first OpenSSL error, in Asio's SSL category (what handshake classification reads);
      // the rest stay queued for the handshake's log detail.
      unsigned long e = ERR_get_error();
      if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
          ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ec = asio::ssl::error::stream_truncated;
      } else {
        ec = error_code(static_cast<int>(e), asio::error::get_ssl_category());
      }
      return Step::done;
    }
  }
}

}  // namespace tether::net
