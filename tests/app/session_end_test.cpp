// A change of what a user may do takes effect at once, not when their access token expires:
// deactivating them, giving them another role or team, or an admin setting their password ends
// every session they hold (access and refresh tokens); a change of name leaves them signed in.
#include <doctest/doctest.h>

#include "tests/app/served_api.hpp"

using namespace realmkit;
using namespace realmkit::test;

namespace {

std::string field_of(const http_reply& reply, const char* name) {
  rapidjson::Document d;
  d.Parse(reply.body.c_str());
  REQUIRE(d.IsObject());
  REQUIRE(d.HasMember(name));
  return d[name].GetString();
}

std::vector<std::pair<std::string, std::string>> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

}  // namespace

TEST_CASE_TEMPLATE(
    "served: a new role or team, a password set by an admin, or deactivation ends "
    "the user's sessions at once",
    B, sqlite_session_backend, postgres_session_backend) {
  served_api<B> s;
  s.register_user("admin-1", "admin@example.com", domain::user_role::admin);
  s.register_user("rep-1", "rep@example.com", domain::user_role::sales_rep);
  const auto admin = bearer(access_token_of(s.login("admin@example.com")));
  const auto signed_in = s.login("rep@example.com");
  REQUIRE(signed_in.status == 200);
  const auto rep = bearer(access_token_of(signed_in));
  const auto refresh = field_of(signed_in, "refresh_token");
  REQUIRE(s.request("GET", "/api/deals", rep).status == 200);

  // A new display name changes no rights: the session goes on.
  auto r = s.request("PATCH", "/api/users/rep-1", admin, R"({"display_name":"Rep One"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(s.request("GET", "/api/deals", rep).status == 200);

  std::string change;
  SUBCASE("a new role") {
    change = "role";
    r = s.request("PATCH", "/api/users/rep-1", admin, R"({"role":"analyst"})");
  }
  SUBCASE("a new team") {
    change = "team";
    r = s.request("PATCH", "/api/users/rep-1", admin, R"({"team_id":null})");
  }
  SUBCASE("a password set by an admin") {
    change = "password";
    r = s.request("POST", "/api/users/rep-1/password", admin,
                  R"({"password":"another long pass phrase"})");
  }
  SUBCASE("deactivation") {
    change = "deactivation";
    r = s.request("DELETE", "/api/users/rep-1", admin);
  }
  CAPTURE(change);
  REQUIRE_MESSAGE(r.status < 300, r.body);
  // Neither the access token nor the refresh token outlives the change.
  CHECK(s.request("GET", "/api/deals", rep).status == 401);
  CHECK(s.request("POST", "/api/auth/refresh", {}, "{\"refresh_token\":\"" + refresh + "\"}")
            .status == 401);
  // The admin who made the change is still signed in.
  CHECK(s.request("GET", "/api/deals", admin).status == 200);
  if (change == "role") {
    // Signing in again (a second later: revocations count in whole seconds) gives the new role.
    s.clock.advance(std::chrono::seconds(2));
    s.steady.now->store(s.steady.now->load() + std::chrono::seconds(60));  // the login bucket
    const auto again = s.login("rep@example.com");
    REQUIRE_MESSAGE(again.status == 200, again.body);
    const auto me = s.request("GET", "/api/auth/me", bearer(access_token_of(again)));
    CHECK(me.body.find("\"role\":\"analyst\"") != std::string::npos);
  }
  if (change == "deactivation") {
    s.clock.advance(std::chrono::seconds(2));
    s.steady.now->store(s.steady.now->load() + std::chrono::seconds(60));
    CHECK(s.login("rep@example.com").status == 401);
  }
}
