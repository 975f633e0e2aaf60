#include "gateway/source_networks.h"

#include "common/quote.h"

namespace tether::gateway {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

Result<SourceNetworks> SourceNetworks::parse(const std::vector<std::string>& entries) {
  SourceNetworks out;
  for (const std::string& entry : entries) {
    error_code ec;
    if (entry.find('/') == std::string::npos) {
      auto address = asio::ip::make_address(entry, ec);
      if (!ec && address.is_v4()) {
        out.v4_.emplace_back(address.to_v4(), 32);
      } else if (!ec) {
        out.v6_.emplace_back(address.to_v6(), 128);
      }
    } else if (entry.find(':') == std::string::npos) {
      auto network = asio::ip::make_network_v4(entry, ec);
      // "10.0.0.1/8" names a host, not a network: asking for the network keeps typos visible.
      if (!ec && network.network() != network.address()) ec = asio::error::invalid_argument;
      if (!ec) out.v4_.push_back(network);
    } else {
      auto network = asio::ip::make_network_v6(entry, ec);
      if (!ec && network.network() != network.address()) ec = asio::error::invalid_argument;
      if (!ec) out.v6_.push_back(network);
    }
    if (ec) {
      return make_error(Errc::invalid_argument,
                        quote_value(entry, '"') +
                            " is not an IP address or network: write \"10.0.0.5\", "
                            "\"10.0.0.0/8\" or \"2001:db8::/32\" (host bits zero)");
    }
    out.entries_.push_back(entry);
  }
  return out;
}

bool SourceNetworks::contains(const asio::ip::address& address) const {
  asio::ip::address a = address;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  if (a.is_v4()) {
    for (const auto& n : v4_) {
      if (asio::ip::network_v4(a.to_v4(), n.prefix_length()).network() == n.network()) return true;
    }
    return false;
  }
  for (const auto& n : v6_) {
    if (asio::ip::network_v6(a.to_v6(), n.prefix_length()).network() == n.network()) return true;
  }
  return false;
}

}  // namespace tether::gateway
