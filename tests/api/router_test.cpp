// The router without a server: patterns, parameters, precedence, 404/405/OPTIONS/HEAD, and the
// refusal of malformed or conflicting tables.
#include "api/router.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "server_fixture.hpp"

using namespace realmkit;
using realmkit::test::make_route;

namespace {

api::handler named(std::string name) {
  return [name](const api::http_request& r) {
    std::string body = name;
    for (const auto& [k, v] : r.path_params) body += " " + k + "=" + v;
    return api::http_response::text(200, body);
  };
}

api::router crm_routes() {
  api::router r;
  r.add(make_route("GET", "/api/deals", "deals.list", named("list")));
  r.add(make_route("POST", "/api/deals", "deals.create", named("create")));
  r.add(make_route("GET", "/api/deals/{id}", "deals.get", named("get")));
  r.add(make_route("GET", "/api/deals/search", "deals.search", named("search")));
  r.add(make_route("POST", "/api/deals/{id}/stage", "deals.move_stage", named("stage")));
  r.add(
      make_route("GET", "/api/pipelines/{id}/stages/{stage_id}", "stages.get", named("stage.get")));
  r.add(make_route("GET", "/", "root", named("root")));
  return r;
}

api::http_request request(std::string method, std::string target) {
  api::http_request r;
  r.method = std::move(method);
  r.target = target;
  REQUIRE(api::split_target(target, r.path, r.query));
  return r;
}

}  // namespace

TEST_CASE("patterns match with their parameters decoded") {
  const auto r = crm_routes();
  auto m = r.match("POST", "/api/deals/0193-abc/stage");
  REQUIRE(m.result == api::route_match::kind::found);
  CHECK(m.matched->name == "deals.move_stage");
  CHECK(m.params.at("id") == "0193-abc");

  m = r.match("GET", "/api/pipelines/p1/stages/s%202");
  REQUIRE(m.result == api::route_match::kind::found);
  CHECK(m.params.at("id") == "p1");
  CHECK(m.params.at("stage_id") == "s 2");

  // An encoded slash stays inside its segment.
  m = r.match("GET", "/api/deals/a%2Fb");
  REQUIRE(m.result == api::route_match::kind::found);
  CHECK(m.params.at("id") == "a/b");

  CHECK(r.match("GET", "/").matched->name == "root");
}

TEST_CASE("a literal segment wins over a parameter") {
  const auto r = crm_routes();
  CHECK(r.match("GET", "/api/deals/search").matched->name == "deals.search");
  CHECK(r.match("GET", "/api/deals/searching").matched->name == "deals.get");
  // A literal path without the method falls back to the parameter route that has it.
  auto m = r.match("POST", "/api/deals/search/stage");
  CHECK(m.matched->name == "deals.move_stage");
}

TEST_CASE("unknown paths, wrong methods, OPTIONS and HEAD") {
  const auto r = crm_routes();
  CHECK(r.match("GET", "/api/nothing").result == api::route_match::kind::not_found);
  CHECK(r.match("GET", "/api/deals/").result == api::route_match::kind::not_found);
  CHECK(r.match("GET", "/api//deals").result == api::route_match::kind::not_found);
  CHECK(r.match("GET", "/api/deals/1/stage/x").result == api::route_match::kind::not_found);
  CHECK(r.match("GET", "/api/deals/%zz").result == api::route_match::kind::bad_path);
  CHECK(r.match("GET", "/api/deals/%00").result == api::route_match::kind::bad_path);

  auto m = r.match("DELETE", "/api/deals");
  CHECK(m.result == api::route_match::kind::method_not_allowed);
  CHECK(m.allow == "GET, HEAD, OPTIONS, POST");

  m = r.match("OPTIONS", "/api/deals/1/stage");
  CHECK(m.result == api::route_match::kind::options);
  CHECK(m.allow == "OPTIONS, POST");

  m = r.match("HEAD", "/api/deals/1");
  CHECK(m.result == api::route_match::kind::found);
  CHECK(m.matched->name == "deals.get");
  CHECK(r.match("HEAD", "/api/deals/1/stage").result == api::route_match::kind::method_not_allowed);
  // Methods are case-sensitive.
  CHECK(r.match("get", "/api/deals").result == api::route_match::kind::method_not_allowed);
}

