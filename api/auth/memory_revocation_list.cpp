#include "api/auth/memory_revocation_list.hpp"

#include <algorithm>

namespace realmkit::api::auth {

memory_revocation_list::memory_revocation_list(clock_fn clock) : clock_(std::move(clock)) {}

void memory_revocation_list::revoke_session(std::string_view family_id, std::chrono::seconds ttl) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  sessions_[std::string(family_id)] = now + ttl;
  purge(now);
}

void memory_revocation_list::revoke_user(std::string_view user_id,
                                         std::chrono::sys_seconds revoked_at,
                                         std::chrono::seconds ttl) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  auto& entry = users_[std::string(user_id)];
  // A later revocation covers an earlier one; an earlier one arriving late changes nothing.
  entry.revoked_at = std::max(entry.revoked_at, revoked_at);
  entry.expires = std::max(entry.expires, now + ttl);
  purge(now);
}

revocation_status memory_revocation_list::check(std::string_view session_id,
                                                std::string_view user_id,
                                                std::chrono::sys_seconds issued_at) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  if (!session_id.empty()) {
    const auto s = sessions_.find(std::string(session_id));
    if (s != sessions_.end() && s->second > now) return revocation_status::revoked;
  }
  const auto u = users_.find(std::string(user_id));
  if (u != users_.end() && u->second.expires > now && issued_at <= u->second.revoked_at) {
    return revocation_status::revoked;
  }
  return revocation_status::not_revoked;
}

std::size_t memory_revocation_list::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size() + users_.size();
}

void memory_revocation_list::purge(timestamp now) {
  if (sessions_.size() + users_.size() < purge_at_) return;
  std::erase_if(sessions_, [&](const auto& e) { return e.second <= now; });
  std::erase_if(users_, [&](const auto& e) { return e.second.expires <= now; });
  purge_at_ = std::max<std::size_t>(1024, (sessions_.size() + users_.size()) * 3 / 2);
}

}  // namespace realmkit::api::auth
