// The pipeline without a socket: request ids, CORS, guards, security headers, exception mapping,
// metrics and the access log.
#include "api/http_pipeline.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "api/error_mapping.hpp"
#include "api/request_id.hpp"
#include "infra/event_store.hpp"
#include "server_fixture.hpp"

using namespace realmkit;
using realmkit::test::make_route;

namespace {

struct fixture {
  infra::metrics_registry metrics;
  api::router routes;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);

  fixture() {
    routes.add(make_route("GET", "/api/deals/{id}", "deals.get", [](const api::http_request& r) {
      return api::http_response::json(200, "{\"id\":\"" + std::string(r.path_param("id")) + "\"}");
    }));
    routes.add(make_route("POST", "/api/deals/{id}/stage", "deals.move_stage",
                          [](const api::http_request&) -> api::http_response {
                            throw infra::wrong_expected_version("deal-1", 2, 4);
                          }));
    routes.add(
        make_route("GET", "/api/boom", "boom", [](const api::http_request&) -> api::http_response {
          throw std::logic_error("internal detail");
        }));
    routes.add(make_route("GET", "/static", "static", [](const api::http_request&) {
      auto r = api::http_response::text(200, "<html>", "text/html");
      r.headers.emplace("Cache-Control", "max-age=60");
      return r;
    }));
  }

  api::pipeline_options options(std::vector<std::string> origins = {}) {
    api::pipeline_options o;
    o.cors.allowed_origins = std::move(origins);
    auto logger = std::make_shared<spdlog::logger>("pipeline-test", sink);
    logger->set_pattern("%v");
    o.access_logger = logger;
    return o;
  }
};

api::http_request request(std::string method, std::string path,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
  api::http_request r;
  r.method = std::move(method);
  r.target = path;
  r.path = std::move(path);
  r.remote_address = "10.1.2.3";
  for (auto& [k, v] : headers) r.headers.emplace(k, v);
  return r;
}

}  // namespace

TEST_CASE("every response carries the request id and the security headers") {
  fixture f;
  api::http_pipeline p(f.routes, f.metrics, f.options());
  auto r = p.handle(request("GET", "/api/deals/d1"));
  CHECK(r.status == 200);
  CHECK(r.headers.at("X-Request-Id").size() == 36);
  CHECK(r.headers.at("X-Content-Type-Options") == "nosniff");
  CHECK(r.headers.at("Cache-Control") == "no-store");
  CHECK(r.headers.at("Content-Security-Policy") == "default-src 'none'; frame-ancestors 'none'");
  // Problems too.
  r = p.handle(request("GET", "/nowhere", {{"X-Request-Id", "abc"}}));
  CHECK(r.status == 404);
  CHECK(r.headers.at("X-Request-Id") == "abc");
  CHECK(r.body.find("\"instance\":\"abc\"") != std::string::npos);
  // A handler's own caching policy is kept.
  CHECK(p.handle(request("GET", "/static")).headers.at("Cache-Control") == "max-age=60");
}

TEST_CASE("exceptions from handlers become problems, internals hidden") {
  fixture f;
  api::http_pipeline p(f.routes, f.metrics, f.options());
  auto r = p.handle(request("POST", "/api/deals/d1/stage"));
  CHECK(r.status == 409);
  CHECK(r.body.find("\"current_version\":4") != std::string::npos);
  r = p.handle(request("GET", "/api/boom"));
  CHECK(r.status == 500);
  CHECK(r.body.find("internal detail") == std::string::npos);
}

TEST_CASE("guards run in order after routing and may refuse or annotate the request") {
  fixture f;
  api::http_pipeline p(f.routes, f.metrics, f.options());
  std::vector<std::string> seen;
  p.add_guard(
      [&](const api::route& route, api::http_request& r) -> std::optional<api::http_response> {
        seen.push_back("first:" + route.name + ":" + std::string(r.path_param("id")));
        r.principal = std::string("user-7");
        return std::nullopt;
      });
  p.add_guard([&](const api::route&, api::http_request& r) -> std::optional<api::http_response> {
    seen.push_back("second:" + *std::any_cast<std::string>(&r.principal));
    if (r.header("Authorization")) return std::nullopt;
    return api::to_response(api::make_problem(api::problem_kind::unauthorized), r.request_id);
  });
  CHECK(p.handle(request("GET", "/api/deals/d9")).status == 401);
  CHECK(seen == std::vector<std::string>{"first:deals.get:d9", "second:user-7"});
  CHECK(p.handle(request("GET", "/api/deals/d9", {{"Authorization", "Bearer x"}})).status == 200);
  // Unknown paths never reach the guards.
  seen.clear();
  CHECK(p.handle(request("GET", "/nowhere")).status == 404);
  CHECK(seen.empty());
}

