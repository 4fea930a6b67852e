#include "infra/webhooks/webhook_target.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>

namespace realmkit::infra::webhooks {
namespace {

constexpr std::size_t kMaxUrlLength = 2048;
constexpr std::size_t kMaxHostLength = 253;

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(text[i]) != prefix[i]) return false;
  }
  return true;
}

// A DNS name as URLs carry it: labels of letters, digits and hyphens (internationalized names
// arrive as punycode), not starting or ending with a hyphen.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostLength) return false;
  std::size_t label = 0;
  char previous = '.';
  for (const char c : host) {
    if (c == '.') {
      if (label == 0 || previous == '-') return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    previous = c;
  }
  return previous != '-';
}

// In 4-byte network order.
std::optional<std::string> ipv4_reason(const std::uint8_t* a) {
  const auto in = [a](std::uint8_t b0, std::uint8_t b1, int prefix) {
    const std::uint32_t value = (std::uint32_t{a[0]} << 24) | (std::uint32_t{a[1]} << 16) |
                                (std::uint32_t{a[2]} << 8) | a[3];
    const std::uint32_t net = (std::uint32_t{b0} << 24) | (std::uint32_t{b1} << 16);
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return (value & mask) == (net & mask);
  };
  const auto in24 = [a](std::uint8_t b0, std::uint8_t b1, std::uint8_t b2) {
    return a[0] == b0 && a[1] == b1 && a[2] == b2;
  };
  if (a[0] == 0) return "an address of \"this network\" (0.0.0.0/8)";
  if (a[0] == 127) return "a loopback address";
  if (a[0] == 10 || in(172, 16, 12) || in(192, 168, 16)) return "a private address (RFC 1918)";
  if (in(100, 64, 10)) return "a shared address of carrier-grade NAT (100.64.0.0/10)";
  if (in(169, 254, 16)) return "a link-local address (cloud metadata services live there)";
  if (in24(192, 0, 0)) return "an IETF protocol assignment (192.0.0.0/24)";
  if (in24(192, 0, 2) || in24(198, 51, 100) || in24(203, 0, 113)) {
    return "a documentation address";
  }
  if (in24(192, 88, 99)) return "a 6to4 relay anycast address";
  if (in(198, 18, 15)) return "a benchmarking address (198.18.0.0/15)";
  if (a[0] >= 224 && a[0] <= 239) return "a multicast address";
  if (a[0] >= 240) return "a reserved or broadcast address";
  return std::nullopt;
}

}  // namespace

std::string ip_address::text() const {
  char out[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), out, sizeof out);
  return out;
}

std::optional<ip_address> parse_ip(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  ip_address a;
  // inet_pton takes only the dotted-quad form: "127.1" or "0x7f.0.0.1" are names to it, which
  // the resolver then turns into addresses that are checked like any other.
  if (::inet_pton(AF_INET, copy.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (::inet_pton(AF_INET6, copy.c_str(), a.bytes.data()) == 1) return a;
  return std::nullopt;
}

std::optional<std::string> non_public_reason(const ip_address& address) {
  const auto* b = address.bytes.data();
  if (!address.v6) return ipv4_reason(b);
  const auto zero = [b](int from, int to) {
    return std::all_of(b + from, b + to, [](std::uint8_t x) { return x == 0; });
  };
  const auto inner = [&](const std::uint8_t* v4,
                         std::string_view wrapper) -> std::optional<std::string> {
    if (auto why = ipv4_reason(v4)) return std::string(wrapper) + " of " + *why;
    return std::nullopt;
  };
  if (zero(0, 16)) return "the unspecified address";
  if (zero(0, 15) && b[15] == 1) return "a loopback address";
  if (zero(0, 10) && b[10] == 0xff && b[11] == 0xff) return inner(b + 12, "an IPv4-mapped form");
  if (zero(0, 12)) return inner(b + 12, "an IPv4-compatible form");
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    if (zero(4, 12)) return inner(b + 12, "a NAT64 form");
    if (b[4] == 0x00 && b[5] == 0x01) return "a local-use NAT64 address (64:ff9b:1::/48)";
  }
  if (b[0] == 0x01 && b[1] == 0x00 && zero(2, 8)) return "a discard-only address (100::/64)";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) {
    return "an IETF protocol assignment (2001::/23, Teredo included)";
  }
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) {
    return "a documentation address";
  }
  if (b[0] == 0x20 && b[1] == 0x02) return inner(b + 2, "a 6to4 form");
  if ((b[0] & 0xfe) == 0xfc) return "a unique local address (fc00::/7)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "a link-local address (fe80::/10)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "a site-local address (fec0::/10)";
  if (b[0] == 0xff) return "a multicast address";
  return std::nullopt;
}

