// Where a webhook may be delivered: the URL rules and the defence against server-side request
// forgery. A subscriber names the URL, so without a check an admin account (or whoever stole one)
// could make the server POST into the private network it runs in: the cloud's metadata service
// (169.254.169.254), a database's HTTP port on loopback, an internal admin page. So a target's
// host is resolved and every address it resolves to must be public; the sender then connects to
// exactly those checked addresses and never resolves the name again, so a DNS answer that changes
// between the check and the connection (DNS rebinding) cannot slip a private address in.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace realmkit::infra::webhooks {

// A URL a webhook may be sent to: http or https, a host, a port, the path and query as sent in
// the request line.
struct target_url {
  bool tls = false;  // https
  std::string host;  // lowercase; an IPv6 literal without its brackets
  std::uint16_t port = 0;
  std::string target;            // "/path?query", "/" when the URL has no path
  bool host_is_literal = false;  // an IP address rather than a name
};

// Parses an absolute URL. Refused (nullopt, with the reason in `why`): other schemes, user
// names or passwords in the URL, a fragment, a missing or malformed host, a bad port, spaces or
// control characters, more than 2048 characters.
std::optional<target_url> parse_target_url(std::string_view text, std::string& why);

// One resolved address: 4 bytes (IPv4) or 16 (IPv6) in network order.
struct ip_address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  std::string text() const;  // "10.0.0.1", "::1"
  bool operator==(const ip_address&) const = default;
};

// Parses a literal IPv4 or IPv6 address (no brackets, no zone); nullopt otherwise.
std::optional<ip_address> parse_ip(std::string_view text);

// Why an address is not a public unicast one; nullopt when it is. Covers "this network" 0/8,
// loopback 127/8, RFC 1918 private ranges, CGNAT 100.64/10, link-local 169.254/16 (the cloud
// metadata services live there), IETF protocol assignments 192.0.0/24, benchmarking 198.18/15,
// multicast, reserved 240/4 and broadcast; for IPv6 unspecified, loopback, IPv4-mapped and
// IPv4-compatible and NAT64 addresses (judged by the IPv4 address inside), unique local fc00::/7,
// link-local fe80::/10, site-local fec0::/10, multicast, discard-only 100::/64, and 6to4 /
// Teredo relays wrapping a private IPv4 address.
std::optional<std::string> non_public_reason(const ip_address& address);

// The host's addresses, as the system resolver gives them. Throws target_unresolvable.
using resolver = std::function<std::vector<ip_address>(const std::string& host)>;
resolver system_resolver();

// The operator's policy: private targets are refused unless explicitly allowed
// (`realmkit serve --webhooks-allow-private`, for a receiver on the same machine or network).
struct target_policy {
  bool allow_private = false;
  resolver resolve;  // the system resolver when empty
};

// The target's host could not be resolved (or resolved to nothing): may be temporary.
class target_unresolvable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The target is not allowed by the policy: permanent until the operator or the URL changes.
class target_refused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The addresses to connect to: every address the host resolves to, each one checked. One
// non-public address refuses the whole target (unless the policy allows private ones), so a name
// that resolves to both a public and a private address cannot be used to reach the private one.
// Throws target_refused or target_unresolvable.
std::vector<ip_address> checked_addresses(const target_url& url, const target_policy& policy);

}  // namespace realmkit::infra::webhooks
