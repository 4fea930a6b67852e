// The OpenAPI document against the router it is generated from: every route is an operation and
// every operation a route, with its parameters, security, permission, schemas and problem
// responses.
#include "api/openapi.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <set>
#include <stdexcept>
#include <string>
#include <tuple>

#include "api/auth/login_lockout.hpp"
#include "api/auth/login_service.hpp"
#include "api/auth/memory_refresh_token_store.hpp"
#include "api/auth_routes.hpp"
#include "api/health_routes.hpp"
#include "tests/auth/auth_test_support.hpp"

using namespace realmkit;
using namespace realmkit::api;

namespace {

route plain(std::string method, std::string pattern, std::string name) {
  route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.name = std::move(name);
  r.handle = [](const http_request&) { return http_response::json(200, "{}"); };
  return r;
}

using operation_key = std::tuple<std::string, std::string, std::string>;  // path, method, name

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Every (path, method, operationId) of a document.
std::set<operation_key> operations_of(const rapidjson::Document& doc) {
  std::set<operation_key> out;
  for (const auto& path : doc["paths"].GetObject()) {
    for (const auto& member : path.value.GetObject()) {
      const std::string method = member.name.GetString();
      if (method == "parameters") continue;
      REQUIRE(member.value.HasMember("operationId"));
      out.emplace(path.name.GetString(), method, member.value["operationId"].GetString());
    }
  }
  return out;
}

std::set<operation_key> operations_of(const router& routes) {
  std::set<operation_key> out;
  for (const auto& r : routes.routes()) out.emplace(r.pattern, lower(r.method), r.name);
  return out;
}

struct full_table {
  testing::fake_clock clock;
  auth::memory_refresh_token_store store;
  auth::token_service tokens{
      auth::jwt_keyset({{"k1", std::string(32, 'k')}}), {}, store, clock.fn()};
  auth::memory_login_lockout lockout{{}, clock.fn()};
  infra::crypto::password_hasher hasher;
  auth::login_service logins{hasher, tokens, lockout,
                             [](std::string_view) { return std::optional<auth::login_account>(); }};
  infra::metrics_registry metrics;
  readiness ready;
  router routes;

  full_table() {
    add_health_routes(routes, ready, metrics);
    add_auth_routes(routes, tokens, logins, {.profiles = [](std::string_view) {
                      return std::optional<auth::user_profile>();
                    }});
    auto move = plain("POST", "/api/deals/{id}/stage", "deals.move_stage");
    move.permission = "deal:edit";
    move.request_schema = R"({"type":"object","required":["stage_id"]})";
    routes.add(std::move(move));
    auto get = plain("GET", "/api/deals/{id}", "deals.get");
    get.permission = "deal:view";
    routes.add(std::move(get));
    auto archive = plain("DELETE", "/api/deals/{id}", "deals.delete");
    archive.permission = "deal:delete";
    archive.success_status = 204;
    routes.add(std::move(archive));
    add_openapi_route(routes);
  }

  rapidjson::Document document() {
    http_request request;
    request.method = "GET";
    request.path = "/api/openapi.json";
    const auto response = routes.dispatch(request);
    REQUIRE(response.status == 200);
    REQUIRE(response.content_type == "application/json");
    rapidjson::Document doc;
    doc.Parse(response.body.c_str(), response.body.size());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
  }
};

}  // namespace

TEST_CASE("every route is in the OpenAPI document, and every operation is a route") {
  full_table t;
  const auto doc = t.document();
  CHECK(std::string(doc["openapi"].GetString()) == "3.1.0");
  CHECK(doc["info"].HasMember("title"));
  const auto documented = operations_of(doc);
  const auto routed = operations_of(t.routes);
  CHECK(documented == routed);
  CHECK(routed.contains({"/api/openapi.json", "get", "ops.openapi"}));
  CHECK(routed.contains({"/api/auth/login", "post", "auth.login"}));
}

TEST_CASE("operations carry parameters, security, permission, schemas and problem responses") {
  full_table t;
  const auto doc = t.document();
  const auto& paths = doc["paths"];

  const auto& deal = paths["/api/deals/{id}"];
  REQUIRE(deal["parameters"].Size() == 1);
  CHECK(std::string(deal["parameters"][0]["name"].GetString()) == "id");
  CHECK(std::string(deal["parameters"][0]["in"].GetString()) == "path");
  CHECK(deal["parameters"][0]["required"].GetBool());
  const auto& get = deal["get"];
  CHECK(std::string(get["x-realmkit-permission"].GetString()) == "deal:view");
  CHECK(get["security"].Size() == 2);
  CHECK(get["security"][0].HasMember("bearer"));
  CHECK(get["responses"].HasMember("200"));
  CHECK(get["responses"].HasMember("401"));
  CHECK(get["responses"].HasMember("403"));
  CHECK_FALSE(get.HasMember("requestBody"));
  CHECK(std::string(get["responses"]["404"]["$ref"].GetString()) ==
        "#/components/responses/problem");
  CHECK(deal["delete"]["responses"].HasMember("204"));
  CHECK_FALSE(deal["delete"]["responses"]["204"].HasMember("content"));

  const auto& move = paths["/api/deals/{id}/stage"]["post"];
  CHECK(move["requestBody"]["required"].GetBool());
  CHECK(std::string(move["requestBody"]["content"]["application/json"]["schema"]["required"][0]
                        .GetString()) == "stage_id");
  CHECK(move["responses"].HasMember("422"));

  const auto& login = paths["/api/auth/login"]["post"];
  CHECK(login["security"].Size() == 0);  // explicitly anonymous
  CHECK_FALSE(login.HasMember("x-realmkit-permission"));
  CHECK_FALSE(login["responses"].HasMember("401"));
  CHECK(login["requestBody"]["content"]["application/json"]["schema"]["properties"].HasMember(
      "password"));
  CHECK(login["responses"]["200"]["content"]["application/json"]["schema"]["properties"].HasMember(
      "access_token"));
  CHECK(std::string(login["tags"][0].GetString()) == "auth");

  CHECK(doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");
  CHECK(doc["components"]["securitySchemes"]["cookie"]["name"] == "realmkit_access");
  CHECK(doc["components"]["responses"]["problem"]["content"].HasMember("application/problem+json"));
}

TEST_CASE("a route with a schema that is not a JSON object fails the generation") {
  router routes;
  auto r = plain("POST", "/x", "x");
  r.request_schema = "{not json";
  routes.add(std::move(r));
  CHECK_THROWS_AS(openapi_document(routes), std::invalid_argument);
}
