// A set of client address ranges ("10.0.0.0/8", "2001:db8::/32", "127.0.0.1"), parsed once with
// asio's address and network parsers: the load balancers a listener takes PROXY protocol
// headers from.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace tether::gateway {

class SourceNetworks {
 public:
  SourceNetworks() = default;

  // Each entry an address (a network of one) or address/prefix. Errors (Errc::invalid_argument)
  // are a sentence naming the entry, for the caller to prefix with the setting.
  static Result<SourceNetworks> parse(const std::vector<std::string>& entries);

  // An IPv4-mapped IPv6 address ("::ffff:10.0.0.1", how a dual-stack socket reports an IPv4
  // peer) is looked up as the IPv4 address it maps.
  bool contains(const boost::asio::ip::address& address) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }
  const std::vector<std::string>& entries() const { return entries_; }

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
  std::vector<std::string> entries_;
};

}  // namespace tether::gateway
