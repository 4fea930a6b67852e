// Revoked sessions shared by every API process through Redis, so an access token of a logged-out
// session (or of a user whose sessions were all revoked) is refused everywhere before it expires.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "infra/metrics.hpp"
#include "infra/redis/redis_connection_pool.hpp"

namespace realmkit::infra::redis {

enum class revocation_status {
  not_revoked,
  revoked,
  unknown,  // Redis could not be asked: the caller fails closed (refuses the token)
};

struct redis_revocations_options {
  std::string url;  // redis://…
  std::chrono::milliseconds connect_timeout{250};
  std::chrono::milliseconds io_timeout{250};
  // Revoked answers are remembered this long in the process (a revocation is never undone, so a
  // remembered "revoked" is never wrong); 0 turns the cache off. "Not revoked" is never cached.
  std::chrono::milliseconds cache_ttl{5000};
  std::size_t cache_max_entries = 10'000;
  std::size_t max_idle_connections = 8;
  metrics_registry* metrics = nullptr;  // nullable; must outlive this
};

// Keys: realmkit:revoked:session:<family id> and realmkit:revoked:user:<user id> (value: the
// revocation time in seconds since the epoch), each expiring after the ttl given, which callers
// set to the access tokens' lifetime: after that no token it could refuse is still valid.
// Thread safe.
class redis_revocations final {
 public:
  // Connects lazily. Throws std::invalid_argument for a bad URL.
  explicit redis_revocations(redis_revocations_options options);

  // Throw redis_unavailable (or redis_error) when the revocation could not be stored, so that a
  // logout never reports a success that other processes do not know about.
  void revoke_session(std::string_view family_id, std::chrono::seconds ttl);
  // Revokes every token of the user issued at or before revoked_at: a token issued in the same
  // second as the revocation may predate it, so it is refused too (the user logs in again). A
  // later revocation of the same user keeps the latest time and the longest expiry.
  void revoke_user(std::string_view user_id, std::chrono::sys_seconds revoked_at,
                   std::chrono::seconds ttl);

  // Whether a token of this session family and user, issued at issued_at, is revoked. An empty id
  // skips its check. Never throws for Redis being down: that is `unknown`.
  revocation_status is_revoked(std::string_view family_id, std::string_view user_id,
                               std::chrono::sys_seconds issued_at);

 private:
  using steady = std::chrono::steady_clock;
  struct cached_user {
    std::int64_t revoked_at = 0;
    steady::time_point expires;
  };

  void remember_session(const std::string& family_id);
  void remember_user(const std::string& user_id, std::int64_t revoked_at);
  bool cached_revoked(const std::string& family_id, const std::string& user_id,
                      std::int64_t issued_at);
  void count(revocation_status status, bool cached);

  redis_revocations_options options_;
  redis_connection_pool pool_;

  std::mutex cache_mutex_;  // guards sessions_ and users_
  std::unordered_map<std::string, steady::time_point> sessions_;
  std::unordered_map<std::string, cached_user> users_;

  std::atomic<bool> outage_{false};  // so an outage is logged once, not once per request
  counter* checked_not_revoked_ = nullptr;
  counter* checked_revoked_ = nullptr;
  counter* checked_cached_ = nullptr;
  counter* checked_unknown_ = nullptr;
};

}  // namespace realmkit::infra::redis
