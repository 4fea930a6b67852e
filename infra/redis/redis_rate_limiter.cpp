#include "infra/redis/redis_rate_limiter.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace realmkit::infra::redis {
namespace {

// Tokens are scaled by the period in microseconds, as token_bucket scales by nanoseconds, so a
// refill of dt adds exactly dt * refill and no fraction of a token is lost. Lua numbers are
// doubles: exact up to 2^53, which the constructor checks capacity * period against.
// ARGV: capacity, refill tokens, period (µs), cost, expiry (ms). Returns {allowed 0|1,
// retry after (µs), whole tokens left}.
constexpr std::string_view kScript = R"lua(local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cap = capacity * period
local level = cap
local updated = now
local stored = redis.call('HMGET', KEYS[1], 'level', 'updated')
if stored[1] and stored[2] then
  level = tonumber(stored[1])
  updated = tonumber(stored[2])
  if now > updated then
    level = math.min(cap, level + (now - updated) * refill)
    updated = now
  end
end
local allowed = 0
local wait = 0
if cost > capacity then
  wait = math.ceil(cap / refill)
elseif level >= cost * period then
  level = level - cost * period
  allowed = 1
else
  wait = math.ceil((cost * period - level) / refill)
end
redis.call('HSET', KEYS[1], 'level', level, 'updated', updated)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {allowed, wait, math.floor(level / period)}
)lua";
// SHA-1 of kScript; a test checks it against SCRIPT LOAD.
constexpr std::string_view kScriptSha = "bf36b9ed29939334ed6353124b9181328029770b";

constexpr std::int64_t kMaxExact = std::int64_t{1} << 53;

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

rate_limit::token_bucket_limiter_options fallback_options(const redis_rate_limiter_options& o) {
  rate_limit::token_bucket_limiter_options out;
  out.bucket = o.bucket;
  out.max_keys = o.fallback_max_keys;
  return out;
}

}  // namespace

std::string_view redis_rate_limiter::script() {
  return kScript;
}
std::string_view redis_rate_limiter::script_sha() {
  return kScriptSha;
}

redis_rate_limiter::redis_rate_limiter(redis_rate_limiter_options options)
    : options_(std::move(options)),
      key_prefix_("realmkit:rl:" + options_.name + ":"),
      period_us_(
          std::chrono::duration_cast<std::chrono::microseconds>(options_.bucket.refill_period)
              .count()),
      pool_({parse_redis_url(options_.url), options_.connect_timeout, options_.io_timeout},
            options_.max_idle_connections),
      fallback_(fallback_options(options_)) {
  if (options_.name.empty()) throw std::invalid_argument("redis rate limiter: the name is empty");
  options_.bucket.validate();
  if (period_us_ <= 0 || std::chrono::microseconds{period_us_} != options_.bucket.refill_period) {
    throw std::invalid_argument(
        "redis rate limiter: the refill period must be a whole number of microseconds");
  }
  if (period_us_ > kMaxExact / options_.bucket.capacity) {
    throw std::invalid_argument("redis rate limiter: capacity * refill period (µs) exceeds 2^53");
  }
  capacity_arg_ = std::to_string(options_.bucket.capacity);
  refill_arg_ = std::to_string(options_.bucket.refill_tokens);
  period_arg_ = std::to_string(period_us_);
  // An idle bucket is full again after time_to_full; kept a second longer, then it is the same
  // as no bucket.
  const auto ttl = std::chrono::ceil<std::chrono::milliseconds>(options_.bucket.time_to_full()) +
                   std::chrono::seconds{1};
  ttl_arg_ = std::to_string(ttl.count());
  if (auto* m = options_.metrics) {
    fallback_metric_ = &m->counter_for(
        "realmkit_rate_limit_redis_fallback_decisions_total",
        "Rate limit decisions made by the local fallback while Redis was unreachable",
        {{"limiter", options_.name}});
    outages_metric_ = &m->counter_for("realmkit_rate_limit_redis_outages_total",
                                      "Times a Redis rate limiter switched to its local fallback",
                                      {{"limiter", options_.name}});
  }
}

rate_limit::rate_decision redis_rate_limiter::acquire_in_redis(std::string_view key,
                                                               std::uint32_t cost) {
  const std::string redis_key = key_prefix_ + std::string(key);
  const std::string cost_arg = std::to_string(cost);
  const auto reply = pool_.run([&](redis_connection& c) {
    const std::string_view evalsha[] = {"EVALSHA",   kScriptSha,    "1",
                                        redis_key,   capacity_arg_, refill_arg_,
                                        period_arg_, cost_arg,      ttl_arg_};
    c.append(evalsha);
    auto r = c.read_reply();
    if (r.is_error() && r.str.starts_with("NOSCRIPT")) {
      // The server's script cache is empty (a restart, SCRIPT FLUSH): EVAL loads it again.
      const std::string_view eval[] = {"EVAL",      kScript,     "1",      redis_key, capacity_arg_,
                                       refill_arg_, period_arg_, cost_arg, ttl_arg_};
      r = c.command(eval);
    }
    r.throw_if_error();
    return r;
  });
  if (reply.kind != redis_reply::type::array || reply.elements.size() != 3) {
    throw redis_error("redis rate limiter: unexpected script reply");
  }
  rate_limit::rate_decision d;
  d.allowed = reply.elements[0].integer == 1;
  d.retry_after = std::chrono::microseconds{reply.elements[1].integer};
  d.remaining = static_cast<std::uint32_t>(reply.elements[2].integer);
  return d;
}

void redis_rate_limiter::note_failure(const std::exception& e) {
  retry_at_.store(
      steady_now_ns() +
          std::chrono::duration_cast<std::chrono::nanoseconds>(options_.retry_after).count(),
      std::memory_order_relaxed);
  if (!outage_.exchange(true)) {
    if (outages_metric_) outages_metric_->inc();
    spdlog::warn("rate limiter {}: Redis unusable ({}); deciding locally, retrying every {} ms",
                 options_.name, e.what(), options_.retry_after.count());
  }
}

void redis_rate_limiter::note_success() {
  if (outage_.load(std::memory_order_relaxed) && outage_.exchange(false)) {
    spdlog::info("rate limiter {}: Redis is back, limits are shared again", options_.name);
  }
}

rate_limit::rate_decision redis_rate_limiter::try_acquire(std::string_view key,
                                                          std::uint32_t cost) {
  if (steady_now_ns() >= retry_at_.load(std::memory_order_relaxed)) {
    try {
      auto decision = acquire_in_redis(key, cost);
      note_success();
      return decision;
    } catch (const redis_unavailable& e) {
      note_failure(e);
    } catch (const redis_error& e) {
      // A script error or a refused command: Redis is there but cannot decide, which for the
      // caller is the same as an outage.
      note_failure(e);
    }
  }
  fallback_count_.fetch_add(1, std::memory_order_relaxed);
  if (fallback_metric_) fallback_metric_->inc();
  return fallback_.try_acquire(key, cost);
}

}  // namespace realmkit::infra::redis