TEST_CASE("dispatch runs the handler with path params and the route name") {
  const auto r = crm_routes();
  auto response = r.dispatch(request("POST", "/api/deals/d1/stage?x=1"));
  CHECK(response.status == 200);
  CHECK(response.body == "stage id=d1");

  response = r.dispatch(request("PATCH", "/api/deals/d1"));
  CHECK(response.status == 405);
  CHECK(response.headers.at("allow") == "GET, HEAD, OPTIONS");
  CHECK(response.content_type == "application/problem+json");

  response = r.dispatch(request("GET", "/nope"));
  CHECK(response.status == 404);

  api::router throwing;
  throwing.add(
      make_route("GET", "/boom", "boom", [](const api::http_request&) -> api::http_response {
        throw std::runtime_error("secret internals");
      }));
  response = throwing.dispatch(request("GET", "/boom"));
  CHECK(response.status == 500);
  CHECK(response.body.find("secret") == std::string::npos);
}

TEST_CASE("the table is enumerable in the order routes were added") {
  const auto r = crm_routes();
  std::vector<std::string> names;
  for (const auto& route : r.routes()) names.push_back(route.name);
  CHECK(names == std::vector<std::string>{"deals.list", "deals.create", "deals.get", "deals.search",
                                          "deals.move_stage", "stages.get", "root"});
  CHECK(r.routes()[4].pattern == "/api/deals/{id}/stage");
  CHECK(r.routes()[4].blocking == false);
  CHECK(api::route{}.blocking);  // blocking unless a route says otherwise
}

TEST_CASE("malformed and conflicting routes are refused and leave the table unchanged") {
  api::router r;
  r.add(make_route("GET", "/api/deals/{id}", "deals.get", named("get")));
  auto refuse = [&](std::string method, std::string pattern, std::string name) {
    CHECK_THROWS_AS(r.add(make_route(method, pattern, name, named("x"))), std::invalid_argument);
  };
  refuse("GET", "api/deals", "no.slash");
  refuse("GET", "/api//deals", "empty.segment");
  refuse("GET", "/api/deals/", "trailing.slash");
  refuse("GET", "/api/{Id}", "bad.param");
  refuse("GET", "/api/{a}/{a}", "param.twice");
  refuse("GET", "/api/x{id}", "partial.param");
  refuse("GET", "/api/sp ace", "space");
  refuse("get", "/api/x", "lower.method");
  refuse("GET", "/api/x", "");
  refuse("GET", "/api/x", "Upper");
  refuse("GET", "/api/x", "deals.get");                   // name taken
  refuse("GET", "/api/deals/{id}", "again");              // same method and pattern
  refuse("POST", "/api/deals/{deal_id}/stage", "other");  // {deal_id} where {id} is
  CHECK_THROWS_AS(r.add(api::route{.method = "GET", .pattern = "/h", .name = "no.handler"}),
                  std::invalid_argument);
  CHECK(r.routes().size() == 1);
  CHECK(r.match("POST", "/api/deals/1/stage").result == api::route_match::kind::not_found);
  // The same pattern with another method is fine.
  r.add(make_route("DELETE", "/api/deals/{id}", "deals.delete", named("delete")));
  CHECK(r.match("DELETE", "/api/deals/1").matched->name == "deals.delete");
}

TEST_CASE("request targets split into a path and decoded query parameters") {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  REQUIRE(api::split_target("/api/deals?limit=10&cursor=a%2Bb&q=hello+world&flag&=x", path, query));
  CHECK(path == "/api/deals");
  CHECK(query ==
        std::vector<std::pair<std::string, std::string>>{
            {"limit", "10"}, {"cursor", "a+b"}, {"q", "hello world"}, {"flag", ""}, {"", "x"}});
  CHECK_FALSE(api::split_target("/x?bad=%G1", path, query));
  CHECK_FALSE(api::split_target("http://host/x", path, query));
  CHECK_FALSE(api::split_target("*", path, query));

  api::http_request r;
  r.query = {{"a", "1"}, {"a", "2"}};
  CHECK(r.query_param("a") == "1");
  CHECK_FALSE(r.query_param("b"));
  r.headers.emplace("Content-Type", "application/json");
  REQUIRE(r.header("content-type"));
  CHECK(*r.header("CONTENT-TYPE") == "application/json");
}
