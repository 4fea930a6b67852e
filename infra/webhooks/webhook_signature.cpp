#include "infra/webhooks/webhook_signature.hpp"

#include <charconv>
#include <optional>
#include <vector>

#include "infra/crypto/encoding.hpp"
#include "infra/crypto/mac.hpp"
#include "infra/crypto/random.hpp"

namespace realmkit::infra::webhooks {

std::string new_secret() {
  return std::string(kSecretPrefix) + crypto::random_token(32);
}

std::string signature_of(std::string_view secret, std::int64_t timestamp, std::string_view body) {
  std::string signed_text = std::to_string(timestamp);
  signed_text += '.';
  signed_text += body;
  return crypto::hex_encode(crypto::as_bytes(crypto::hmac_sha256(secret, signed_text)));
}

std::string signature_header(std::span<const std::string> secrets, std::int64_t timestamp,
                             std::string_view body) {
  std::string header = "t=" + std::to_string(timestamp);
  for (const auto& secret : secrets) {
    header += ",v1=";
    header += signature_of(secret, timestamp, body);
  }
  return header;
}

signature_check verify_signature(std::string_view header, std::string_view secret,
                                 std::string_view body, std::int64_t now,
                                 std::int64_t tolerance_seconds) {
  std::optional<std::int64_t> timestamp;
  std::vector<std::string_view> candidates;
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.starts_with("t=")) {
      std::int64_t t = 0;
      const auto digits = part.substr(2);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), t);
      if (ec != std::errc() || end != digits.data() + digits.size()) {
        return signature_check::malformed;
      }
      timestamp = t;
    } else if (part.starts_with("v1=")) {
      candidates.push_back(part.substr(3));
    }  // other schemes (a future v2) are ignored
  }
  if (!timestamp || candidates.empty()) return signature_check::malformed;
  const auto skew = *timestamp > now ? *timestamp - now : now - *timestamp;
  if (skew > tolerance_seconds) return signature_check::stale;
  const auto expected = signature_of(secret, *timestamp, body);
  bool matched = false;
  for (const auto candidate : candidates) {
    // Every candidate is compared, so the time taken does not tell which one matched.
    matched = crypto::constant_time_equal(candidate, expected) || matched;
  }
  return matched ? signature_check::valid : signature_check::mismatch;
}

}  // namespace realmkit::infra::webhooks
