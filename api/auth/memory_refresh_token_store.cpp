#include "api/auth/memory_refresh_token_store.hpp"

#include <stdexcept>
#include <vector>

namespace realmkit::api::auth {

void memory_refresh_token_store::insert(const refresh_token_record& record) {
  std::lock_guard lock(mutex_);
  if (!tokens_.emplace(record.token_hash, record).second) {
    throw std::invalid_argument("refresh token hash already stored");
  }
  families_[record.family_id].insert(record.token_hash);
  users_[record.user_id].insert(record.family_id);
}

rotate_result memory_refresh_token_store::rotate(std::string_view token_hash,
                                                 std::string_view successor_hash,
                                                 timestamp successor_expires_at, timestamp now) {
  std::lock_guard lock(mutex_);
  const auto it = tokens_.find(token_hash);
  if (it == tokens_.end()) return {rotate_status::not_found, std::nullopt};
  refresh_token_record& current = it->second;
  const rotate_status status = classify(current, now);
  if (status == rotate_status::reused) {
    rotate_result result{status, current};
    revoke_family_locked(current.family_id, revoke_reason::reuse, now);
    return result;
  }
  if (status != rotate_status::rotated) return {status, current};
  if (tokens_.contains(successor_hash)) {
    throw std::invalid_argument("refresh token hash already stored");
  }
  refresh_token_record next{std::string(successor_hash),
                            current.family_id,
                            current.user_id,
                            now,
                            successor_expiry(current, successor_expires_at),
                            current.family_expires_at,
                            std::nullopt,
                            std::nullopt,
                            std::nullopt};
  current.revoked_at = now;
  current.revoked_reason = revoke_reason::rotated;
  current.replaced_by = next.token_hash;
  families_[next.family_id].insert(next.token_hash);
  tokens_.emplace(next.token_hash, next);
  return {rotate_status::rotated, next};
}

std::optional<refresh_token_record> memory_refresh_token_store::find(std::string_view token_hash) {
  std::lock_guard lock(mutex_);
  const auto it = tokens_.find(token_hash);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

std::size_t memory_refresh_token_store::revoke_family_locked(const std::string& family_id,
                                                             revoke_reason reason, timestamp now) {
  const auto family = families_.find(family_id);
  if (family == families_.end()) return 0;
  std::size_t count = 0;
  for (const auto& hash : family->second) {
    auto& record = tokens_.at(hash);
    if (record.revoked_at) continue;
    record.revoked_at = now;
    record.revoked_reason = reason;
    ++count;
  }
  return count;
}

std::size_t memory_refresh_token_store::revoke_family(std::string_view family_id,
                                                      revoke_reason reason, timestamp now) {
  std::lock_guard lock(mutex_);
  return revoke_family_locked(std::string(family_id), reason, now);
}

std::size_t memory_refresh_token_store::revoke_user(std::string_view user_id, timestamp now) {
  std::lock_guard lock(mutex_);
  const auto user = users_.find(user_id);
  if (user == users_.end()) return 0;
  std::size_t count = 0;
  for (const auto& family : user->second) {
    count += revoke_family_locked(family, revoke_reason::user, now);
  }
  return count;
}

std::size_t memory_refresh_token_store::purge_expired(timestamp cutoff) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ended_families;
  for (const auto& [family_id, hashes] : families_) {
    const auto& any = tokens_.at(*hashes.begin());
    if (any.family_expires_at < cutoff) ended_families.push_back(family_id);
  }
  std::size_t count = 0;
  for (const auto& family_id : ended_families) {
    const auto family = families_.find(family_id);
    const std::string user_id = tokens_.at(*family->second.begin()).user_id;
    for (const auto& hash : family->second) count += tokens_.erase(hash);
    families_.erase(family);
    if (auto user = users_.find(user_id); user != users_.end()) {
      user->second.erase(family_id);
      if (user->second.empty()) users_.erase(user);
    }
  }
  return count;
}

}  // namespace realmkit::api::auth
