// Rate limits as guards, with a clock moved by hand: per address, per user, the stricter login
// bucket, exempt operations routes, 429 problem with Retry-After, IPv6 /64 keys, and the
// configuration text of a bucket.
#include "api/rate_limit_guard.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <stdexcept>

#include "api/auth_guard.hpp"
#include "api/router.hpp"
#include "infra/rate_limit/rate_limit_policy.hpp"

using namespace realmkit;
using namespace realmkit::api;
using namespace std::chrono_literals;
namespace rl = infra::rate_limit;

namespace {

struct fake_steady_clock {
  std::shared_ptr<std::atomic<std::chrono::steady_clock::time_point>> now =
      std::make_shared<std::atomic<std::chrono::steady_clock::time_point>>(
          std::chrono::steady_clock::time_point{1h});
  rl::steady_clock_fn fn() const {
    return [n = now] { return n->load(); };
  }
  void advance(std::chrono::nanoseconds by) { now->store(now->load() + by); }
};

route named(std::string name, std::string pattern, std::string method = "GET") {
  route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.name = std::move(name);
  r.blocking = false;
  r.anonymous = true;
  r.handle = [](const http_request&) { return http_response::json(200, "{}"); };
  return r;
}

struct limited_api {
  fake_steady_clock clock;
  infra::metrics_registry metrics;
  router routes;
  std::unique_ptr<rate_limit_guard> limits;
  std::unique_ptr<http_pipeline> pipeline;

  explicit limited_api(rl::rate_limit_policy policy) {
    routes.add(named("deals.list", "/api/deals"));
    routes.add(named("auth.login", "/api/auth/login", "POST"));
    routes.add(named("ops.healthz", "/healthz"));
    limits = std::make_unique<rate_limit_guard>(
        rate_limit_options{.policy = policy, .clock = clock.fn(), .metrics = &metrics});
    pipeline =
        std::make_unique<http_pipeline>(routes, metrics, pipeline_options{.access_log = false});
    pipeline->add_guard(limits->address_guard());
    // Stands in for the authentication guard: the X-User header names the caller.
    pipeline->add_guard([](const route&, http_request& request) -> std::optional<http_response> {
      if (const auto* user = request.header("X-User")) {
        request.principal = auth::principal{*user, domain::user_role::sales_rep, {}, "t", {}};
      }
      return std::nullopt;
    });
    pipeline->add_guard(limits->user_guard());
  }

  http_response call(std::string method, std::string path, std::string remote,
                     std::string user = "") {
    http_request request;
    request.method = std::move(method);
    request.target = path;
    request.path = std::move(path);
    request.remote_address = std::move(remote);
    if (!user.empty()) request.headers.emplace("X-User", std::move(user));
    return pipeline->handle(std::move(request));
  }

