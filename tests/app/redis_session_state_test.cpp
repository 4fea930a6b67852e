// The API's shared state in the distributed mode against real Redis: revocations that one API
// process stores and another enforces, rate limits two processes share, and Redis going away (a
// private redis-server the test stops): 503 where a session must be checked, never a 500, local
// rate limits, and logouts that still end their sessions.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "api/auth/memory_refresh_token_store.hpp"
#include "api/auth/token_service.hpp"
#include "api/auth_guard.hpp"
#include "api/http_pipeline.hpp"
#include "api/rate_limit_guard.hpp"
#include "api/router.hpp"
#include "app/redis_rate_limits.hpp"
#include "app/redis_revocation_list.hpp"
#include "tests/auth/auth_test_support.hpp"
#include "tests/infra/redis_test_support.hpp"

using namespace realmkit;
using namespace std::chrono_literals;
using api::auth::jwt_error;
using domain::user_role;
using realmkit::testing::private_redis_server;
using realmkit::testing::redis_test_url;
using realmkit::testing::unique_redis_name;

namespace {

// No cache: each check reaches Redis, so what one process stores the other sees at once.
infra::redis::redis_revocations_options revocations_at(const std::string& url) {
  infra::redis::redis_revocations_options o;
  o.url = url;
  o.cache_ttl = 0ms;
  return o;
}

api::route route_named(std::string name, bool anonymous) {
  api::route r;
  r.method = "GET";
  r.pattern = "/" + name;
  r.name = std::move(name);
  r.blocking = false;
  r.anonymous = anonymous;
  r.handle = [](const api::http_request&) { return api::http_response::json(200, "{}"); };
  return r;
}

api::http_request get(const std::string& path, const std::string& token = "") {
  api::http_request request;
  request.method = "GET";
  request.target = path;
  request.path = path;
  request.remote_address = "127.0.0.1";
  if (!token.empty()) request.headers.emplace("Authorization", "Bearer " + token);
  return request;
}

// An API process's rate limit guard over the Redis limiters, in a pipeline with one route.
struct limited_process {
  infra::metrics_registry metrics;
  api::router routes;
  std::unique_ptr<api::rate_limit_guard> limits;
  std::unique_ptr<api::http_pipeline> pipeline;

  limited_process(const std::string& url, const std::string& prefix) {
    routes.add(route_named("deals", true));
    api::rate_limit_options o;
    // Slow refills, on Redis's clock: nothing comes back within a test.
    o.policy.per_address = {3, 1, 60s};
    o.metrics = &metrics;
    o.make_limiter =
        app::redis_limiter_factory({.url = url, .name_prefix = prefix, .metrics = &metrics});
    limits = std::make_unique<api::rate_limit_guard>(std::move(o));
    api::pipeline_options quiet;
    quiet.access_log = false;
    pipeline = std::make_unique<api::http_pipeline>(routes, metrics, quiet);
    pipeline->add_guard(limits->address_guard());
  }

  int call(const std::string& remote) {
    auto request = get("/deals");
    request.remote_address = remote;
    return pipeline->handle(std::move(request)).status;
  }
};

}  // namespace

TEST_CASE("redis: a session logged out in one API process is refused by another") {
  realmkit::testing::fake_clock clock;
  api::auth::memory_refresh_token_store store;  // the database both processes share
  app::redis_revocation_list list_a(revocations_at(redis_test_url()));
  app::redis_revocation_list list_b(revocations_at(redis_test_url()));
  const api::auth::jwt_keyset keys({{"k1", std::string(32, 'k')}});
  api::auth::token_service a(keys, {}, store, clock.fn(), &list_a);
  api::auth::token_service b(keys, {}, store, clock.fn(), &list_b);
  const api::auth::subject alice{unique_redis_name("user-"), user_role::sales_rep, {}};

  const auto laptop = a.issue(alice);
  const auto phone = a.issue(alice);
  REQUIRE(b.authenticate(laptop.access_token).ok());
  REQUIRE(a.logout(laptop.refresh_token));
  CHECK(b.authenticate(laptop.access_token).error == jwt_error::revoked);
  CHECK(b.authenticate(phone.access_token).ok());

  SUBCASE("and a user's revocation refuses the tokens issued before it, not after") {
    clock.advance(1s);
    CHECK(b.revoke_user(alice.user_id) == 1);
    CHECK(a.authenticate(phone.access_token).error == jwt_error::revoked);
    clock.advance(1s);
    const auto later = b.issue(alice);
    CHECK(a.authenticate(later.access_token).ok());
  }
}

TEST_CASE("redis: rate limits hold across two API processes, and outlive an outage") {
  private_redis_server redis;
  const auto prefix = unique_redis_name("api-") + ".";
  limited_process a(redis.url(), prefix);
  limited_process b(redis.url(), prefix);
  CHECK(a.call("10.0.0.1") == 200);
  CHECK(b.call("10.0.0.1") == 200);
  CHECK(a.call("10.0.0.1") == 200);
  CHECK(b.call("10.0.0.1") == 429);
  CHECK(a.call("10.0.0.1") == 429);
  CHECK(a.call("10.0.0.2") == 200);

  // Without Redis each process decides with its own buckets: limited, never an error.
  redis.stop();
  for (int i = 0; i < 3; ++i) CHECK(b.call("10.0.0.3") == 200);
  CHECK(b.call("10.0.0.3") == 429);
  CHECK(a.call("10.0.0.3") == 200);
}

TEST_CASE("redis down: the authentication guard answers 503, never 500; logout still works") {
  private_redis_server redis;
  realmkit::testing::fake_clock clock;
  api::auth::memory_refresh_token_store store;
  app::redis_revocation_list revocations(revocations_at(redis.url()));
  api::auth::token_service tokens(api::auth::jwt_keyset({{"k1", std::string(32, 'k')}}), {}, store,
                                  clock.fn(), &revocations);
  infra::metrics_registry metrics;
  api::router routes;
  routes.add(route_named("me", false));
  routes.add(route_named("open", true));
  api::pipeline_options quiet;
  quiet.access_log = false;
  api::http_pipeline pipeline(routes, metrics, quiet);
  pipeline.add_guard(api::make_authentication_guard(tokens, {.metrics = &metrics}));

  const auto first = tokens.issue({unique_redis_name("user-"), user_role::manager, {}});
  const auto second = tokens.issue({unique_redis_name("user-"), user_role::manager, {}});
  REQUIRE(pipeline.handle(get("/me", first.access_token)).status == 200);

  redis.stop();
  const auto refused = pipeline.handle(get("/me", first.access_token));
  CHECK(refused.status == 503);
  CHECK(refused.headers.count("Retry-After") == 1);
  CHECK(refused.body.find("urn:realmkit:problem:unavailable") != std::string::npos);
  CHECK(pipeline.handle(get("/open", first.access_token)).status == 200);
  // The session ends in the refresh token store though Redis did not take the revocation.
  CHECK(tokens.logout(second.refresh_token));
  CHECK(tokens.refresh(second.refresh_token, {}).status == api::auth::refresh_status::revoked);

  redis.start();
  CHECK(realmkit::testing::eventually(
      [&] { return pipeline.handle(get("/me", first.access_token)).status == 200; }));
  // Logged out while Redis was down: its access token lives until it expires (documented).
  CHECK(pipeline.handle(get("/me", second.access_token)).status == 200);
  CHECK(tokens.logout(first.refresh_token));
  CHECK(pipeline.handle(get("/me", first.access_token)).status == 401);
}
