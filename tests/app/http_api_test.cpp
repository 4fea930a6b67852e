// The HTTP API as `realmkit serve` wires it, over real HTTP on both store backends: the full route
// table against its OpenAPI document, the guards in their order (limits, authentication,
// permissions), a session from login to /me, and the operations metrics.
#include "app/http_api.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <memory>
#include <set>
#include <tuple>

#include "api/integrations/twilio_provider.hpp"
#include "tests/app/served_api.hpp"

using namespace realmkit;
using namespace realmkit::test;
using namespace std::chrono_literals;
using testing::postgres_session_backend;
using testing::sqlite_session_backend;

TEST_CASE("the served route table and its OpenAPI document describe the same operations") {
  served_api<sqlite_session_backend> s;
  const auto reply = s.request("GET", "/api/openapi.json");
  REQUIRE(reply.status == 200);
  rapidjson::Document doc;
  doc.Parse(reply.body.c_str());
  REQUIRE(doc.IsObject());

  using key = std::tuple<std::string, std::string, std::string>;
  std::set<key> documented;
  for (const auto& path : doc["paths"].GetObject()) {
    for (const auto& op : path.value.GetObject()) {
      if (std::string(op.name.GetString()) == "parameters") continue;
      documented.emplace(path.name.GetString(), op.name.GetString(),
                         op.value["operationId"].GetString());
    }
  }
  std::set<key> routed;
  for (const auto& r : s.api.routes().routes()) {
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    routed.emplace(r.pattern, method, r.name);
  }
  CHECK(documented == routed);
  CHECK(routed.size() > 60);
  for (const auto* name :
       {"auth.login", "auth.refresh", "auth.logout", "auth.me", "ops.openapi", "ops.healthz",
        "ops.readyz", "ops.metrics", "deals.move_stage", "contacts.create", "activities.list",
        "integrations.webhook", "integrations.unmatched"}) {
    CHECK_MESSAGE(std::any_of(routed.begin(), routed.end(),
                              [&](const key& k) { return std::get<2>(k) == name; }),
                  name);
  }
}

TEST_CASE_TEMPLATE("served: login, /me, guards in order, and the operations metrics", B,
                   sqlite_session_backend, postgres_session_backend) {
  served_api<B> s;
  s.register_user("u-1", "one@example.com", domain::user_role::analyst);

  CHECK(s.request("GET", "/api/auth/me").status == 401);
  const auto login = s.login("one@example.com");
  REQUIRE_MESSAGE(login.status == 200, login.body);
  const auto me =
      s.request("GET", "/api/auth/me", {{"Authorization", "Bearer " + access_token_of(login)}});
  REQUIRE_MESSAGE(me.status == 200, me.body);
  CHECK(me.body.find("\"role\":\"analyst\"") != std::string::npos);

  // The CRM routes behind the same guards: an analyst reads deals, may not shape pipelines.
  const auto bearer = std::vector<std::pair<std::string, std::string>>{
      {"Authorization", "Bearer " + access_token_of(login)}};
  CHECK(s.request("GET", "/api/deals", bearer).status == 200);
  CHECK(s.request("GET", "/api/deals").status == 401);
  const auto refused = s.request("POST", "/api/pipelines", bearer,
                                 R"({"name":"P","stages":[{"name":"A","probability":10}]})");
  CHECK(refused.status == 403);
  CHECK(refused.body.find("pipeline:edit") != std::string::npos);

  // The read models' state is for analysts too; rebuilding one is for admins.
  const auto projections = s.request("GET", "/api/projections", bearer);
  REQUIRE_MESSAGE(projections.status == 200, projections.body);
  CHECK(projections.body.find("\"name\":\"records\"") != std::string::npos);
  CHECK(projections.body.find("\"lag\":{\"events\":") != std::string::npos);
  CHECK(s.request("GET", "/api/projections/records", bearer).status == 200);
  const auto unknown = s.request("GET", "/api/projections/nope", bearer);
  CHECK(unknown.status == 404);
  CHECK(unknown.body.find("no projection is named 'nope'") != std::string::npos);
  const auto rebuild = s.request("POST", "/api/projections/records/rebuild", bearer);
  CHECK(rebuild.status == 403);
  CHECK(rebuild.body.find("admin:access") != std::string::npos);

  // The strict login bucket (3, then one per 20 s) refuses before any password is checked.
  CHECK(s.login("one@example.com").status == 200);
  CHECK(s.login("one@example.com").status == 200);
  const auto limited = s.login("one@example.com");
  CHECK(limited.status == 429);
  CHECK(limited.header("Retry-After") == "20");
  // Other routes from the same address are not affected.
  CHECK(s.request("GET", "/healthz").status == 200);

  const auto metrics = s.request("GET", "/metrics").body;
  for (const auto* series :
       {"realmkit_http_requests_total{route=\"auth.login\",status=\"2xx\"} 3",
        "realmkit_http_requests_total{route=\"auth.login\",status=\"4xx\"} 1",
        "realmkit_http_request_duration_seconds_bucket{route=\"auth.me\"",
        "realmkit_http_requests_in_flight", "realmkit_event_store_append_duration_seconds_count 1",
        "realmkit_event_store_appends_total{outcome=\"ok\"} 1",
        "realmkit_rate_limited_total{bucket=\"login_per_address\"} 1",
        "realmkit_auth_logins_total{outcome=\"ok\"} 3",
        "realmkit_auth_refusals_total{reason=\"missing\"} 2"}) {
    CHECK_MESSAGE(metrics.find(series) != std::string::npos, series);
  }
}

