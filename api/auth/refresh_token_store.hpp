// Where refresh tokens live: only their SHA-256 digests, grouped in families (one family per
// login). The rotation is one atomic store operation so two concurrent uses of the same token
// can never both succeed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "api/auth/auth_types.hpp"

namespace realmkit::api::auth {

// Why a token stopped being usable.
enum class revoke_reason {
  rotated,  // exchanged for its successor; presenting it again is reuse (theft)
  reuse,    // its family was revoked because a rotated token of it was presented again
  logout,   // its family was logged out
  user,     // every family of the user was revoked (password change, deactivation, admin)
};
std::string_view to_string(revoke_reason reason);
std::optional<revoke_reason> revoke_reason_from_string(std::string_view text);

struct refresh_token_record {
  std::string token_hash;  // lowercase hex SHA-256 of the token text; the token is never stored
  std::string family_id;   // shared by every token descending from one login
  std::string user_id;
  timestamp issued_at{};
  timestamp expires_at{};         // this token's own end
  timestamp family_expires_at{};  // no token of the family outlives this (the login's end)
  std::optional<timestamp> revoked_at;
  std::optional<revoke_reason> revoked_reason;
  std::optional<std::string> replaced_by;  // the successor's hash, for a rotated token

  bool operator==(const refresh_token_record&) const = default;
};

enum class rotate_status {
  rotated,    // the presented token is revoked, its successor stored
  not_found,  // no token with that hash
  expired,    // the token (or its family) has expired; nothing changed
  reused,     // the token had been rotated already: the whole family is now revoked
  revoked,    // the token's family was revoked (logout, reuse, user); nothing changed
};
std::string_view to_string(rotate_status status);

struct rotate_result {
  rotate_status status = rotate_status::not_found;
  // rotated: the successor as stored; other statuses: the presented token as it was found
  // (nullopt for not_found).
  std::optional<refresh_token_record> record;
};

// What rotate() does with a token found in the store: rotated (it is live), reused (it was
// rotated before), revoked (revoked for another reason) or expired. Every store decides with this
// one function, so they cannot disagree.
rotate_status classify(const refresh_token_record& record, timestamp now);

// The successor's end: the requested one, cut to the family's end.
inline timestamp successor_expiry(const refresh_token_record& record, timestamp requested) {
  return requested < record.family_expires_at ? requested : record.family_expires_at;
}

class refresh_token_store {
 public:
  virtual ~refresh_token_store() = default;

  // Stores a new token (the first of a family, from a login). Throws std::invalid_argument when
  // the hash exists already.
  virtual void insert(const refresh_token_record& record) = 0;

  // Atomically: when `token_hash` is live (not revoked, now < expires_at and
  // family_expires_at), revoke it (reason rotated, replaced_by the successor) and store the
  // successor {successor_hash, same family and user, issued_at now, expires_at
  // min(successor_expires_at, family_expires_at)}. When it was rotated before, revoke every live
  // token of its family (reason reuse) and answer reused. Everything else changes nothing.
  virtual rotate_result rotate(std::string_view token_hash, std::string_view successor_hash,
                               timestamp successor_expires_at, timestamp now) = 0;

  virtual std::optional<refresh_token_record> find(std::string_view token_hash) = 0;

  // Revokes every live token of the family / the user; returns how many were live.
  virtual std::size_t revoke_family(std::string_view family_id, revoke_reason reason,
                                    timestamp now) = 0;
  virtual std::size_t revoke_user(std::string_view user_id, timestamp now) = 0;

  // Deletes every token whose family ended before `cutoff` (they can never be used or matter for
  // reuse detection again). Returns how many rows went.
  virtual std::size_t purge_expired(timestamp cutoff) = 0;
};

}  // namespace realmkit::api::auth
