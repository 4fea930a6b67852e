// The authentication and permission guards through the pipeline (no socket): Bearer tokens, the
// access cookie with its CSRF check, anonymous routes, 401 with WWW-Authenticate, 403 for a
// missing permission, and refusal counts by reason.
#include "api/auth_guard.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/auth/memory_refresh_token_store.hpp"
#include "api/auth/token_service.hpp"
#include "api/router.hpp"
#include "tests/auth/auth_test_support.hpp"

using namespace realmkit;
using namespace realmkit::api;
using namespace std::chrono_literals;
using domain::user_role;

namespace {

const auth::jwt_key kKey{"k1", std::string(32, 'k')};

route make(std::string method, std::string pattern, std::string name, std::string permission,
           bool anonymous = false) {
  route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.name = std::move(name);
  r.permission = std::move(permission);
  r.anonymous = anonymous;
  r.blocking = false;
  // Answers with whom the guard let in, so tests see the principal a handler gets.
  r.handle = [](const http_request& request) {
    const auto* who = principal_of(request);
    return http_response::json(200, who ? "{\"user\":\"" + who->user_id + "\"}" : "{}");
  };
  return r;
}

struct guarded_api {
  testing::fake_clock clock;
  auth::memory_refresh_token_store store;
  auth::token_service tokens{auth::jwt_keyset({kKey}), {}, store, clock.fn()};
  infra::metrics_registry metrics;
  router routes;
  std::unique_ptr<http_pipeline> pipeline;

  explicit guarded_api(auth_guard_options options = {}) {
    routes.add(make("GET", "/api/deals/{id}", "deals.get", "deal:view"));
    routes.add(make("POST", "/api/deals/{id}/stage", "deals.move_stage", "deal:edit"));
    routes.add(make("DELETE", "/api/deals/{id}", "deals.delete", "deal:delete"));
    routes.add(make("GET", "/api/me", "me", ""));
    routes.add(make("POST", "/api/open", "open", "", true));
    pipeline =
        std::make_unique<http_pipeline>(routes, metrics, pipeline_options{.access_log = false});
    options.metrics = &metrics;
    pipeline->add_guard(make_authentication_guard(tokens, std::move(options)));
    pipeline->add_guard(make_permission_guard(routes));
  }

  std::string token_for(user_role role, std::string user = "user-1") {
    return tokens.issue({std::move(user), role, "team-1"}).access_token;
  }

