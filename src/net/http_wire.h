// HTTP/1.1 messages on the wire, for the proxy's hot path: reading into a Beast parser with one
// loop of read_some + put, and writing a message as one contiguous buffer.
//
// Beast's http::async_read / async_write compose several layers of operations and buffer
// views per message; a proxy that forwards small messages spends more time in them than in the
// network. The parser (and its limits) is still Beast's.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http.hpp>
#include <string>
#include <string_view>

#include "net/asio.h"

namespace tether::net {

namespace http = beast::http;

// "METHOD target HTTP/1.1\r\n" (always 1.1 upstream), the fields, the blank line.
std::string request_head(const http::request_header<>& head);
// "HTTP/1.x code reason\r\n", the fields, the blank line.
std::string response_head(const http::response_header<>& head);

// Reads into `parser` until its header is done (`header_only`) or the whole message is.
// Bytes already in `buffer` are parsed first; bytes after the message stay there. Errors:
// the parser's (header_limit, body_limit, bad_*), http::error::end_of_stream when the peer
// closed before sending anything, the stream's (timeout, eof, ...).
template <class Stream, class Parser>
asio::awaitable<error_code> read_message(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
                                         bool header_only) {
  auto complete = [&] { return header_only ? parser.is_header_done() : parser.is_done(); };
  error_code ec;
  for (;;) {
    while (buffer.size() > 0 && !complete()) {
      size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == http::error::need_more) {
        ec = {};
        if (used == 0) break;  // more bytes needed
      } else if (ec) {
        co_return ec;
      }
    }
    if (complete()) co_return error_code{};
    // Grows from 512 bytes as a message needs it (beast::read_size), so an idle connection
    // does not hold a large buffer.
    size_t n = co_await stream.async_read_some(buffer.prepare(beast::read_size(buffer, 16384)),
                                               ec_token(ec));
    if (ec == asio::error::eof) {
      if (!parser.got_some()) co_return http::error::end_of_stream;
      parser.put_eof(ec);  // a body delimited by the close
      if (!ec && complete()) co_return error_code{};
      co_return ec ? ec : error_code(http::error::partial_message);
    }
    if (ec) co_return ec;
    buffer.commit(n);
  }
}

// Writes all of `data`.
template <class Stream>
asio::awaitable<error_code> write_all(Stream& stream, std::string_view data) {
  error_code ec;
  while (!data.empty() && !ec) {
    size_t n =
        co_await stream.async_write_some(asio::buffer(data.data(), data.size()), ec_token(ec));
    data.remove_prefix(n);
  }
  co_return ec;
}

// Writes a message: its head, then its body (one buffer when the body is small, so a small
// response is one TLS record and one send).
template <class Stream>
asio::awaitable<error_code> write_message(Stream& stream, std::string head, std::string_view body) {
  constexpr size_t kCoalesce = 16384;
  if (body.size() <= kCoalesce) {
    head.append(body);
    co_return co_await write_all(stream, head);
  }
  error_code ec = co_await write_all(stream, head);
  if (!ec) ec = co_await write_all(stream, body);
  co_return ec;
}

}  // namespace tether::net
