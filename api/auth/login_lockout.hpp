// Locks an account's logins for a while after repeated failures, the same way whether or not the
// account exists, so the lock reveals nothing about which e-mail addresses are registered.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/auth/auth_types.hpp"

namespace realmkit::api::auth {

struct lockout_policy {
  // This many failures within `window` (counted from the first of them) lock the account.
  std::uint32_t max_failures = 5;
  std::chrono::seconds window = std::chrono::minutes{15};
  // The first lock lasts base_lock; each further lock without a successful login in between
  // doubles it, up to max_lock.
  std::chrono::seconds base_lock = std::chrono::minutes{5};
  std::chrono::seconds max_lock = std::chrono::hours{1};
  // The doubling is forgotten after this long without failures.
  std::chrono::seconds forget_after = std::chrono::hours{24};
  // At most this many accounts are tracked (see memory_login_lockout).
  std::size_t max_tracked = 100'000;
};

// Keyed by the normalized e-mail address. An interface so several API processes can share the
// state through Redis later; memory_login_lockout keeps it in this process.
class login_lockout {
 public:
  virtual ~login_lockout() = default;
  // How long the account stays locked; zero when a login may be attempted.
  virtual std::chrono::seconds locked_for(std::string_view account) = 0;
  // A failed attempt (wrong password, unknown account, no password): may start a lock.
  virtual void record_failure(std::string_view account) = 0;
  // A successful login: forgets the failures and the doubling.
  virtual void record_success(std::string_view account) = 0;
};

// In-process state with a bounded number of accounts: beyond max_tracked, the least recently
// touched account is forgotten. An attacker would need max_tracked fresh addresses between two
// attempts on a locked account to unlock it early, and the per-address login rate limit allows
// ten a minute. Thread safe.
class memory_login_lockout final : public login_lockout {
 public:
  // Throws std::invalid_argument for zero failures, non-positive durations or base_lock >
  // max_lock.
  memory_login_lockout(lockout_policy policy, clock_fn clock);

  std::chrono::seconds locked_for(std::string_view account) override;
  void record_failure(std::string_view account) override;
  void record_success(std::string_view account) override;

  std::size_t tracked() const;

 private:
  struct state {
    std::string account;
    std::uint32_t failures = 0;  // within the current window
    timestamp window_start{};
    timestamp last_failure{};
    timestamp locked_until{};
    std::uint32_t locks = 0;  // locks since the last success, for the doubling
  };
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // The entry, moved to the front of the recency list; nullptr when not tracked.
  state* touch(std::string_view account);

  lockout_policy policy_;
  clock_fn clock_;
  mutable std::mutex mutex_;  // guards lru_ and index_
  std::list<state> lru_;      // most recently touched first
  std::unordered_map<std::string, std::list<state>::iterator, string_hash, std::equal_to<>> index_;
};

}  // namespace realmkit::api::auth
