// A revocation list in memory whose answers a test controls: for tests about how the API reacts
// to revocations and to an unreachable list (the Redis one is tested in tests/app).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "api/auth/revocation_list.hpp"

namespace realmkit::testing {

class fake_revocation_list final : public api::auth::revocation_list {
 public:
  void revoke_session(std::string_view family_id, std::chrono::seconds ttl) override {
    std::lock_guard lock(mutex_);
    if (down_) throw std::runtime_error("the revocation store is down");
    sessions_.emplace(family_id);
    last_ttl_ = ttl;
  }
  void revoke_user(std::string_view user_id, std::chrono::sys_seconds revoked_at,
                   std::chrono::seconds ttl) override {
    std::lock_guard lock(mutex_);
    if (down_) throw std::runtime_error("the revocation store is down");
    auto& at = users_[std::string(user_id)];
    if (revoked_at > at) at = revoked_at;
    last_ttl_ = ttl;
  }
  api::auth::revocation_status check(std::string_view session_id, std::string_view user_id,
                                     std::chrono::sys_seconds issued_at) override {
    std::lock_guard lock(mutex_);
    ++checks_;
    if (down_) return api::auth::revocation_status::unknown;
    if (!session_id.empty() && sessions_.contains(std::string(session_id))) {
      return api::auth::revocation_status::revoked;
    }
    if (const auto it = users_.find(std::string(user_id));
        it != users_.end() && issued_at <= it->second) {
      return api::auth::revocation_status::revoked;
    }
    return api::auth::revocation_status::not_revoked;
  }

  // Down: revocations throw and checks answer `unknown`, as the Redis list does without Redis.
  void set_down(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  int checks() const {
    std::lock_guard lock(mutex_);
    return checks_;
  }
  std::chrono::seconds last_ttl() const {
    std::lock_guard lock(mutex_);
    return last_ttl_;
  }
  bool session_revoked(const std::string& family_id) const {
    std::lock_guard lock(mutex_);
    return sessions_.contains(family_id);
  }

 private:
  mutable std::mutex mutex_;  // guards every member below
  bool down_ = false;
  int checks_ = 0;
  std::chrono::seconds last_ttl_{0};
  std::set<std::string, std::less<>> sessions_;
  std::map<std::string, std::chrono::sys_seconds, std::less<>> users_;
};

}  // namespace realmkit::testing
