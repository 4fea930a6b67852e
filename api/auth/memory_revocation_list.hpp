// The revocation list of a single process (the embedded default): revoked sessions and users kept
// in memory until the access tokens they refuse have expired. With several API processes the list
// must be shared instead (app/redis_revocation_list.hpp); in memory it covers only this process.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "api/auth/auth_types.hpp"
#include "api/auth/revocation_list.hpp"

namespace realmkit::api::auth {

class memory_revocation_list final : public revocation_list {
 public:
  explicit memory_revocation_list(clock_fn clock);

  void revoke_session(std::string_view family_id, std::chrono::seconds ttl) override;
  void revoke_user(std::string_view user_id, std::chrono::sys_seconds revoked_at,
                   std::chrono::seconds ttl) override;
  revocation_status check(std::string_view session_id, std::string_view user_id,
                          std::chrono::sys_seconds issued_at) override;

  std::size_t size() const;  // entries not yet purged

 private:
  struct user_entry {
    std::chrono::sys_seconds revoked_at;
    timestamp expires;
  };
  // Drops expired entries once the maps have grown by half since the last purge: amortised O(1).
  void purge(timestamp now);

  clock_fn clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, timestamp> sessions_;  // family id → when the entry expires
  std::unordered_map<std::string, user_entry> users_;
  std::size_t purge_at_ = 1024;
};

}  // namespace realmkit::api::auth
