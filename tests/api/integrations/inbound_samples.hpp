// The recorded provider payloads of tests/api/integrations/samples/ and how the tests sign them
// as each provider would.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "infra/crypto/encoding.hpp"
#include "infra/crypto/mac.hpp"

#ifndef REALMKIT_INBOUND_SAMPLES
#error "REALMKIT_INBOUND_SAMPLES must name tests/api/integrations/samples"
#endif

namespace realmkit::test::inbound {

inline std::string sample(std::string_view name) {
  std::ifstream in(std::string(REALMKIT_INBOUND_SAMPLES) + "/" + std::string(name),
                   std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with every occurrence of `from` (a sample's {{field}}, or a value to change) as `to`.
inline std::string replaced(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

inline std::string hex_hmac_sha256(std::string_view key, std::string_view message) {
  return infra::crypto::hex_encode(
      infra::crypto::as_bytes(infra::crypto::hmac_sha256(key, message)));
}

// A Mailgun sample with its {{timestamp}} and {{signature}} filled in: signed at `unix_time`
// with `key` over timestamp + token.
inline std::string mailgun_signed(std::string body, std::string_view token, std::string_view key,
                                  std::int64_t unix_time) {
  const auto ts = std::to_string(unix_time);
  body = replaced(std::move(body), "{{timestamp}}", ts);
  return replaced(std::move(body), "{{signature}}", hex_hmac_sha256(key, ts + std::string(token)));
}

// The Calendly-Webhook-Signature header for `body` signed at `unix_time` with `key`.
inline std::string calendly_header(std::string_view body, std::string_view key,
                                   std::int64_t unix_time) {
  const auto t = std::to_string(unix_time);
  return "t=" + t + ",v1=" + hex_hmac_sha256(key, t + "." + std::string(body));
}

}  // namespace realmkit::test::inbound