  http_response call(std::string method, std::string path, header_map headers = {}) {
    http_request request;
    request.method = std::move(method);
    request.target = path;
    request.path = std::move(path);
    request.headers = std::move(headers);
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

TEST_CASE("a valid Bearer token lets the request through with its principal") {
  guarded_api api;
  const auto token = api.token_for(user_role::sales_rep, "user-7");
  auto r = api.call("GET", "/api/deals/d1", {{"Authorization", "Bearer " + token}});
  CHECK(r.status == 200);
  CHECK(r.body == R"({"user":"user-7"})");
  // The scheme is case-insensitive (RFC 6750 / RFC 9110 §11.1).
  r = api.call("GET", "/api/deals/d1", {{"Authorization", "bearer " + token}});
  CHECK(r.status == 200);
}

TEST_CASE("no credentials: 401 problem with WWW-Authenticate: Bearer, and no error code") {
  guarded_api api;
  const auto r = api.call("GET", "/api/deals/d1");
  CHECK(r.status == 401);
  CHECK(r.content_type == "application/problem+json");
  CHECK(r.body.find("urn:realmkit:problem:unauthorized") != std::string::npos);
  CHECK(header(r, "WWW-Authenticate") == "Bearer realm=\"realmkit\"");
  CHECK(api.refusals("missing") == 1);
  // Routes without a permission need a token too.
  CHECK(api.call("GET", "/api/me").status == 401);
}

TEST_CASE("a malformed Authorization header is refused with invalid_token") {
  guarded_api api;
  const auto token = api.token_for(user_role::admin);
  for (const std::string& value :
       std::vector<std::string>{"Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b",
                                "Bearertoken", token, "Bearer " + token + "\x01"}) {
    CAPTURE(value);
    const auto r = api.call("GET", "/api/deals/d1", {{"Authorization", value}});
    CHECK(r.status == 401);
    CHECK(header(r, "WWW-Authenticate") == "Bearer realm=\"realmkit\", error=\"invalid_token\"");
  }
  CHECK(api.refusals("malformed_authorization") == 7);
}

TEST_CASE("an invalid token is refused with one answer; the reason is only counted") {
  guarded_api api;
  const auto token = api.token_for(user_role::admin);
  auto forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  const auto r = api.call("GET", "/api/deals/d1", {{"Authorization", "Bearer " + forged}});
  CHECK(r.status == 401);
  CHECK(r.body.find("bad_signature") == std::string::npos);
  CHECK(api.refusals("bad_signature") == 1);

  api.clock.advance(16min);
  const auto late = api.call("GET", "/api/deals/d1", {{"Authorization", "Bearer " + token}});
  CHECK(late.status == 401);
  // The same answer as for a forgery: nothing tells the client why.
  CHECK(late.body.find("expired") == std::string::npos);
  CHECK(header(late, "WWW-Authenticate") == header(r, "WWW-Authenticate"));
  CHECK(api.refusals("expired") == 1);
}

TEST_CASE("anonymous routes serve everyone, and still see a valid caller") {
  guarded_api api;
  CHECK(api.call("POST", "/api/open").body == "{}");
  CHECK(api.call("POST", "/api/open", {{"Authorization", "Bearer garbage"}}).status == 200);
  CHECK(api.call("POST", "/api/open", {{"Authorization", "Basic x"}}).status == 200);
  const auto token = api.token_for(user_role::auditor, "user-9");
  CHECK(api.call("POST", "/api/open", {{"Authorization", "Bearer " + token}}).body ==
        R"({"user":"user-9"})");
}

TEST_CASE("permissions: 403 when the role lacks the route's permission") {
  guarded_api api;
  const auto rep = api.token_for(user_role::sales_rep);
  const auto analyst = api.token_for(user_role::analyst);
  const auto manager = api.token_for(user_role::manager);
  auto bearer = [](const std::string& t) { return header_map{{"Authorization", "Bearer " + t}}; };

  CHECK(api.call("GET", "/api/deals/d1", bearer(analyst)).status == 200);
  const auto refused = api.call("POST", "/api/deals/d1/stage", bearer(analyst));
  CHECK(refused.status == 403);
  CHECK(refused.content_type == "application/problem+json");
  CHECK(refused.body.find("urn:realmkit:problem:forbidden") != std::string::npos);
  CHECK(refused.body.find("deal:edit") != std::string::npos);
  CHECK(api.call("POST", "/api/deals/d1/stage", bearer(rep)).status == 200);
  CHECK(api.call("DELETE", "/api/deals/d1", bearer(rep)).status == 403);
  CHECK(api.call("DELETE", "/api/deals/d1", bearer(manager)).status == 200);
}

TEST_CASE("the permission guard refuses a route table with an unknown permission") {
  router routes;
  routes.add(make("GET", "/a", "a", "deal:fly"));
  CHECK_THROWS_AS(make_permission_guard(routes), std::invalid_argument);
  router anonymous;
  anonymous.add(make("GET", "/b", "b", "deal:view", true));
  CHECK_THROWS_AS(make_permission_guard(anonymous), std::invalid_argument);
}

TEST_CASE("the access cookie authenticates reads; writes need a trusted origin or the header") {
  guarded_api api({.trusted_origins = {"https://crm.example.com"}});
  const auto cookie = "theme=dark; realmkit_access=" + api.token_for(user_role::manager, "u-c");

  auto r = api.call("GET", "/api/deals/d1", {{"Cookie", cookie}});
  CHECK(r.status == 200);
  CHECK(r.body == R"({"user":"u-c"})");

  // A foreign page posting a form: the browser attaches the cookie and its own Origin.
  r = api.call("POST", "/api/deals/d1/stage",
               {{"Cookie", cookie}, {"Origin", "https://evil.example"}, {"Host", "api.local"}});
  CHECK(r.status == 403);
  CHECK(api.refusals("csrf") == 1);
  // No Origin at all: refused as well.
  CHECK(api.call("POST", "/api/deals/d1/stage", {{"Cookie", cookie}}).status == 403);
  CHECK(api.call("POST", "/api/deals/d1/stage", {{"Cookie", cookie}, {"Origin", "null"}}).status ==
        403);

  // Trusted: the configured origin, our own host, or the custom header.
  CHECK(api.call("POST", "/api/deals/d1/stage",
                 {{"Cookie", cookie}, {"Origin", "https://crm.example.com"}})
            .status == 200);
  CHECK(
      api.call(
             "POST", "/api/deals/d1/stage",
             {{"Cookie", cookie}, {"Origin", "http://api.local:8080"}, {"Host", "api.local:8080"}})
          .status == 200);
  CHECK(api.call("DELETE", "/api/deals/d1", {{"Cookie", cookie}, {"X-Requested-With", "fetch"}})
            .status == 200);

  // Bearer tokens are never sent by a browser on its own: no CSRF check.
  CHECK(api.call("POST", "/api/deals/d1/stage",
                 {{"Authorization", "Bearer " + api.token_for(user_role::manager)},
                  {"Origin", "https://evil.example"}})
            .status == 200);
}

TEST_CASE("Authorization wins over the cookie") {
  guarded_api api;
  const auto cookie = "realmkit_access=" + api.token_for(user_role::manager, "from-cookie");
  const auto r = api.call("GET", "/api/deals/d1",
                          {{"Cookie", cookie}, {"Authorization", "Bearer not.a.token"}});
  CHECK(r.status == 401);
}

TEST_CASE("bearer_token and cookie_value parse exactly") {
  CHECK(bearer_token("Bearer abc.def-_~+/=") == "abc.def-_~+/=");
  CHECK(bearer_token("BEARER   x  ") == "x");
  CHECK_FALSE(bearer_token("Bearer\tx"));
  CHECK_FALSE(bearer_token("Bearer x,y"));
  CHECK(cookie_value("a=1; b=2", "b") == "2");
  CHECK(cookie_value("a=1;b=\"2\"", "b") == "2");
  CHECK(cookie_value("ab=1; a=3", "a") == "3");
  CHECK_FALSE(cookie_value("a=1; b", "b"));
  CHECK_FALSE(cookie_value("", "a"));
}
