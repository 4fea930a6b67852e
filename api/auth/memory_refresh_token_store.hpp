// Refresh tokens in process memory: for unit tests, and for a single process that accepts that a
// restart signs everybody out.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "api/auth/refresh_token_store.hpp"

namespace realmkit::api::auth {

class memory_refresh_token_store final : public refresh_token_store {
 public:
  void insert(const refresh_token_record& record) override;
  rotate_result rotate(std::string_view token_hash, std::string_view successor_hash,
                       timestamp successor_expires_at, timestamp now) override;
  std::optional<refresh_token_record> find(std::string_view token_hash) override;
  std::size_t revoke_family(std::string_view family_id, revoke_reason reason,
                            timestamp now) override;
  std::size_t revoke_user(std::string_view user_id, timestamp now) override;
  std::size_t purge_expired(timestamp cutoff) override;

 private:
  std::size_t revoke_family_locked(const std::string& family_id, revoke_reason reason,
                                   timestamp now);

  std::mutex mutex_;                                                    // guards the three maps
  std::map<std::string, refresh_token_record, std::less<>> tokens_;     // by hash
  std::map<std::string, std::set<std::string>, std::less<>> families_;  // family → hashes
  std::map<std::string, std::set<std::string>, std::less<>> users_;     // user → families
};

}  // namespace realmkit::api::auth
