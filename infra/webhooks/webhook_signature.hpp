// How a webhook proves where it comes from: each subscription has a secret ("whsec_" and 43
// characters of base64url, 32 random bytes), shown once to the admin who created or rotated it.
// Every delivery carries
//
//   RealmKit-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// keyed with the secret's text as shown. The timestamp is signed with the body, so a receiver
// that refuses old timestamps (5 minutes is the usual tolerance) also refuses replays of a
// captured request. During a rotation's overlap the header carries one v1 per valid secret, the
// newest first; a receiver accepts the request when any of them verifies.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace realmkit::infra::webhooks {

inline constexpr std::string_view kSecretPrefix = "whsec_";
inline constexpr std::string_view kSignatureHeader = "RealmKit-Signature";

// A new secret: kSecretPrefix + base64url of 32 bytes from libsodium's CSPRNG.
std::string new_secret();

// The lowercase hex HMAC-SHA256 of "<timestamp>.<body>" under `secret`.
std::string signature_of(std::string_view secret, std::int64_t timestamp, std::string_view body);

// "t=<timestamp>,v1=<sig under secrets[0]>,v1=<sig under secrets[1]>...".
std::string signature_header(std::span<const std::string> secrets, std::int64_t timestamp,
                             std::string_view body);

enum class signature_check {
  valid,
  malformed,  // no t=, or no v1=
  stale,      // the timestamp is further than the tolerance from now
  mismatch,   // no v1 matches
};

// What a receiver does, for tests and the documentation's example: parses the header, refuses a
// timestamp further than `tolerance_seconds` from `now`, and compares each v1 in constant time.
signature_check verify_signature(std::string_view header, std::string_view secret,
                                 std::string_view body, std::int64_t now,
                                 std::int64_t tolerance_seconds = 300);

}  // namespace realmkit::infra::webhooks
