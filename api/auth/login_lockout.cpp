#include "api/auth/login_lockout.hpp"

#include <stdexcept>

namespace realmkit::api::auth {

memory_login_lockout::memory_login_lockout(lockout_policy policy, clock_fn clock)
    : policy_(policy), clock_(clock ? std::move(clock) : system_clock()) {
  using std::chrono::seconds;
  if (policy_.max_failures == 0 || policy_.max_tracked == 0 || policy_.window <= seconds{0} ||
      policy_.base_lock <= seconds{0} || policy_.max_lock < policy_.base_lock ||
      policy_.forget_after <= seconds{0}) {
    throw std::invalid_argument("login lockout policy: counts and durations must be positive");
  }
}

memory_login_lockout::state* memory_login_lockout::touch(std::string_view account) {
  const auto it = index_.find(account);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &*it->second;
}

std::chrono::seconds memory_login_lockout::locked_for(std::string_view account) {
  const timestamp now = clock_();
  std::lock_guard lock(mutex_);
  const auto it = index_.find(account);
  if (it == index_.end() || it->second->locked_until <= now) return std::chrono::seconds{0};
  return std::chrono::ceil<std::chrono::seconds>(it->second->locked_until - now);
}

void memory_login_lockout::record_failure(std::string_view account) {
  const timestamp now = clock_();
  std::lock_guard lock(mutex_);
  state* s = touch(account);
  if (s == nullptr) {
    if (index_.size() >= policy_.max_tracked) {
      index_.erase(lru_.back().account);
      lru_.pop_back();
    }
    lru_.push_front(state{std::string(account)});
    index_.emplace(lru_.front().account, lru_.begin());
    s = &lru_.front();
  }
  if (s->locked_until > now) return;  // attempts while locked are refused, not counted
  if (s->locks > 0 && now - s->last_failure >= policy_.forget_after) s->locks = 0;
  if (s->failures == 0 || now - s->window_start >= policy_.window) {
    s->failures = 0;
    s->window_start = now;
  }
  s->last_failure = now;
  if (++s->failures < policy_.max_failures) return;
  auto duration = policy_.base_lock;
  for (std::uint32_t i = 0; i < s->locks && duration < policy_.max_lock; ++i) duration *= 2;
  if (duration > policy_.max_lock) duration = policy_.max_lock;
  s->locked_until = now + duration;
  s->failures = 0;
  ++s->locks;
}

void memory_login_lockout::record_success(std::string_view account) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(account);
  if (it == index_.end()) return;
  lru_.erase(it->second);
  index_.erase(it);
}

std::size_t memory_login_lockout::tracked() const {
  std::lock_guard lock(mutex_);
  return index_.size();
}

}  // namespace realmkit::api::auth
