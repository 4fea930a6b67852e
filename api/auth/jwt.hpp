// JSON Web Tokens (RFC 7519) signed with HS256 only, written by hand on libsodium's HMAC and
// RapidJSON, and verified strictly: every way a token can be wrong has its own jwt_error.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth/auth_types.hpp"

namespace realmkit::api::auth {

// Checked before anything else is looked at, so an oversized header costs nothing.
inline constexpr std::size_t kMaxTokenBytes = 4096;
inline constexpr std::size_t kMinSecretBytes = 32;

// A signing key. The kid travels in the token header, so keys can be rotated: sign with the new
// key while the old one still verifies until the last token signed with it has expired.
struct jwt_key {
  std::string kid;     // 1-64 characters of [A-Za-z0-9._-]
  std::string secret;  // at least kMinSecretBytes random bytes
};

class jwt_keyset {
 public:
  // The first key signs; every key verifies. Throws std::invalid_argument for no keys, a secret
  // shorter than kMinSecretBytes, a malformed kid or two keys with the same kid.
  explicit jwt_keyset(std::vector<jwt_key> keys);

  const jwt_key& signing_key() const { return keys_.front(); }
  // nullptr when no key has this kid.
  const jwt_key* find(std::string_view kid) const;

 private:
  std::vector<jwt_key> keys_;
};

// True for a kid a jwt_key may have.
bool is_valid_kid(std::string_view kid);

// A new key with 32 random bytes, e.g. for the embedded default's first start.
jwt_key generate_jwt_key(std::string kid);
// Keys as configuration text (REALMKIT_JWT_KEYS, a key file): "kid=<base64url secret>", several
// separated by commas, the signing key first. Throws std::invalid_argument naming what is wrong,
// never echoing a secret.
jwt_keyset parse_jwt_keyset(std::string_view text);
// One key in that form.
std::string format_jwt_key(const jwt_key& key);

using seconds_time = std::chrono::sys_seconds;

struct jwt_claims {
  std::string issuer;                      // iss
  std::string subject;                     // sub: the user id
  std::vector<std::string> audience;       // aud: a string when one, an array otherwise
  seconds_time expires_at{};               // exp
  seconds_time issued_at{};                // iat
  std::optional<seconds_time> not_before;  // nbf
  std::string token_id;                    // jti
  domain::user_role role = domain::user_role::sales_rep;  // role
  std::optional<std::string> team_id;                     // team (absent or null: no team)
  // sid: the session (refresh token family) the token was issued for, so a logout can revoke it.
  // Absent in tokens issued before sessions were named; they stay valid until they expire.
  std::optional<std::string> session_id;

  bool operator==(const jwt_claims&) const = default;
};

enum class jwt_error {
  none,
  too_large,        // more than kMaxTokenBytes
  malformed,        // not exactly three '.'-separated segments
  bad_base64,       // a segment is not canonical unpadded base64url
  header_not_json,  // also: invalid UTF-8, trailing bytes
  header_not_object,
  duplicate_key,  // a JSON object with the same member twice (header or payload)
  missing_alg,
  alg_none,            // "none" in any letter case
  alg_not_allowed,     // anything but exactly "HS256"
  bad_typ,             // typ present and not "JWT"
  unsupported_header,  // a header parameter other than alg, typ and kid (crit, jku, jwk, ...)
  bad_kid,             // kid not a string
  unknown_kid,
  bad_signature,
  payload_not_json,
  payload_not_object,
  bad_claim_type,  // e.g. exp not an integer, aud not a string or array of strings
  missing_exp,
  missing_iat,
  missing_sub,
  missing_jti,
  missing_iss,
  missing_aud,
  missing_role,
  unknown_role,
  expired,
  not_yet_valid,     // nbf in the future (beyond the leeway)
  issued_in_future,  // iat in the future (beyond the leeway)
  wrong_issuer,
  wrong_audience,
  // Set by token_service::authenticate after the token verified, never by the verifier:
  revoked,             // the session was logged out or the user's tokens were revoked
  revocation_unknown,  // the revocation list could not be asked (the token may well be fine)
};

// A stable snake_case name, for logs and metrics (never sent to clients: they get one answer).
std::string_view to_string(jwt_error error);

struct jwt_verify_result {
  jwt_error error = jwt_error::none;
  std::string detail;  // what exactly was wrong, for the log line
  jwt_claims claims;   // meaningful only when ok()

  bool ok() const { return error == jwt_error::none; }
};

struct jwt_verify_options {
  std::string issuer;    // iss must equal this
  std::string audience;  // aud must be, or contain, this
  // Tolerance for clock skew between issuing and verifying hosts, applied to exp, nbf and iat.
  std::chrono::seconds leeway{30};
};

// A signed token for these claims, with header {"alg":"HS256","typ":"JWT","kid":<key's kid>}.
std::string sign_jwt(const jwt_claims& claims, const jwt_key& key);

class jwt_verifier {
 public:
  // Throws std::invalid_argument for an empty issuer or audience or a leeway outside 0-300 s.
  jwt_verifier(jwt_keyset keys, jwt_verify_options options, clock_fn clock);

  jwt_verify_result verify(std::string_view token) const;

  const jwt_keyset& keys() const { return keys_; }
  const jwt_verify_options& options() const { return options_; }

 private:
  jwt_keyset keys_;
  jwt_verify_options options_;
  clock_fn clock_;
};

namespace detail {
// base64url(header) "." base64url(payload) "." base64url(HMAC-SHA-256) of the given JSON texts,
// taken as they are: for tests that need tokens no well-behaved issuer would make.
std::string sign_compact(std::string_view header_json, std::string_view payload_json,
                         std::string_view secret);
}  // namespace detail

}  // namespace realmkit::api::auth