TEST_CASE("CORS: exact origins, credentials never with *, preflights answered") {
  fixture f;
  CHECK_THROWS_AS(api::cors_policy({.allowed_origins = {"*"}, .allow_credentials = true}),
                  std::invalid_argument);
  CHECK_THROWS_AS(api::cors_policy({.allowed_origins = {"crm.example.com"}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(api::cors_policy({.allowed_origins = {"https://crm.example.com/path"}}),
                  std::invalid_argument);

  api::http_pipeline p(f.routes, f.metrics, f.options({"https://crm.example.com"}));
  auto r = p.handle(request("GET", "/api/deals/1", {{"Origin", "https://crm.example.com"}}));
  CHECK(r.headers.at("Access-Control-Allow-Origin") == "https://crm.example.com");
  CHECK(r.headers.at("Access-Control-Expose-Headers").find("X-Request-Id") != std::string::npos);
  CHECK_FALSE(r.headers.contains("Access-Control-Allow-Credentials"));
  CHECK(r.headers.at("Vary") == "Origin");

  // Near misses are not the origin.
  for (const auto* origin : {"https://crm.example.com.evil.net", "http://crm.example.com",
                             "https://CRM.example.com", "null"}) {
    r = p.handle(request("GET", "/api/deals/1", {{"Origin", origin}}));
    CHECK_FALSE(r.headers.contains("Access-Control-Allow-Origin"));
  }

  r = p.handle(
      request("OPTIONS", "/api/deals/1/stage",
              {{"Origin", "https://crm.example.com"}, {"Access-Control-Request-Method", "POST"}}));
  CHECK(r.status == 204);
  CHECK(r.headers.at("Access-Control-Allow-Methods") == "OPTIONS, POST");
  CHECK(r.headers.at("Vary") ==
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  r = p.handle(
      request("OPTIONS", "/nowhere",
              {{"Origin", "https://crm.example.com"}, {"Access-Control-Request-Method", "GET"}}));
  CHECK(r.status == 404);

  api::http_pipeline any(f.routes, f.metrics, f.options({"*"}));
  r = any.handle(request("GET", "/api/deals/1", {{"Origin", "https://anywhere.example"}}));
  CHECK(r.headers.at("Access-Control-Allow-Origin") == "*");

  api::http_pipeline none(f.routes, f.metrics, f.options());
  r = none.handle(request("GET", "/api/deals/1", {{"Origin", "https://crm.example.com"}}));
  CHECK_FALSE(r.headers.contains("Access-Control-Allow-Origin"));
  CHECK_FALSE(r.headers.contains("Vary"));
}

TEST_CASE("metrics by route and status class; one JSON access line per request") {
  fixture f;
  api::http_pipeline p(f.routes, f.metrics, f.options());
  p.handle(request("GET", "/api/deals/1"));
  p.handle(request("GET", "/api/boom"));
  p.handle(request("GET", "/nowhere"));
  const auto text = f.metrics.expose();
  CHECK(text.find("realmkit_http_requests_total{route=\"deals.get\",status=\"2xx\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("realmkit_http_requests_total{route=\"boom\",status=\"5xx\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("realmkit_http_requests_total{route=\"unmatched\",status=\"4xx\"} 1\n") !=
        std::string::npos);
  // Series exist before the first request.
  CHECK(text.find("realmkit_http_requests_total{route=\"static\",status=\"2xx\"} 0\n") !=
        std::string::npos);

  const auto lines = f.sink->last_formatted();
  REQUIRE(lines.size() == 3);
  rapidjson::Document d;
  d.Parse(lines[1].c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["route"].GetString()) == "boom");
  CHECK(d["status"].GetInt() == 500);
  CHECK(std::string(d["remote"].GetString()) == "10.1.2.3");
  CHECK(std::string(d["logger"].GetString()) == "access");
  CHECK(std::string(d["ts"].GetString()).size() == 27);
}

TEST_CASE("request ids: sane ones are kept, others replaced") {
  CHECK(api::is_acceptable_request_id("a-b_c.d:e"));
  CHECK_FALSE(api::is_acceptable_request_id(""));
  CHECK_FALSE(api::is_acceptable_request_id("a b"));
  CHECK_FALSE(api::is_acceptable_request_id("a\r\nSet-Cookie: x"));
  CHECK_FALSE(api::is_acceptable_request_id(std::string(129, 'a')));
  CHECK(api::is_acceptable_request_id(std::string(128, 'a')));
  const std::string incoming = "bad id";
  CHECK(api::request_id_for(&incoming) != incoming);
  CHECK(api::request_id_for(nullptr) != api::request_id_for(nullptr));
}