  std::uint64_t limited(const std::string& bucket) {
    return metrics
        .counter_for("realmkit_rate_limited_total",
                     "Requests refused with 429, by the bucket that was empty",
                     {{"bucket", bucket}})
        .value();
  }
};

rl::rate_limit_policy small_policy() {
  rl::rate_limit_policy p;
  p.per_address = {5, 1, 1s};
  p.per_user = {3, 1, 2s};
  p.login_per_address = {2, 1, 6s};
  return p;
}

std::string header(const http_response& r, std::string_view name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

}  // namespace

TEST_CASE("per address: a burst, then 429 with Retry-After until a token refills") {
  limited_api api(small_policy());
  for (int i = 0; i < 5; ++i) CHECK(api.call("GET", "/api/deals", "10.0.0.1").status == 200);
  const auto refused = api.call("GET", "/api/deals", "10.0.0.1");
  CHECK(refused.status == 429);
  CHECK(refused.content_type == "application/problem+json");
  CHECK(refused.body.find("urn:realmkit:problem:too-many-requests") != std::string::npos);
  CHECK(header(refused, "Retry-After") == "1");
  CHECK(api.limited("per_address") == 1);
  // Another address has its own bucket.
  CHECK(api.call("GET", "/api/deals", "10.0.0.2").status == 200);

  api.clock.advance(999ms);
  CHECK(api.call("GET", "/api/deals", "10.0.0.1").status == 429);
  api.clock.advance(1ms);
  CHECK(api.call("GET", "/api/deals", "10.0.0.1").status == 200);
  CHECK(api.call("GET", "/api/deals", "10.0.0.1").status == 429);
}

TEST_CASE("per user: one user's bucket, wherever the requests come from") {
  auto policy = small_policy();
  policy.per_address = {100, 100, 1s};
  limited_api api(policy);
  CHECK(api.call("GET", "/api/deals", "10.0.0.1", "alice").status == 200);
  CHECK(api.call("GET", "/api/deals", "10.0.0.2", "alice").status == 200);
  CHECK(api.call("GET", "/api/deals", "10.0.0.3", "alice").status == 200);
  const auto refused = api.call("GET", "/api/deals", "10.0.0.4", "alice");
  CHECK(refused.status == 429);
  CHECK(header(refused, "Retry-After") == "2");
  CHECK(api.limited("per_user") == 1);
  CHECK(api.call("GET", "/api/deals", "10.0.0.4", "bob").status == 200);
  CHECK(api.call("GET", "/api/deals", "10.0.0.4").status == 200);  // anonymous: no user bucket
}

TEST_CASE("login: a stricter bucket per address on top of the general one") {
  limited_api api(small_policy());
  CHECK(api.call("POST", "/api/auth/login", "10.0.0.1").status == 200);
  CHECK(api.call("POST", "/api/auth/login", "10.0.0.1").status == 200);
  const auto refused = api.call("POST", "/api/auth/login", "10.0.0.1");
  CHECK(refused.status == 429);
  CHECK(header(refused, "Retry-After") == "6");
  CHECK(api.limited("login_per_address") == 1);
  // Other routes of that address still work: the general bucket had room.
  CHECK(api.call("GET", "/api/deals", "10.0.0.1").status == 200);
  api.clock.advance(6s);
  CHECK(api.call("POST", "/api/auth/login", "10.0.0.1").status == 200);
}

TEST_CASE("operations routes are never limited") {
  limited_api api(small_policy());
  for (int i = 0; i < 50; ++i) REQUIRE(api.call("GET", "/healthz", "10.0.0.1").status == 200);
  CHECK(api.call("GET", "/api/deals", "10.0.0.1").status == 200);
}

TEST_CASE("IPv6 clients are limited per /64, mapped IPv4 as IPv4") {
  CHECK(address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64");
  CHECK(address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64");
  CHECK(address_key("::ffff:192.0.2.7") == "192.0.2.7");
  CHECK(address_key("192.0.2.7") == "192.0.2.7");
  limited_api api(small_policy());
  for (int i = 0; i < 5; ++i) {
    CHECK(api.call("GET", "/api/deals", "2001:db8::" + std::to_string(i + 1)).status == 200);
  }
  CHECK(api.call("GET", "/api/deals", "2001:db8::ffff").status == 429);
  CHECK(api.call("GET", "/api/deals", "2001:db8:0:1::1").status == 200);
}

TEST_CASE("bucket configuration text") {
  const auto b = rl::parse_token_bucket("200:100/1s");
  CHECK(b.capacity == 200);
  CHECK(b.refill_tokens == 100);
  CHECK(b.refill_period == 1s);
  CHECK(rl::parse_token_bucket("10:1/6s").refill_period == 6s);
  CHECK(rl::parse_token_bucket("5:1/250ms").refill_period == 250ms);
  CHECK(rl::parse_token_bucket("5:1/2m").refill_period == 2min);
  CHECK(rl::parse_token_bucket("5:1/1h").refill_period == 1h);
  CHECK(rl::format_token_bucket(rl::parse_token_bucket("10:1/6s")) == "10:1/6s");
  CHECK(rl::format_token_bucket({3, 1, 120s}) == "3:1/2m");
  CHECK(rl::format_token_bucket({3, 1, 1500ms}) == "3:1/1500ms");
  for (const auto* bad : {"", "10", "10:1", "10/1s:2", "10:1/6", "10:1/s", "0:1/1s", "1:0/1s",
                          "-1:1/1s", "1:1/1d", "99999999999:1/1s", "a:1/1s", "1:1/0s"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(rl::parse_token_bucket(bad), std::invalid_argument);
  }
}
