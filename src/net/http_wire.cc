#include "net/http_wire.h"

namespace tether::net {

namespace {

void append_fields(std::string& out, const http::fields& fields) {
  for (const auto& field : fields) {
    out.append(field.name_string());
    out.append(": ");
    out.append(field.value());
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace

std::string request_head(const http::request_header<>& head) {
  std::string out;
  out.reserve(512);
  out.append(head.method_string());
  out += ' ';
  out.append(head.target());
  out.append(" HTTP/1.1\r\n");
  append_fields(out, head);
  return out;
}

std::string response_head(const http::response_header<>& head) {
  std::string out;
  out.reserve(512);
  out.append(head.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(head.result_int()));
  out += ' ';
  out.append(head.reason());
  out.append("\r\n");
  append_fields(out, head);
  return out;
}

}  // namespace tether::net
