// Message authentication and digests: HMAC-SHA-256 (JWT HS256, webhook signatures), HMAC-SHA-1
// (Twilio's webhook signatures), SHA-256 (stored token digests) and a comparison whose time does
// not depend on where two secrets differ.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace realmkit::infra::crypto {

inline constexpr std::size_t kSha256Bytes = 32;
using sha256_digest = std::array<unsigned char, kSha256Bytes>;

// HMAC-SHA-256 (RFC 2104) of `message` under `key`; any key length is accepted (a longer key
// than the block is hashed first, as the RFC says). Key length policy is the caller's.
sha256_digest hmac_sha256(std::string_view key, std::string_view message);

inline constexpr std::size_t kSha1Bytes = 20;
using sha1_digest = std::array<unsigned char, kSha1Bytes>;

// HMAC-SHA-1 (RFC 2104), through OpenSSL: only for verifying signatures of peers that chose it
// (Twilio); SHA-1's collision weakness does not carry over to HMAC, but nothing of ours signs
// with it.
sha1_digest hmac_sha1(std::string_view key, std::string_view message);

sha256_digest sha256(std::string_view data);
// Lowercase hex of the SHA-256 of `data`: the form token digests are stored in.
std::string sha256_hex(std::string_view data);

// True when `a` and `b` hold the same bytes. The time taken depends only on the lengths, never
// on the contents, so a MAC check does not tell an attacker how many leading bytes were right.
// Lengths are not secret (a MAC's length is public), so different lengths return at once.
bool constant_time_equal(std::string_view a, std::string_view b);

inline std::string_view as_bytes(const sha256_digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}
inline std::string_view as_bytes(const sha1_digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

}  // namespace realmkit::infra::crypto
