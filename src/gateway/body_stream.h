// Message bodies streamed through the proxy in bounded pieces, with backpressure: a piece is read
// from one side only after the other side has taken the previous one, so a client that never
// reads, or uploads slowly, holds one piece buffer (kBodyPiece) and no more, however large the
// body. Beast's parser (http::buffer_body) does the framing on the way in: Content-Length,
// chunked (chunk extensions and trailers dropped) or, for responses, until the close; the
// gateway frames each body again on the way out (framing.h's rules, RFC 9112 6).
#pragma once

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "gateway/net.h"

namespace tether::gateway {

namespace http = beast::http;

// Bytes asked of the socket per read of a body: one TLS record's worth. (beast::read_size would
// size reads by the buffer's current capacity, which after a small head is a few hundred bytes:
// a large body would then move in tiny reads and tiny TLS records.)
inline constexpr size_t kBodyRead = 16 << 10;
// The most body bytes the gateway holds for one exchange, each way in turn. A piece is written
// as soon as one read filled any of it, so a piece larger than a read would mostly sit unused
// (measured in the ASan build: a 1 GiB response at 110 MiB/s with 64 KiB pieces, 94 MiB/s with
// 16 KiB ones; 101 against 97 KiB per slow reader in the release build).
inline constexpr size_t kBodyPiece = kBodyRead;

// How a body is delimited on the wire the gateway writes.
enum class BodyFraming {
  none,         // no body (GET, HEAD's answer, 204, 304)
  length,       // Content-Length: the bytes as they are
  chunked,      // Transfer-Encoding: chunked, one chunk per piece
  until_close,  // an HTTP/1.0 client: the close ends the body
};

// One piece of body: a buffer of kBodyPiece bytes, allocated only for exchanges with a body.
class BodyPiece {
 public:
  char* data() {
    // Uninitialised: zeroing a piece per request cost more than the request's parsing.
    if (!storage_) storage_ = std::make_unique_for_overwrite<char[]>(kBodyPiece);
    return storage_.get();
  }
  std::string_view filled() const { return {storage_.get(), size_}; }
  void set_size(size_t n) { size_ = n; }

 private:
  std::unique_ptr<char[]> storage_;
  size_t size_ = 0;
};

// Reads the next piece of the body of `parser`'s message into `piece` (bytes already in `buffer`
// first, then from the stream). Returns the error, if any; piece.filled() is empty only when the
// body is done. The caller sets the stream's deadline before calling.
template <class Stream, bool isRequest>
asio::awaitable<error_code> read_body_piece(Stream& stream, beast::flat_buffer& buffer,
                                            http::parser<isRequest, http::buffer_body>& parser,
                                            BodyPiece& piece) {
  auto& body = parser.get().body();
  body.data = piece.data();
  body.size = kBodyPiece;
  auto filled = [&] { return kBodyPiece - body.size; };
  error_code ec;
  for (;;) {
    while (buffer.size() > 0 && !parser.is_done() && body.size > 0) {
      size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == http::error::need_buffer) {
        ec = {};
        break;  // the piece is full
      }
      if (ec == http::error::need_more) {
        ec = {};
        if (used == 0) break;  // more bytes needed
      } else if (ec) {
        piece.set_size(filled());
        co_return ec;
      }
    }
    if (filled() > 0 || parser.is_done()) {
      piece.set_size(filled());
      co_return error_code{};
    }
    size_t n = co_await stream.async_read_some(buffer.prepare(kBodyRead), ec_token(ec));
    if (ec == asio::error::eof) {
      // A body delimited by the close ends here; any other body is cut short.
      parser.put_eof(ec);
      piece.set_size(filled());
      co_return ec;
    }
    if (ec) {
      piece.set_size(0);
      co_return ec;
    }
    buffer.commit(n);
  }
}

// "<size in hex>\r\n", the line before a chunk's data (RFC 9112 7.1).
class ChunkSizeLine {
 public:
  explicit ChunkSizeLine(size_t size)
      : length_(static_cast<size_t>(std::snprintf(text_, sizeof text_, "%zx\r\n", size))) {}
  std::string_view view() const { return {text_, length_}; }

 private:
  char text_[24];
  size_t length_;
};

// Appends `data` to `out` framed as `framing` asks; with `last`, also the end of the body.
inline void append_framed(std::string& out, BodyFraming framing, std::string_view data, bool last) {
  if (framing == BodyFraming::chunked) {
    if (!data.empty()) {
      ChunkSizeLine line(data.size());
      out.append(line.view());
      out.append(data);
      out.append("\r\n");
    }
    if (last) out.append("0\r\n\r\n");  // no trailers: the gateway forwards none
    return;
  }
  if (framing != BodyFraming::none) out.append(data);
}

// Writes a piece framed as `framing` asks (and the end of the body with `last`): a chunk's size
// line and the piece go out as one gathered write, not copied together.
template <class Stream>
asio::awaitable<error_code> write_body_piece(Stream& stream, BodyFraming framing,
                                             std::string_view data, bool last) {
  error_code ec;
  if (framing == BodyFraming::chunked) {
    ChunkSizeLine line(data.size());
    std::string_view size_line = data.empty() ? std::string_view() : line.view();
    std::string_view end = data.empty() ? std::string_view() : std::string_view("\r\n");
    std::string_view terminator = last ? std::string_view("0\r\n\r\n") : std::string_view();
    std::array<asio::const_buffer, 4> parts{
        asio::buffer(size_line.data(), size_line.size()), asio::buffer(data.data(), data.size()),
        asio::buffer(end.data(), end.size()), asio::buffer(terminator.data(), terminator.size())};
    co_await asio::async_write(stream, parts, ec_token(ec));
    co_return ec;
  }
  if (framing == BodyFraming::none || data.empty()) co_return ec;
  co_await asio::async_write(stream, asio::buffer(data.data(), data.size()), ec_token(ec));
  co_return ec;
}

}  // namespace tether::gateway
