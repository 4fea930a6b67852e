// Rate limiting: token bucket refill arithmetic on a fake clock, the keyed limiter's bounds and
// eviction, and its thread safety.
#include "infra/rate_limit/token_bucket.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "infra/rate_limit/rate_limit_policy.hpp"
#include "infra/rate_limit/token_bucket_limiter.hpp"

using namespace realmkit::infra::rate_limit;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

struct manual_clock {
  std::shared_ptr<std::atomic<steady::time_point>> now =
      std::make_shared<std::atomic<steady::time_point>>(steady::time_point{} + 1000h);
  steady_clock_fn fn() const {
    return [n = now] { return n->load(); };
  }
  void advance(steady::duration d) { now->store(now->load() + d); }
};

}  // namespace

TEST_CASE("a bucket allows its burst, then refills at its rate") {
  const token_bucket_config config{10, 5, 1s};  // burst 10, 5 per second
  auto t = steady::time_point{} + 1h;
  token_bucket bucket(config, t);
  for (std::uint32_t i = 0; i < 10; ++i) {
    const auto d = bucket.try_acquire(config, t);
    REQUIRE(d.allowed);
    CHECK(d.remaining == 9 - i);
  }
  auto denied = bucket.try_acquire(config, t);
  CHECK_FALSE(denied.allowed);
  CHECK(denied.retry_after == 200ms);  // one token every 1/5 s
  CHECK(denied.retry_after_seconds() == 1s);
  CHECK(denied.remaining == 0);

  SUBCASE("a fraction of the period gives a fraction of a token, exactly") {
    t += 199'999'999ns;
    CHECK_FALSE(bucket.try_acquire(config, t).allowed);
    CHECK(bucket.try_acquire(config, t).retry_after == 1ns);
    t += 1ns;
    CHECK(bucket.try_acquire(config, t).allowed);
    CHECK_FALSE(bucket.try_acquire(config, t).allowed);
  }
  SUBCASE("refill stops at the capacity") {
    t += 1h;
    for (int i = 0; i < 10; ++i) CHECK(bucket.try_acquire(config, t).allowed);
    CHECK_FALSE(bucket.try_acquire(config, t).allowed);
  }
  SUBCASE("two seconds give ten tokens; a cost takes several at once") {
    t += 2s;
    CHECK(bucket.try_acquire(config, t, 7).allowed);
    const auto d = bucket.try_acquire(config, t, 4);
    CHECK_FALSE(d.allowed);
    CHECK(d.remaining == 3);
    CHECK(d.retry_after == 200ms);  // one more token needed
    CHECK(bucket.try_acquire(config, t, 3).allowed);
  }
  SUBCASE("a denied request takes nothing") {
    t += 100ms;  // half a token
    CHECK_FALSE(bucket.try_acquire(config, t).allowed);
    t += 100ms;
    CHECK(bucket.try_acquire(config, t).allowed);
  }
  SUBCASE("a clock going back counts as no time") {
    t -= 10s;
    CHECK_FALSE(bucket.try_acquire(config, t).allowed);
    t += 10s + 200ms;
    CHECK(bucket.try_acquire(config, t).allowed);
  }
  SUBCASE("a cost over the capacity is never allowed") {
    t += 1h;
    const auto d = bucket.try_acquire(config, t, 11);
    CHECK_FALSE(d.allowed);
    CHECK(d.retry_after == config.time_to_full());
    CHECK(bucket.try_acquire(config, t, 10).allowed);
  }
}

TEST_CASE("slow rates and uneven divisions stay exact") {
  // 1 token per 6 s (10 per minute): the login limit.
  const token_bucket_config login = rate_limit_policy{}.login_per_address;
  auto t = steady::time_point{} + 1h;
  token_bucket bucket(login, t);
  for (int i = 0; i < 10; ++i) CHECK(bucket.try_acquire(login, t).allowed);
  const auto d = bucket.try_acquire(login, t);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after == 6s);
  CHECK(d.retry_after_seconds() == 6s);
  t += 5s;
  CHECK(bucket.try_acquire(login, t).retry_after == 1s);
  t += 1s;
  CHECK(bucket.try_acquire(login, t).allowed);

  // 3 tokens per 1 s: a token every 333,333,333.3 ns; three of them in exactly one second.
  const token_bucket_config thirds{3, 3, 1s};
  token_bucket b(thirds, t);
  for (int i = 0; i < 3; ++i) CHECK(b.try_acquire(thirds, t).allowed);
  CHECK(b.try_acquire(thirds, t).retry_after == 333'333'334ns);  // rounded up, never early
  t += 333'333'333ns;
  CHECK_FALSE(b.try_acquire(thirds, t).allowed);
  t += 1ns;
  CHECK(b.try_acquire(thirds, t).allowed);
  t += 666'666'666ns;
  CHECK(b.try_acquire(thirds, t).allowed);
  CHECK(b.try_acquire(thirds, t).allowed);
  CHECK_FALSE(b.try_acquire(thirds, t).allowed);
}