std::optional<target_url> parse_target_url(std::string_view text, std::string& why) {
  if (text.size() > kMaxUrlLength) {
    why = "must be at most 2048 characters";
    return std::nullopt;
  }
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      why = "must be ASCII without spaces or control characters (percent-encode the rest)";
      return std::nullopt;
    }
  }
  target_url out;
  std::string_view rest;
  if (starts_with_nocase(text, "https://")) {
    out.tls = true;
    rest = text.substr(8);
  } else if (starts_with_nocase(text, "http://")) {
    rest = text.substr(7);
  } else {
    why = "must be an http:// or https:// URL";
    return std::nullopt;
  }
  if (rest.find('#') != std::string_view::npos) {
    why = "must not have a fragment (#…): it is never sent";
    return std::nullopt;
  }
  const auto authority_end = rest.find_first_of("/?");
  const auto authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) {
    why = "must not carry a user name or password: authenticate receivers by the signature";
    return std::nullopt;
  }
  std::string_view host = authority;
  std::string_view port;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) {
      why = "has an unclosed [ in its host";
      return std::nullopt;
    }
    const auto after = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) {
        why = "has text after its IPv6 host";
        return std::nullopt;
      }
      port = after.substr(1);
    }
    const auto literal = parse_ip(host);
    if (!literal || !literal->v6) {
      why = "has a malformed IPv6 host";
      return std::nullopt;
    }
    out.host_is_literal = true;
    out.host = literal->text();
  } else {
    if (const auto colon = host.find(':'); colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    out.host.reserve(host.size());
    for (const char c : host) out.host.push_back(lower(c));
    if (!out.host.empty() && out.host.back() == '.') out.host.pop_back();  // the root's dot
    if (!is_host_name(out.host)) {
      why = "has no host, or a malformed one";
      return std::nullopt;
    }
    out.host_is_literal = parse_ip(out.host).has_value();
  }
  out.port = out.tls ? 443 : 80;
  if (authority.find(':') != std::string_view::npos && !authority.starts_with('[')) {
    if (port.empty()) {
      why = "has an empty port";
      return std::nullopt;
    }
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      why = "has a port that is not 1-65535";
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  out.target =
      authority_end == std::string_view::npos ? "/" : std::string(rest.substr(authority_end));
  if (out.target.starts_with('?')) out.target.insert(0, "/");
  return out;
}

resolver system_resolver() {
  return [](const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (rc != 0) {
      throw target_unresolvable("the host " + host + " does not resolve (" + ::gai_strerror(rc) +
                                ")");
    }
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
    std::vector<ip_address> out;
    for (const auto* ai = found; ai; ai = ai->ai_next) {
      ip_address a;
      if (ai->ai_family == AF_INET) {
        std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr,
                    4);
      } else if (ai->ai_family == AF_INET6) {
        a.v6 = true;
        std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr,
                    16);
      } else {
        continue;
      }
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    return out;
  };
}

std::vector<ip_address> checked_addresses(const target_url& url, const target_policy& policy) {
  std::vector<ip_address> addresses;
  if (const auto literal = parse_ip(url.host)) {
    addresses.push_back(*literal);
  } else {
    addresses = policy.resolve ? policy.resolve(url.host) : system_resolver()(url.host);
  }
  if (addresses.empty()) throw target_unresolvable("the host " + url.host + " has no address");
  if (policy.allow_private) return addresses;
  for (const auto& a : addresses) {
    if (const auto why = non_public_reason(a)) {
      throw target_refused(url.host == a.text()
                               ? url.host + " is " + *why
                               : "the host " + url.host + " resolves to " + a.text() + ", " + *why);
    }
  }
  return addresses;
}

}  // namespace realmkit::infra::webhooks
