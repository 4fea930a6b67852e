// Issues and checks the tokens of a session: a short-lived JWT access token, and an opaque
// refresh token that is rotated on every use, whose reuse revokes its whole family.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "api/auth/auth_types.hpp"
#include "api/auth/jwt.hpp"
#include "api/auth/refresh_token_store.hpp"
#include "api/auth/revocation_list.hpp"

namespace realmkit::api::auth {

struct token_options {
  std::string issuer = "realmkit";
  std::string audience = "realmkit-api";
  // Access tokens are checked without the refresh token store, and with no revocation list (or
  // while it is unreachable when a session ends) nothing refuses them before they expire: they
  // live briefly.
  std::chrono::seconds access_ttl = std::chrono::minutes{15};
  std::chrono::seconds leeway{30};
  // A refresh token unused this long expires: an idle session ends.
  std::chrono::seconds refresh_ttl = std::chrono::days{14};
  // No session outlives this, however often it is refreshed: then the user logs in again.
  std::chrono::seconds session_lifetime = std::chrono::days{30};
};

struct token_pair {
  std::string access_token;
  std::string refresh_token;
  std::chrono::seconds expires_in{0};  // of the access token
  timestamp refresh_expires_at{};
  std::string family_id;  // the session: what logout ends
};

enum class refresh_status {
  ok,
  invalid,    // not a token we issued (malformed or unknown)
  expired,    // the refresh token or its session ended: log in again
  revoked,    // the session was logged out or revoked
  reused,     // an already rotated token: treated as stolen, the session is now revoked
  user_gone,  // the user no longer exists or was deactivated; the session is now revoked
};
std::string_view to_string(refresh_status status);

struct refresh_result {
  refresh_status status = refresh_status::invalid;
  std::optional<token_pair> tokens;  // when ok
  std::string user_id;               // known for every status but invalid: for the audit log
};

struct authentication {
  jwt_error error = jwt_error::none;
  std::string detail;  // for the log line only
  principal who;       // when ok()

  bool ok() const { return error == jwt_error::none; }
  // The token verified but the revocation list could not say whether it was revoked: refused,
  // though not as a bad token (the caller answers 503, not 401).
  bool unavailable() const { return error == jwt_error::revocation_unknown; }
};

// The current facts about a user at refresh time (role and team may have changed since login);
// nullopt when the user is gone or deactivated.
using subject_lookup = std::function<std::optional<subject>(std::string_view user_id)>;

// Thread safe when its store and revocation list are (all are).
class token_service {
 public:
  // Throws std::invalid_argument for a bad key set or options (non-positive lifetimes, a refresh
  // lifetime longer than the session, a leeway outside 0-300 s, an empty issuer or audience).
  // `revocations` (nullable, must outlive this) is shared by every API process: sessions ended
  // here are refused there too, before their access tokens expire.
  token_service(jwt_keyset keys, token_options options, refresh_token_store& store, clock_fn clock,
                revocation_list* revocations = nullptr);

  // After a successful login: an access token and the first refresh token of a new session.
  token_pair issue(const subject& who);

  // Exchanges a refresh token for a new pair in the same session. Only a live token works; a
  // token presented twice revokes the session (theft detection).
  refresh_result refresh(std::string_view refresh_token, const subject_lookup& current);

  // Verifies an access token (jwt_verifier::verify) into the request's principal, then asks the
  // revocation list, when there is one: jwt_error::revoked for a logged-out session or a revoked
  // user, jwt_error::revocation_unknown when the list cannot answer.
  authentication authenticate(std::string_view access_token) const;

  // Ends the session the refresh token belongs to (any token of it, even a rotated one). False
  // when the token is unknown. Its access tokens are refused by every process sharing the
  // revocation list; without one, or when it cannot store the revocation (logged as a warning;
  // the session still ends), they stay valid until they expire (at most access_ttl).
  bool logout(std::string_view refresh_token);

  // Ends every session of the user (password change, deactivation, role change by an admin), and
  // revokes the user's access tokens issued until now as logout does (same degraded mode). A
  // login within the same second as the revocation is refused too: the user logs in again.
  std::size_t revoke_user(std::string_view user_id);

  // Forgets sessions that ended before now - `keep` (kept a while for reuse reports).
  std::size_t purge_expired(std::chrono::seconds keep = std::chrono::days{7});

  const token_options& options() const { return options_; }

 private:
  std::optional<std::string> hash_of(std::string_view refresh_token) const;
  std::string access_token_for(const subject& who, timestamp now,
                               const std::string& family_id) const;
  // How long a revocation must be kept: until every token it refuses has expired.
  std::chrono::seconds revocation_ttl() const;

  token_options options_;
  jwt_verifier verifier_;
  refresh_token_store& store_;
  clock_fn clock_;
  revocation_list* revocations_;
};

}  // namespace realmkit::api::auth