TEST_CASE("a bucket idle for centuries does not overflow") {
  constexpr auto kYear = std::chrono::hours{24 * 365};
  const token_bucket_config config{100, 1, kYear};  // scaled capacity ~3.2e18 ns
  auto t = steady::time_point{} + 1h;
  token_bucket bucket(config, t);
  CHECK(bucket.try_acquire(config, t, 100).allowed);
  CHECK_FALSE(bucket.full_at(config, t + 99 * kYear));
  t += 200 * kYear;  // 6.3e18 ns: elapsed * refill would overflow if computed naively
  CHECK(bucket.full_at(config, t));
  CHECK(bucket.try_acquire(config, t, 100).allowed);
  CHECK_FALSE(bucket.try_acquire(config, t).allowed);
}

TEST_CASE("bucket configurations are validated") {
  CHECK_THROWS_AS((token_bucket_config{0, 1, 1s}.validate()), std::invalid_argument);
  CHECK_THROWS_AS((token_bucket_config{1, 0, 1s}.validate()), std::invalid_argument);
  CHECK_THROWS_AS((token_bucket_config{1, 1, 0s}.validate()), std::invalid_argument);
  CHECK_THROWS_AS((token_bucket_config{4'000'000'000u, 1, std::chrono::hours{24 * 365}}.validate()),
                  std::invalid_argument);
  CHECK_NOTHROW(rate_limit_policy{}.per_user.validate());
  CHECK_NOTHROW(rate_limit_policy{}.per_address.validate());
  CHECK_NOTHROW(rate_limit_policy{}.login_per_address.validate());
  CHECK_THROWS_AS(token_bucket_limiter({{2, 1, 1s}, 0, 1, {}}), std::invalid_argument);
}

TEST_CASE("the limiter keeps one bucket per key") {
  manual_clock clock;
  token_bucket_limiter limiter({{2, 1, 1s}, 100, 4, clock.fn()});
  CHECK(limiter.try_acquire("user:alice").allowed);
  CHECK(limiter.try_acquire("user:alice").allowed);
  const auto denied = limiter.try_acquire("user:alice");
  CHECK_FALSE(denied.allowed);
  CHECK(denied.retry_after == 1s);
  // Another key has its own full bucket.
  CHECK(limiter.try_acquire("user:bob").allowed);
  CHECK(limiter.try_acquire("ip:10.0.0.1").allowed);
  CHECK(limiter.size() == 3);
  clock.advance(1s);
  CHECK(limiter.try_acquire("user:alice").allowed);
  CHECK_FALSE(limiter.try_acquire("user:alice").allowed);
}

TEST_CASE("the limiter's keys are bounded; the least recently used goes first") {
  manual_clock clock;
  // One shard, so the eviction order is fully determined.
  token_bucket_limiter limiter({{2, 1, 1s}, 3, 1, clock.fn()});
  CHECK(limiter.try_acquire("a", 2).allowed);  // a is now empty
  CHECK(limiter.try_acquire("b").allowed);
  CHECK(limiter.try_acquire("c").allowed);
  CHECK_FALSE(limiter.try_acquire("a").allowed);  // a used most recently; b is the oldest
  CHECK(limiter.size() == 3);
  CHECK(limiter.try_acquire("d").allowed);  // evicts b (not full: counted)
  CHECK(limiter.size() == 3);
  CHECK(limiter.evicted_unfull() == 1);
  CHECK_FALSE(limiter.try_acquire("a").allowed);  // a survived with its empty bucket
  clock.advance(10s);                             // every bucket refills
  CHECK(limiter.try_acquire("e").allowed);        // evicts c, which was full: not counted
  CHECK(limiter.evicted_unfull() == 1);
  CHECK(limiter.size() == 3);
}

TEST_CASE("concurrent callers never get more than the bucket holds") {
  manual_clock clock;  // frozen: no refill during the test
  token_bucket_limiter limiter({{1000, 1, 1h}, 1000, 8, clock.fn()});
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.try_acquire("shared").allowed) ++allowed;
        limiter.try_acquire("own-" + std::to_string(t));
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(allowed.load() == 1000);
  CHECK(limiter.size() == 9);
}

TEST_CASE("retry_after_seconds rounds up and is at least one second when denied") {
  CHECK(rate_decision{false, 1ns, 0}.retry_after_seconds() == 1s);
  CHECK(rate_decision{false, 1s, 0}.retry_after_seconds() == 1s);
  CHECK(rate_decision{false, 1s + 1ns, 0}.retry_after_seconds() == 2s);
  CHECK(rate_decision{false, 0ns, 0}.retry_after_seconds() == 1s);
  CHECK(rate_decision{true, 0ns, 5}.retry_after_seconds() == 0s);
}
