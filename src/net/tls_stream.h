// A TLS connection, either side, in which OpenSSL reads and writes the (non-blocking) socket
// itself and Asio only waits for readiness, as nginx does.
//
// asio::ssl::stream instead runs OpenSSL over a memory BIO pair and keeps two 17 KiB buffers of
// its own per connection (and two 17 KiB BIO buffers): about 70 KiB for every connection, idle
// or not, and one more copy of every byte. Here an idle connection holds only OpenSSL's state
// (SSL_MODE_RELEASE_BUFFERS frees its record buffers between reads), and data goes straight
// between the socket and the caller's buffer.
//
// The stream meets Asio's AsyncReadStream / AsyncWriteStream requirements, so Beast's HTTP
// reading and writing and asio::async_write work on it. Deadlines work like
// beast::tcp_stream's: expires_after() applies to every operation started until it is changed,
// and an operation that runs out completes with beast::error::timeout. One read and one write
// may be in flight at once (the relay does that); operations never complete inside the call
// that starts them.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>

#include "net/asio.h"
#include "net/socket_deadline.h"
#include "x509/handles.h"

namespace tether::net {

// Which side of the handshake this end takes: a gateway accepts, a connector connects.
enum class TlsRole { accept, connect };

class TlsStream {
 public:
  using executor_type = tcp::socket::executor_type;

  // Takes the connected socket and an SSL made from a context for that role (a server's from
  // tls::ServerContext::new_ssl; a client's with its verification and server name set).
  TlsStream(tcp::socket socket, x509::SslPtr ssl, TlsRole role = TlsRole::accept);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  tcp::socket& socket() { return socket_; }
  SSL* native_handle() { return ssl_.get(); }

  void expires_after(std::chrono::steady_clock::duration timeout) {
    deadline_.expires_after(timeout);
  }
  void expires_never() { deadline_.expires_never(); }

  // Stops both directions at once, from outside the connection's coroutine (revocation): every
  // pending operation completes with an error.
  void shut_down();

  template <class Token>
  auto async_handshake(Token&& token) {
    return run<void(error_code)>(Op::handshake, {}, std::forward<Token>(token));
  }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    asio::mutable_buffer first;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      if (asio::mutable_buffer b(*it); b.size() > 0) {
        first = b;
        break;
      }
    }
    return run<void(error_code, size_t)>(Op::read, first, std::forward<Token>(token));
  }

  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return run<void(error_code, size_t)>(Op::write, gather(buffers), std::forward<Token>(token));
  }

  // Sends close_notify (RFC 8446 6.1) without waiting for the peer's: the connection is
  // closed right after, as nginx does.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return run<void(error_code)>(Op::shutdown, {}, std::forward<Token>(token));
  }

 private:
  enum class Op { handshake, read, write, shutdown };
  enum class Step { done, want_read, want_write };

  // One attempt of the OpenSSL call; fills `ec` / `bytes` when done.
  Step attempt(Op op, asio::mutable_buffer buffer, error_code& ec, size_t& bytes);

  // Several small buffers (an HTTP header and a short body) go out as one TLS record, in one
  // send: copied into a buffer owned by the stream for the duration of the write.
  template <class ConstBufferSequence>
  asio::mutable_buffer gather(const ConstBufferSequence& buffers) {
    auto begin = asio::buffer_sequence_begin(buffers);
    auto end = asio::buffer_sequence_end(buffers);
    size_t total = asio::buffer_size(buffers);
    asio::const_buffer first;
    size_t non_empty = 0;
    for (auto it = begin; it != end; ++it) {
      asio::const_buffer b(*it);
      if (b.size() == 0) continue;
      if (non_empty++ == 0) first = b;
    }
    if (non_empty <= 1 || first.size() >= kGatherLimit) {
      return asio::mutable_buffer(const_cast<void*>(first.data()), first.size());
    }
    gathered_.resize(std::min(total, kGatherLimit));
    size_t copied = asio::buffer_copy(asio::buffer(gathered_), buffers);
    return asio::mutable_buffer(gathered_.data(), copied);
  }

  template <class Signature, class Self>
  static void finish(Self& self, error_code ec, size_t bytes) {
    if constexpr (std::is_same_v<Signature, void(error_code)>) {
      self.complete(ec);
    } else {
      self.complete(ec, bytes);
    }
  }

  template <class Signature, class Token>
  auto run(Op op, asio::mutable_buffer buffer, Token&& token) {
    struct State {
      bool started = false;
      bool finished = false;  // done on the first attempt; completing after a post
      error_code ec;
      size_t bytes = 0;
    };
    return asio::async_compose<Token, Signature>(
        [this, op, buffer, state = State{}](auto& self, error_code wait_ec = {}) mutable {
          if (state.finished) return finish<Signature>(self, state.ec, state.bytes);
          error_code ec;
          size_t bytes = 0;
          Step step = Step::done;
          if (wait_ec) {
            ec = deadline_.translate(wait_ec);
          } else {
            step = attempt(op, buffer, ec, bytes);
          }
          bool first_call = !state.started;
          state.started = true;
          if (step != Step::done) {
            socket_.async_wait(
                step == Step::want_read ? tcp::socket::wait_read : tcp::socket::wait_write,
                std::move(self));
            return;
          }
          if (op == Op::write) release_gathered();
          if (first_call) {
            // Done without waiting: complete through the executor, never inside the initiation.
            state = State{true, true, ec, bytes};
            asio::post(get_executor(), std::move(self));
            return;
          }
          finish<Signature>(self, ec, bytes);
        },
        token, socket_);
  }

  void release_gathered() {
    if (gathered_.capacity() > 0) std::string().swap(gathered_);  // idle connections hold none
  }

  static constexpr size_t kGatherLimit = 16384;  // one TLS record's worth of plaintext

  tcp::socket socket_;
  x509::SslPtr ssl_;
  SocketDeadline deadline_;
  std::string gathered_;
};

}  // namespace tether::net
