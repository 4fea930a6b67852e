// The Redis rate limiter: bucket semantics shared by limiters in several processes, concurrency,
// and the local fallback while Redis is down.
#include "infra/redis/redis_rate_limiter.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "infra/metrics.hpp"
#include "infra/redis/redis_connection.hpp"
#include "tests/infra/redis_test_support.hpp"

namespace rr = realmkit::infra::redis;
using realmkit::testing::eventually;
using realmkit::testing::redis_test_url;
using realmkit::testing::unique_redis_name;
using namespace std::chrono_literals;

namespace {

// A bucket that refills too slowly to matter during a test.
rr::redis_rate_limiter_options slow_bucket(const std::string& url, const std::string& name,
                                           std::uint32_t capacity) {
  rr::redis_rate_limiter_options o;
  o.url = url;
  o.name = name;
  o.bucket = {capacity, 1, std::chrono::hours{1}};
  return o;
}

rr::redis_connection connect_to(const std::string& url) {
  return rr::redis_connection({rr::parse_redis_url(url)});
}

}  // namespace

TEST_CASE("redis rate limiter: two limiters (two processes) share one bucket") {
  const auto name = unique_redis_name("test-");
  rr::redis_rate_limiter a(slow_bucket(redis_test_url(), name, 5));
  rr::redis_rate_limiter b(slow_bucket(redis_test_url(), name, 5));
  CHECK(a.try_acquire("user-1").remaining == 4);
  CHECK(b.try_acquire("user-1").remaining == 3);
  const auto two = a.try_acquire("user-1", 2);
  CHECK(two.allowed);
  CHECK(two.remaining == 1);
  const auto last = b.try_acquire("user-1");
  CHECK(last.allowed);
  CHECK(last.remaining == 0);
  for (auto* limiter : {&a, &b}) {
    const auto denied = limiter->try_acquire("user-1");
    CHECK_FALSE(denied.allowed);
    CHECK(denied.remaining == 0);
    // One token per hour: the next one is at most an hour away, and most of an hour.
    CHECK(denied.retry_after <= std::chrono::hours{1});
    CHECK(denied.retry_after > std::chrono::minutes{59});
  }
  // Other keys have their own buckets, starting full.
  CHECK(b.try_acquire("user-2").remaining == 4);
  CHECK_FALSE(a.degraded());
  CHECK(a.fallback_decisions() == 0);
}

TEST_CASE("redis rate limiter: a cost above capacity is denied for a full refill, taking nothing") {
  rr::redis_rate_limiter limiter(slow_bucket(redis_test_url(), unique_redis_name("test-"), 5));
  const auto denied = limiter.try_acquire("k", 6);
  CHECK_FALSE(denied.allowed);
  CHECK(denied.remaining == 5);
  CHECK(denied.retry_after == std::chrono::hours{5});
  CHECK(limiter.try_acquire("k", 5).allowed);
}

TEST_CASE("redis rate limiter: tokens refill with time") {
  rr::redis_rate_limiter_options o;
  o.url = redis_test_url();
  o.name = unique_redis_name("test-");
  o.bucket = {2, 1, 100ms};
  rr::redis_rate_limiter limiter(o);
  CHECK(limiter.try_acquire("k").allowed);
  CHECK(limiter.try_acquire("k").allowed);
  const auto denied = limiter.try_acquire("k");
  CHECK_FALSE(denied.allowed);
  CHECK(denied.retry_after > 0ms);
  CHECK(denied.retry_after <= 100ms);
  CHECK(eventually([&] { return limiter.try_acquire("k").allowed; }, 2s));
}

TEST_CASE("redis rate limiter: buckets live under realmkit:rl and expire once they would be full") {
  const auto name = unique_redis_name("test-");
  rr::redis_rate_limiter limiter(slow_bucket(redis_test_url(), name, 5));
  limiter.try_acquire("user:42");
  auto c = connect_to(redis_test_url());
  const auto pttl = c.command({"PTTL", "realmkit:rl:" + name + ":user:42"}).integer;
  // Full after 5 h; kept a second longer.
  CHECK(pttl <= 5 * 3'600'000 + 1000);
  CHECK(pttl > 5 * 3'600'000);
}

TEST_CASE("redis rate limiter: the script's SHA-1 is the one Redis computes") {
  auto c = connect_to(redis_test_url());
  CHECK(c.command({"SCRIPT", "LOAD", rr::redis_rate_limiter::script()}).str ==
        rr::redis_rate_limiter::script_sha());
}

