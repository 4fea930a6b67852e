// The revocation list of the distributed mode: api::auth::revocation_list kept in Redis, so a
// session ended by one API process is refused by all of them.
#pragma once

#include <chrono>
#include <string_view>

#include "api/auth/revocation_list.hpp"
#include "infra/redis/redis_revocations.hpp"

namespace realmkit::app {

// Adapts infra::redis::redis_revocations, which it owns. Thread safe.
class redis_revocation_list final : public api::auth::revocation_list {
 public:
  // Connects lazily. Throws std::invalid_argument for a bad URL.
  explicit redis_revocation_list(infra::redis::redis_revocations_options options);

  // Throw infra::redis::redis_unavailable (or redis_error) when Redis did not store it.
  void revoke_session(std::string_view family_id, std::chrono::seconds ttl) override;
  void revoke_user(std::string_view user_id, std::chrono::sys_seconds revoked_at,
                   std::chrono::seconds ttl) override;
  // `unknown` while Redis is unreachable.
  api::auth::revocation_status check(std::string_view session_id, std::string_view user_id,
                                     std::chrono::sys_seconds issued_at) override;

 private:
  infra::redis::redis_revocations revocations_;
};

}  // namespace realmkit::app
