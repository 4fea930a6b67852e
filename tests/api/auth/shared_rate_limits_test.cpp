// The rate limit guard over limiters its caller supplies (the distributed mode's are in Redis):
// the buckets it asks for, guards of two processes sharing limiters limit together, and the
// answers stay those of the in-process buckets.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "api/auth_guard.hpp"
#include "api/rate_limit_guard.hpp"
#include "api/router.hpp"
#include "infra/rate_limit/token_bucket_limiter.hpp"

using namespace realmkit;
using namespace realmkit::api;
using namespace std::chrono_literals;
namespace rl = infra::rate_limit;

namespace {

// Stands in for a store every process reaches: one limiter per bucket name, made on first use,
// which the guards reach through forwarding handles.
struct shared_limiters {
  std::shared_ptr<std::atomic<std::chrono::steady_clock::time_point>> now =
      std::make_shared<std::atomic<std::chrono::steady_clock::time_point>>(
          std::chrono::steady_clock::time_point{1h});
  std::mutex mutex;  // guards limiters and asked
  std::map<std::string, std::shared_ptr<rl::token_bucket_limiter>, std::less<>> limiters;
  std::map<std::string, rl::token_bucket_config, std::less<>> asked;

  class handle final : public rl::rate_limiter {
   public:
    explicit handle(std::shared_ptr<rl::rate_limiter> target) : target_(std::move(target)) {}
    rl::rate_decision try_acquire(std::string_view key, std::uint32_t cost) override {
      return target_->try_acquire(key, cost);
    }

   private:
    std::shared_ptr<rl::rate_limiter> target_;
  };

  limiter_factory factory() {
    return [this](std::string_view name, const rl::token_bucket_config& bucket) {
      std::lock_guard lock(mutex);
      asked.insert_or_assign(std::string(name), bucket);
      auto& limiter = limiters[std::string(name)];
      if (!limiter) {
        limiter = std::make_shared<rl::token_bucket_limiter>(
            rl::token_bucket_limiter_options{bucket, 1000, 4, [n = now] { return n->load(); }});
      }
      return std::make_unique<handle>(limiter);
    };
  }
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

rl::rate_limit_policy small_policy() {
  rl::rate_limit_policy p;
  p.per_address = {5, 1, 1s};
  p.per_user = {3, 1, 2s};
  p.login_per_address = {2, 1, 6s};
  return p;
}

// One API process: its own routes, pipeline and guard, over the limiters the factory gives.
struct api_process {
  infra::metrics_registry metrics;
  router routes;
  std::unique_ptr<rate_limit_guard> limits;
  std::unique_ptr<http_pipeline> pipeline;

  explicit api_process(limiter_factory factory) {
    routes.add(named("deals.list", "/api/deals"));
    routes.add(named("auth.login", "/api/auth/login", "POST"));
    limits = std::make_unique<rate_limit_guard>(rate_limit_options{
        .policy = small_policy(), .metrics = &metrics, .make_limiter = std::move(factory)});
    pipeline =
        std::make_unique<http_pipeline>(routes, metrics, pipeline_options{.access_log = false});
    pipeline->add_guard(limits->address_guard());
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

std::string header(const http_response& r, std::string_view name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

}  // namespace

TEST_CASE("the guard asks the factory for its three buckets, by name, with the policy's config") {
  shared_limiters shared;
  api_process p(shared.factory());
  REQUIRE(shared.asked.size() == 3);
  const auto policy = small_policy();
  CHECK(shared.asked.at("address").capacity == policy.per_address.capacity);
  CHECK(shared.asked.at("login").refill_period == policy.login_per_address.refill_period);
  CHECK(shared.asked.at("user").capacity == policy.per_user.capacity);
  CHECK(std::string(kAddressBucket) == "address");
  CHECK(std::string(kLoginBucket) == "login");
  CHECK(std::string(kUserBucket) == "user");
}

TEST_CASE("two processes sharing limiters: one limit per address, per user and for logins") {
  shared_limiters shared;
  api_process a(shared.factory());
  api_process b(shared.factory());

  // Per address: 5 in all, whichever process serves them.
  for (int i = 0; i < 5; ++i) {
    CHECK((i % 2 == 0 ? a : b).call("GET", "/api/deals", "10.0.0.1").status == 200);
  }
  const auto refused = b.call("GET", "/api/deals", "10.0.0.1");
  CHECK(refused.status == 429);
  CHECK(refused.content_type == "application/problem+json");
  CHECK(refused.body.find("urn:realmkit:problem:too-many-requests") != std::string::npos);
  CHECK(header(refused, "Retry-After") == "1");
  CHECK(a.call("GET", "/api/deals", "10.0.0.1").status == 429);
  // Counted by the process that refused.
  CHECK(a.limited("per_address") == 1);
  CHECK(b.limited("per_address") == 1);

  // Logins: 2 per address across both.
  CHECK(a.call("POST", "/api/auth/login", "10.0.0.2").status == 200);
  CHECK(b.call("POST", "/api/auth/login", "10.0.0.2").status == 200);
  const auto login = a.call("POST", "/api/auth/login", "10.0.0.2");
  CHECK(login.status == 429);
  CHECK(header(login, "Retry-After") == "6");
  CHECK(a.limited("login_per_address") == 1);

  // Per user: 3 across both, from any address.
  CHECK(a.call("GET", "/api/deals", "10.0.1.1", "user-1").status == 200);
  CHECK(b.call("GET", "/api/deals", "10.0.1.2", "user-1").status == 200);
  CHECK(a.call("GET", "/api/deals", "10.0.1.3", "user-1").status == 200);
  const auto user = b.call("GET", "/api/deals", "10.0.1.4", "user-1");
  CHECK(user.status == 429);
  CHECK(header(user, "Retry-After") == "2");
  CHECK(b.limited("per_user") == 1);

  // The shared buckets refill for both.
  shared.now->store(shared.now->load() + 1s);
  CHECK(b.call("GET", "/api/deals", "10.0.0.1").status == 200);
  CHECK(a.call("GET", "/api/deals", "10.0.0.1").status == 429);
}

TEST_CASE("without a factory each guard has its own buckets; a factory must give a limiter") {
  api_process a(nullptr);
  api_process b(nullptr);
  for (int i = 0; i < 5; ++i) CHECK(a.call("GET", "/api/deals", "10.0.0.1").status == 200);
  CHECK(a.call("GET", "/api/deals", "10.0.0.1").status == 429);
  CHECK(b.call("GET", "/api/deals", "10.0.0.1").status == 200);

  CHECK_THROWS_AS(
      rate_limit_guard(rate_limit_options{.make_limiter =
                                              [](std::string_view, const rl::token_bucket_config&) {
                                                return std::unique_ptr<rl::rate_limiter>();
                                              }}),
      std::invalid_argument);
  // An invalid bucket is refused before any limiter is made.
  shared_limiters shared;
  rl::rate_limit_policy bad = small_policy();
  bad.per_user.capacity = 0;
  CHECK_THROWS_AS(
      rate_limit_guard(rate_limit_options{.policy = bad, .make_limiter = shared.factory()}),
      std::invalid_argument);
  CHECK_FALSE(shared.asked.contains("user"));
}