TEST_CASE("served: a provider webhook needs no token, only its signature") {
  served_api<sqlite_session_backend> s;
  const std::string path = "/api/integrations/twilio/webhook";
  const std::string form = "CallSid=CA1&CallStatus=ringing&From=%2B14155550132&To=%2B14155550100";
  const auto signature = api::integrations::twilio_signature("served-test-twilio-token",
                                                             "https://crm.example.com" + path,
                                                             {{"CallSid", "CA1"},
                                                              {"CallStatus", "ringing"},
                                                              {"From", "+14155550132"},
                                                              {"To", "+14155550100"}});
  const auto typed =
      std::pair<std::string, std::string>{"Content-Type", "application/x-www-form-urlencoded"};
  auto r = s.request("POST", path, {typed, {"X-Twilio-Signature", signature}}, form);
  CHECK_MESSAGE(r.status == 200, r.body);
  r = s.request("POST", path, {typed, {"X-Twilio-Signature", "AAAA" + signature.substr(4)}}, form);
  CHECK(r.status == 401);
  // A provider without a secret is disabled.
  CHECK(s.request("POST", "/api/integrations/mailgun/webhook", {typed}, "a=1").status == 404);
  CHECK(s.request("GET", "/api/integrations/unmatched").status == 401);
}

TEST_CASE("served: CORS with credentials names the origin, never *") {
  CHECK_THROWS_AS(api::cors_policy({.allowed_origins = {"*"}, .allow_credentials = true}),
                  std::invalid_argument);
  sqlite_session_backend backend;
  infra::metrics_registry metrics;
  api::readiness ready;
  testing::fake_clock clock;
  fake_steady_clock steady;
  app::read_models reads(*backend.store, read_database(backend), quick_projector());
  reads.start();
  app::http_api api(small_limits(clock, steady), *backend.store, reads, backend.refresh,
                    api::auth::jwt_keyset({{"k1", std::string(32, 'k')}}), metrics, ready);
  api::http_pipeline pipeline(
      api.routes(), metrics,
      {.cors = {.allowed_origins = {"https://crm.example.com"}, .allow_credentials = true},
       .access_log = false});
  api.install_guards(pipeline);

  auto call = [&](std::string method, std::string origin, api::header_map extra = {}) {
    api::http_request r;
    r.method = std::move(method);
    r.path = r.target = "/api/auth/me";
    r.remote_address = "127.0.0.1";
    r.headers = std::move(extra);
    r.headers.emplace("Origin", std::move(origin));
    return pipeline.handle(std::move(r));
  };
  const auto allowed = call("GET", "https://crm.example.com");
  CHECK(allowed.headers.at("Access-Control-Allow-Origin") == "https://crm.example.com");
  CHECK(allowed.headers.at("Access-Control-Allow-Credentials") == "true");
  CHECK(allowed.headers.at("Vary").find("Origin") != std::string::npos);
  const auto foreign = call("GET", "https://evil.example");
  CHECK_FALSE(foreign.headers.contains("Access-Control-Allow-Origin"));
  const auto preflight =
      call("OPTIONS", "https://crm.example.com", {{"Access-Control-Request-Method", "GET"}});
  CHECK(preflight.status == 204);
  CHECK(preflight.headers.at("Access-Control-Allow-Origin") == "https://crm.example.com");
  CHECK(
      call("OPTIONS", "https://evil.example", {{"Access-Control-Request-Method", "GET"}}).status ==
      403);
}

TEST_CASE_TEMPLATE("served: an admin rebuilds a read model while it keeps serving", B,
                   sqlite_session_backend, postgres_session_backend) {
  served_api<B> s;
  s.register_user("u-admin", "admin@example.com", domain::user_role::admin);
  const auto login = s.login("admin@example.com");
  REQUIRE_MESSAGE(login.status == 200, login.body);
  const auto bearer = std::vector<std::pair<std::string, std::string>>{
      {"Authorization", "Bearer " + access_token_of(login)}};
  REQUIRE(s.reads.projector().wait_for(s.store.head_position(), 10s));
  const auto before = s.reads.projector().status("records");
  REQUIRE(before);

  const auto started = s.request("POST", "/api/projections/records/rebuild", bearer);
  REQUIRE_MESSAGE(started.status == 202, started.body);
  CHECK(started.body.find("\"name\":\"records\"") != std::string::npos);
  // Reads go on while the next generation is built.
  CHECK(s.request("GET", "/api/users/u-admin", bearer).status == 200);
  REQUIRE(s.reads.projector().wait_for_rebuild("records", 20s));
  const auto after = s.request("GET", "/api/projections/records", bearer);
  REQUIRE(after.status == 200);
  CHECK(after.body.find("\"generation\":" + std::to_string(before->generation + 1)) !=
        std::string::npos);
  CHECK(s.request("GET", "/api/users/u-admin", bearer).status == 200);

  CHECK(s.request("POST", "/api/projections/nope/rebuild", bearer).status == 404);
}
