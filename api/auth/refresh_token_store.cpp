#include "api/auth/refresh_token_store.hpp"

namespace realmkit::api::auth {

std::string_view to_string(revoke_reason reason) {
  switch (reason) {
    case revoke_reason::rotated:
      return "rotated";
    case revoke_reason::reuse:
      return "reuse";
    case revoke_reason::logout:
      return "logout";
    case revoke_reason::user:
      return "user";
  }
  return {};
}

std::optional<revoke_reason> revoke_reason_from_string(std::string_view text) {
  for (auto r :
       {revoke_reason::rotated, revoke_reason::reuse, revoke_reason::logout, revoke_reason::user}) {
    if (to_string(r) == text) return r;
  }
  return std::nullopt;
}

rotate_status classify(const refresh_token_record& record, timestamp now) {
  // Revocation first: a rotated token presented again is theft even once it has expired.
  if (record.revoked_at) {
    return record.revoked_reason == revoke_reason::rotated ? rotate_status::reused
                                                           : rotate_status::revoked;
  }
  if (now >= record.expires_at || now >= record.family_expires_at) return rotate_status::expired;
  return rotate_status::rotated;
}

std::string_view to_string(rotate_status status) {
  switch (status) {
    case rotate_status::rotated:
      return "rotated";
    case rotate_status::not_found:
      return "not_found";
    case rotate_status::expired:
      return "expired";
    case rotate_status::reused:
      return "reused";
    case rotate_status::revoked:
      return "revoked";
  }
  return {};
}

}  // namespace realmkit::api::auth
