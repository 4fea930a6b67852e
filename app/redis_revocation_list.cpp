#include "app/redis_revocation_list.hpp"

#include <utility>

namespace realmkit::app {

redis_revocation_list::redis_revocation_list(infra::redis::redis_revocations_options options)
    : revocations_(std::move(options)) {}

void redis_revocation_list::revoke_session(std::string_view family_id, std::chrono::seconds ttl) {
  revocations_.revoke_session(family_id, ttl);
}

void redis_revocation_list::revoke_user(std::string_view user_id,
                                        std::chrono::sys_seconds revoked_at,
                                        std::chrono::seconds ttl) {
  revocations_.revoke_user(user_id, revoked_at, ttl);
}

api::auth::revocation_status redis_revocation_list::check(std::string_view session_id,
                                                          std::string_view user_id,
                                                          std::chrono::sys_seconds issued_at) {
  switch (revocations_.is_revoked(session_id, user_id, issued_at)) {
    case infra::redis::revocation_status::not_revoked:
      return api::auth::revocation_status::not_revoked;
    case infra::redis::revocation_status::revoked:
      return api::auth::revocation_status::revoked;
    case infra::redis::revocation_status::unknown:
      break;
  }
  return api::auth::revocation_status::unknown;
}

}  // namespace realmkit::app
