// The authentication guard and a revocation list (a fake here: these tests are about the guard's
// answers): a revoked token is a 401 like any invalid one; a list that cannot answer is a 503
// with Retry-After, no handler runs, and anonymous routes are served all the same.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>

#include "api/auth/memory_refresh_token_store.hpp"
#include "api/auth/token_service.hpp"
#include "api/auth_guard.hpp"
#include "api/router.hpp"
#include "tests/auth/auth_test_support.hpp"
#include "tests/auth/fake_revocation_list.hpp"

using namespace realmkit;
using namespace realmkit::api;
using namespace std::chrono_literals;
using domain::user_role;

namespace {

const auth::jwt_key kKey{"k1", std::string(32, 'k')};

struct revoking_api {
  testing::fake_clock clock;
  auth::memory_refresh_token_store store;
  testing::fake_revocation_list revocations;
  auth::token_service tokens{auth::jwt_keyset({kKey}), {}, store, clock.fn(), &revocations};
  infra::metrics_registry metrics;
  router routes;
  std::unique_ptr<http_pipeline> pipeline;
  std::atomic<int> handled{0};

  revoking_api() {
    add("GET", "/api/deals/{id}", "deals.get", "deal:view", false);
    add("POST", "/api/open", "open", "", true);
    pipeline =
        std::make_unique<http_pipeline>(routes, metrics, pipeline_options{.access_log = false});
    pipeline->add_guard(make_authentication_guard(tokens, {.metrics = &metrics}));
    pipeline->add_guard(make_permission_guard(routes));
  }

  void add(std::string method, std::string pattern, std::string name, std::string permission,
           bool anonymous) {
    route r;
    r.method = std::move(method);
    r.pattern = std::move(pattern);
    r.name = std::move(name);
    r.permission = std::move(permission);
    r.anonymous = anonymous;
    r.blocking = false;
    r.handle = [this](const http_request& request) {
      ++handled;
      const auto* who = principal_of(request);
      return http_response::json(200, who ? "{\"user\":\"" + who->user_id + "\"}" : "{}");
    };
    routes.add(std::move(r));
  }

  http_response call(std::string method, std::string path, const std::string& token) {
    http_request request;
    request.method = std::move(method);
    request.target = path;
    request.path = std::move(path);
    request.headers.emplace("Authorization", "Bearer " + token);
    request.remote_address = "127.0.0.1";
    return pipeline->handle(std::move(request));
  }

  std::uint64_t refusals(const std::string& reason) {
    return metrics
        .counter_for("realmkit_auth_refusals_total",
                     "Requests whose credentials were refused, by reason", {{"reason", reason}})
        .value();
  }
};

std::string header(const http_response& r, std::string_view name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

}  // namespace

TEST_CASE("a logged-out session's token is refused with the same 401 as an invalid one") {
  revoking_api api;
  const auto login = api.tokens.issue({"user-1", user_role::manager, {}});
  CHECK(api.call("GET", "/api/deals/d1", login.access_token).status == 200);
  REQUIRE(api.tokens.logout(login.refresh_token));

  const auto r = api.call("GET", "/api/deals/d1", login.access_token);
  CHECK(r.status == 401);
  CHECK(r.content_type == "application/problem+json");
  CHECK(header(r, "WWW-Authenticate") == "Bearer realm=\"realmkit\", error=\"invalid_token\"");
  CHECK(r.body.find("revoked") == std::string::npos);
  CHECK(api.refusals("revoked") == 1);
  CHECK(api.handled == 1);
}

TEST_CASE("an unreachable revocation list: 503 with Retry-After, and no handler runs") {
  revoking_api api;
  const auto token = api.tokens.issue({"user-1", user_role::manager, {}}).access_token;
  api.revocations.set_down(true);

  const auto r = api.call("GET", "/api/deals/d1", token);
  CHECK(r.status == 503);
  CHECK(r.content_type == "application/problem+json");
  CHECK(r.body.find("urn:realmkit:problem:unavailable") != std::string::npos);
  CHECK(r.body.find("the session store is unavailable") != std::string::npos);
  CHECK(header(r, "Retry-After") == "1");
  CHECK(header(r, "WWW-Authenticate").empty());
  CHECK(api.handled == 0);
  CHECK(api.refusals("revocation_unknown") == 1);

  // What needs no session is still served, as an anonymous caller.
  const auto open = api.call("POST", "/api/open", token);
  CHECK(open.status == 200);
  CHECK(open.body == "{}");
  CHECK(api.handled == 1);
  // A token that is bad anyway is still a 401, whatever the list's state.
  CHECK(api.call("GET", "/api/deals/d1", "garbage").status == 401);

  api.revocations.set_down(false);
  CHECK(api.call("GET", "/api/deals/d1", token).status == 200);
}
