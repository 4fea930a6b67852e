#include "infra/redis/redis_revocations.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <optional>
#include <stdexcept>

namespace realmkit::infra::redis {
namespace {

constexpr std::string_view kSessionPrefix = "realmkit:revoked:session:";
constexpr std::string_view kUserPrefix = "realmkit:revoked:user:";

// Keeps the latest revocation time and the longest expiry when two revocations race.
// ARGV: revoked_at (s), ttl (s).
constexpr std::string_view kRevokeUserScript = R"lua(local at = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '')
if current and current > at then at = current end
local left = redis.call('TTL', KEYS[1])
if left > ttl then ttl = left end
redis.call('SET', KEYS[1], string.format('%d', at), 'EX', ttl)
return at
)lua";

std::string seconds_arg(std::chrono::seconds ttl) {
  if (ttl.count() <= 0) throw std::invalid_argument("revocation: the ttl must be > 0");
  return std::to_string(ttl.count());
}

}  // namespace

redis_revocations::redis_revocations(redis_revocations_options options)
    : options_(std::move(options)),
      pool_({parse_redis_url(options_.url), options_.connect_timeout, options_.io_timeout},
            options_.max_idle_connections) {
  if (auto* m = options_.metrics) {
    constexpr auto kName = "realmkit_revocation_checks_total";
    constexpr auto kHelp = "Token revocation checks by answer (cached: revoked, from the cache)";
    checked_not_revoked_ = &m->counter_for(kName, kHelp, {{"answer", "not_revoked"}});
    checked_revoked_ = &m->counter_for(kName, kHelp, {{"answer", "revoked"}});
    checked_cached_ = &m->counter_for(kName, kHelp, {{"answer", "cached"}});
    checked_unknown_ = &m->counter_for(kName, kHelp, {{"answer", "unknown"}});
  }
}

void redis_revocations::revoke_session(std::string_view family_id, std::chrono::seconds ttl) {
  if (family_id.empty()) throw std::invalid_argument("revocation: the session id is empty");
  const std::string key = std::string(kSessionPrefix) + std::string(family_id);
  const std::string ttl_arg = seconds_arg(ttl);
  pool_.run([&](redis_connection& c) { return c.command({"SET", key, "1", "EX", ttl_arg}); });
  remember_session(std::string(family_id));
}

void redis_revocations::revoke_user(std::string_view user_id, std::chrono::sys_seconds revoked_at,
                                    std::chrono::seconds ttl) {
  if (user_id.empty()) throw std::invalid_argument("revocation: the user id is empty");
  const std::string key = std::string(kUserPrefix) + std::string(user_id);
  const std::string at_arg = std::to_string(revoked_at.time_since_epoch().count());
  const std::string ttl_arg = seconds_arg(ttl);
  const auto stored = pool_.run([&](redis_connection& c) {
    return c.command({"EVAL", kRevokeUserScript, "1", key, at_arg, ttl_arg});
  });
  remember_user(std::string(user_id), stored.integer);
}

void redis_revocations::remember_session(const std::string& family_id) {
  if (options_.cache_ttl.count() <= 0) return;
  std::lock_guard lock(cache_mutex_);
  // Bounded by forgetting everything: the cache only saves round trips, never decides alone.
  if (sessions_.size() >= options_.cache_max_entries) sessions_.clear();
  sessions_[family_id] = steady::now() + options_.cache_ttl;
}

void redis_revocations::remember_user(const std::string& user_id, std::int64_t revoked_at) {
  if (options_.cache_ttl.count() <= 0) return;
  std::lock_guard lock(cache_mutex_);
  if (users_.size() >= options_.cache_max_entries) users_.clear();
  auto& entry = users_[user_id];
  entry.revoked_at = std::max(entry.revoked_at, revoked_at);
  entry.expires = steady::now() + options_.cache_ttl;
}

bool redis_revocations::cached_revoked(const std::string& family_id, const std::string& user_id,
                                       std::int64_t issued_at) {
  if (options_.cache_ttl.count() <= 0) return false;
  const auto now = steady::now();
  std::lock_guard lock(cache_mutex_);
  if (!family_id.empty()) {
    if (auto it = sessions_.find(family_id); it != sessions_.end()) {
      if (it->second > now) return true;
      sessions_.erase(it);
    }
  }
  if (!user_id.empty()) {
    if (auto it = users_.find(user_id); it != users_.end()) {
      if (it->second.expires <= now) {
        users_.erase(it);
      } else if (issued_at <= it->second.revoked_at) {
        return true;
      }
      // An older revocation than this token: a newer one may exist, so Redis is asked.
    }
  }
  return false;
}

void redis_revocations::count(revocation_status status, bool cached) {
  counter* c = nullptr;
  switch (status) {
    case revocation_status::not_revoked:
      c = checked_not_revoked_;
      break;
    case revocation_status::revoked:
      c = cached ? checked_cached_ : checked_revoked_;
      break;
    case revocation_status::unknown:
      c = checked_unknown_;
      break;
  }
  if (c) c->inc();
}

revocation_status redis_revocations::is_revoked(std::string_view family_id,
                                                std::string_view user_id,
                                                std::chrono::sys_seconds issued_at) {
  const std::string family(family_id);
  const std::string user(user_id);
  const std::int64_t issued = issued_at.time_since_epoch().count();
  if (cached_revoked(family, user, issued)) {
    count(revocation_status::revoked, true);
    return revocation_status::revoked;
  }
  if (family.empty() && user.empty()) return revocation_status::not_revoked;
  const std::string session_key = std::string(kSessionPrefix) + family;
  const std::string user_key = std::string(kUserPrefix) + user;
  bool session_revoked = false;
  std::optional<std::int64_t> user_revoked_at;
  try {
    pool_.run([&](redis_connection& c) {
      // One round trip for both checks.
      if (!family.empty()) c.append({"EXISTS", session_key});
      if (!user.empty()) c.append({"GET", user_key});
      std::optional<redis_reply> session_reply, user_reply;
      if (!family.empty()) session_reply = c.read_reply();
      if (!user.empty()) user_reply = c.read_reply();
      if (session_reply) session_revoked = session_reply->throw_if_error().integer == 1;
      if (user_reply && !user_reply->throw_if_error().is_nil()) {
        std::int64_t at = 0;
        const auto& text = user_reply->str;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), at);
        if (ec != std::errc{} || end != text.data() + text.size()) {
          throw redis_error("revocation of user " + user + " holds a non-number: " + text);
        }
        user_revoked_at = at;
      }
      return 0;
    });
  } catch (const std::exception& e) {
    if (!outage_.exchange(true)) {
      spdlog::warn("revocations: cannot reach Redis ({}); tokens are refused until it is back",
                   e.what());
    }
    count(revocation_status::unknown, false);
    return revocation_status::unknown;
  }
  if (outage_.load(std::memory_order_relaxed) && outage_.exchange(false)) {
    spdlog::info("revocations: Redis is back");
  }
  if (session_revoked) remember_session(family);
  if (user_revoked_at) remember_user(user, *user_revoked_at);
  const bool revoked = session_revoked || (user_revoked_at && issued <= *user_revoked_at);
  const auto status = revoked ? revocation_status::revoked : revocation_status::not_revoked;
  count(status, false);
  return status;
}

}  // namespace realmkit::infra::redis