TEST_CASE("redis rate limiter: an empty script cache is refilled, not an outage") {
  realmkit::testing::private_redis_server server;
  rr::redis_rate_limiter limiter(slow_bucket(server.url(), "flush", 3));
  CHECK(limiter.try_acquire("k").remaining == 2);
  connect_to(server.url()).command({"SCRIPT", "FLUSH"});
  CHECK(limiter.try_acquire("k").remaining == 1);
  CHECK(limiter.try_acquire("k").remaining == 0);
  CHECK_FALSE(limiter.try_acquire("k").allowed);
  CHECK_FALSE(limiter.degraded());
  CHECK(limiter.fallback_decisions() == 0);
}

TEST_CASE("redis rate limiter: concurrent callers in two processes never exceed capacity") {
  const auto name = unique_redis_name("test-");
  constexpr std::uint32_t kCapacity = 100;
  rr::redis_rate_limiter a(slow_bucket(redis_test_url(), name, kCapacity));
  rr::redis_rate_limiter b(slow_bucket(redis_test_url(), name, kCapacity));
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto& limiter = t % 2 == 0 ? a : b;
      for (int i = 0; i < 40; ++i) {
        if (limiter.try_acquire("shared").allowed) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(allowed.load() == kCapacity);
  CHECK(a.fallback_decisions() == 0);
  CHECK(b.fallback_decisions() == 0);
}

TEST_CASE("redis rate limiter: while Redis is down a local bucket decides, then Redis again") {
  realmkit::testing::private_redis_server server;
  realmkit::infra::metrics_registry metrics;
  auto o = slow_bucket(server.url(), "fallback", 3);
  o.retry_after = 100ms;
  o.metrics = &metrics;
  rr::redis_rate_limiter limiter(o);
  CHECK(limiter.try_acquire("k").remaining == 2);

  server.stop();
  // Not everything passes: the local bucket holds the same limit.
  CHECK(limiter.try_acquire("k").remaining == 2);
  CHECK(limiter.degraded());
  CHECK(limiter.try_acquire("k").remaining == 1);
  CHECK(limiter.try_acquire("k").remaining == 0);
  CHECK_FALSE(limiter.try_acquire("k").allowed);
  CHECK(limiter.fallback_decisions() == 4);

  server.start();
  // The restarted Redis lost its buckets (no persistence), so "probe" starts full there.
  REQUIRE(eventually([&] {
    limiter.try_acquire("probe");
    return !limiter.degraded();
  }));
  const auto fallback_count = limiter.fallback_decisions();
  CHECK(limiter.try_acquire("k").remaining == 2);
  CHECK(limiter.fallback_decisions() == fallback_count);
  const auto text = metrics.expose();
  CHECK(text.find(R"(realmkit_rate_limit_redis_fallback_decisions_total{limiter="fallback"} )" +
                  std::to_string(fallback_count)) != std::string::npos);
  CHECK(text.find(R"(realmkit_rate_limit_redis_outages_total{limiter="fallback"} 1)") !=
        std::string::npos);
}

TEST_CASE("redis rate limiter: bad options are refused") {
  auto o = slow_bucket("redis://localhost", "", 5);
  CHECK_THROWS_AS(rr::redis_rate_limiter{o}, std::invalid_argument);
  o = slow_bucket("redis://localhost", "x", 0);
  CHECK_THROWS_AS(rr::redis_rate_limiter{o}, std::invalid_argument);
  o = slow_bucket("redis://localhost", "x", 5);
  o.bucket.refill_period = std::chrono::nanoseconds{1500};
  CHECK_THROWS_AS(rr::redis_rate_limiter{o}, std::invalid_argument);
  o = slow_bucket("memcached://localhost", "x", 5);
  CHECK_THROWS_AS(rr::redis_rate_limiter{o}, std::invalid_argument);
}

TEST_CASE("redis rate limiter: a Redis restart between calls is not an outage") {
  realmkit::testing::private_redis_server server;
  rr::redis_rate_limiter limiter(slow_bucket(server.url(), "restart", 3));
  CHECK(limiter.try_acquire("k").remaining == 2);
  server.stop();
  server.start();
  // The kept connection died with the old server; a new one answers, from an empty Redis.
  CHECK(limiter.try_acquire("k").remaining == 2);
  CHECK_FALSE(limiter.degraded());
  CHECK(limiter.fallback_decisions() == 0);
}
