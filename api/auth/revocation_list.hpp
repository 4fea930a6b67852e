// Revoked sessions and users that every API process consults, so an access token of a logged-out
// session, or of a user whose sessions were revoked, is refused everywhere before it expires.
#pragma once

#include <chrono>
#include <string_view>

namespace realmkit::api::auth {

enum class revocation_status {
  not_revoked,
  revoked,
  unknown,  // the list could not be asked: the caller fails closed, without blaming the token
};

// Entries need to outlive only the access tokens they refuse, so each carries a ttl that callers
// set to the access token lifetime plus the verifier's leeway. Implementations are thread safe.
class revocation_list {
 public:
  virtual ~revocation_list() = default;

  // Throws when the revocation could not be stored (the list's store is unreachable).
  virtual void revoke_session(std::string_view family_id, std::chrono::seconds ttl) = 0;
  // Revokes the user's tokens issued at or before revoked_at, including those issued within the
  // same second (iat has whole seconds, so they may predate it). Throws like revoke_session.
  virtual void revoke_user(std::string_view user_id, std::chrono::sys_seconds revoked_at,
                           std::chrono::seconds ttl) = 0;

  // Whether a token of this session (empty: a token without a session id, not checked by it) and
  // user, issued at issued_at, is revoked. Never throws for an unreachable store: `unknown`.
  virtual revocation_status check(std::string_view session_id, std::string_view user_id,
                                  std::chrono::sys_seconds issued_at) = 0;
};

}  // namespace realmkit::api::auth
