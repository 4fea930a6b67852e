// The session endpoints over real HTTP, on both store backends: login, /me, refresh with rotation
// and reuse detection, logout, the per-account lockout, password rehashing on login, browser
// sessions by cookie, and bad input.
#include "api/auth_routes.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <memory>
#include <string>

#include "api/auth/login_lockout.hpp"
#include "api/auth/login_service.hpp"
#include "api/auth/token_service.hpp"
#include "api/auth/user_directory.hpp"
#include "api/auth_guard.hpp"
#include "commands/crm_commands.hpp"
#include "infra/crypto/mac.hpp"
#include "infra/crypto/password_hasher.hpp"
#include "tests/api/auth/session_backends.hpp"
#include "tests/api/server_fixture.hpp"
#include "tests/api/test_client.hpp"
#include "tests/auth/auth_test_support.hpp"

using namespace realmkit;
using namespace realmkit::test;
using namespace std::chrono_literals;
using testing::postgres_session_backend;
using testing::sqlite_session_backend;

namespace {

const std::string kPassword = "correct horse battery staple";

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  REQUIRE_MESSAGE(!d.HasParseError(), body);
  return d;
}

std::string text(const rapidjson::Value& v, const char* name) {
  REQUIRE_MESSAGE(v.HasMember(name), name);
  REQUIRE(v[name].IsString());
  return v[name].GetString();
}

std::string json_string(const std::string& s) {
  return "\"" + s + "\"";
}

template <class Backend>
struct session_api {
  Backend backend;
  testing::fake_clock clock;
  infra::crypto::password_hasher hasher;  // the default parameters
  api::auth::token_service tokens{
      api::auth::jwt_keyset({{"k1", std::string(32, 'k')}}), {}, backend.refresh, clock.fn()};
  api::auth::memory_login_lockout lockout{{}, clock.fn()};
  commands::command_handler handler{*backend.store};
  api::auth::user_directory users{*backend.store};
  api::auth::login_service logins{hasher, tokens, lockout, users.accounts()};
  int rehashes = 0;
  test_server server{
      [this](api::router& r) {
        api::add_auth_routes(
            r, tokens, logins,
            {.profiles = users.profiles(),
             .record_rehash =
                 [this](const std::string& id, const std::string& hash, const api::http_request&) {
                   ++rehashes;
                   commands::command_metadata m;
                   m.actor = domain::user_id{id};
                   m.now = clock.now();
                   const auto done =
                       commands::execute(handler,
                                         domain::user_command{domain::change_user_password{
                                             domain::user_id{id}, hash}},
                                         m);
                   CHECK(done.ok());  // on a server thread: no REQUIRE
                 },
             .cookie_secure = false});
      },
      [this] {
        server_setup s;
        s.guards.push_back(api::make_authentication_guard(tokens, {}));
        return s;
      }()};

  void register_user(const std::string& id, const std::string& email, domain::user_role role,
                     std::optional<std::string> team,
                     const infra::crypto::password_hasher* with = nullptr) {
    commands::command_metadata m;
    m.actor = domain::user_id{"setup"};
    m.now = clock.now();
    if (team && !handler.load<domain::team_aggregate>(*team).state.exists) {
      REQUIRE(commands::execute(handler,
                                domain::team_command{domain::create_team{
                                    domain::team_id{*team}, "Team " + *team, std::nullopt}},
                                m)
                  .ok());
    }
    domain::register_user c;
    c.user = domain::user_id{id};
    c.email = email;
    c.display_name = "User " + id;
    c.role = role;
    if (team) c.team = domain::team_id{*team};
    c.password_hash = (with ? *with : hasher).hash(kPassword);
    REQUIRE(commands::execute(handler, domain::user_command{c}, m).ok());
  }

  http_reply post(const std::string& path, const std::string& body,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    http_connection c(server.port());
    headers.emplace_back("Content-Type", "application/json");
    return c.request("POST", path, std::move(headers), body);
  }

  http_reply login(const std::string& email, const std::string& password = kPassword) {
    return post("/api/auth/login", "{\"email\":" + json_string(email) +
                                       ",\"password\":" + json_string(password) + "}");
  }

  http_reply refresh(const std::string& token) {
    return post("/api/auth/refresh", "{\"refresh_token\":" + json_string(token) + "}");
  }

  http_reply me(const std::string& access_token) {
    http_connection c(server.port());
    return c.request("GET", "/api/auth/me", {{"Authorization", "Bearer " + access_token}});
  }
};

}  // namespace

TEST_CASE_TEMPLATE("login, /me, refresh with rotation, reuse revokes the session, logout", B,
                   sqlite_session_backend, postgres_session_backend) {
  session_api<B> api;
  api.register_user("u-ann", "ann@example.com", domain::user_role::manager, "team-north");

  // The address is matched as typed by people: spaces and capitals do not matter.
  const auto login = api.login("  Ann@Example.COM ");
  REQUIRE_MESSAGE(login.status == 200, login.body);
  const auto tokens = parse(login.body);
  const auto access = text(tokens, "access_token");
  const auto refresh = text(tokens, "refresh_token");
  CHECK(text(tokens, "token_type") == "Bearer");
  CHECK(tokens["expires_in"].GetInt64() == 900);
  CHECK(tokens["refresh_expires_in"].GetInt64() == 14 * 24 * 3600);

  const auto me = api.me(access);
  REQUIRE_MESSAGE(me.status == 200, me.body);
  const auto who = parse(me.body);
  CHECK(text(who["user"], "id") == "u-ann");
  CHECK(text(who["user"], "email") == "ann@example.com");
  CHECK(text(who["user"], "display_name") == "User u-ann");
  CHECK(text(who, "role") == "manager");
  CHECK(text(who, "team_id") == "team-north");
  CHECK(text(who, "record_scope") == "team");
  std::vector<std::string> permissions;
  for (const auto& p : who["permissions"].GetArray()) permissions.emplace_back(p.GetString());
  CHECK(permissions.size() == 20);
  CHECK(std::find(permissions.begin(), permissions.end(), "deal:delete") != permissions.end());
  CHECK(std::find(permissions.begin(), permissions.end(), "user:edit") == permissions.end());
  CHECK(api.me("nope").status == 401);

  // Rotation: the new pair works, the presented refresh token is spent.
  const auto rotated = api.refresh(refresh);
  REQUIRE_MESSAGE(rotated.status == 200, rotated.body);
  const auto second = parse(rotated.body);
  const auto refresh2 = text(second, "refresh_token");
  CHECK(refresh2 != refresh);
  CHECK(api.me(text(second, "access_token")).status == 200);

  SUBCASE("presenting the spent token again revokes the whole session") {
    const auto reused = api.refresh(refresh);
    CHECK(reused.status == 401);
    CHECK(reused.header("Content-Type") == "application/problem+json");
    CHECK(api.refresh(refresh2).status == 401);  // the thief's and the owner's chain ended
    CHECK(api.backend.refresh.find(infra::crypto::sha256_hex(refresh2))->revoked_reason ==
          api::auth::revoke_reason::reuse);
  }
  SUBCASE("logout ends the session; a second logout answers the same") {
    const auto out = api.post("/api/auth/logout", "{\"refresh_token\":\"" + refresh2 + "\"}");
    CHECK(out.status == 204);
    CHECK(api.refresh(refresh2).status == 401);
    CHECK(api.post("/api/auth/logout", "{\"refresh_token\":\"" + refresh2 + "\"}").status == 204);
    // Another login is another session, untouched.
    CHECK(api.login("ann@example.com").status == 200);
  }
  SUBCASE("a deactivated user's refresh ends the session") {
    commands::command_metadata m;
    m.actor = domain::user_id{"admin"};
    m.now = api.clock.now();
    REQUIRE(
        commands::execute(
            api.handler, domain::user_command{domain::deactivate_user{domain::user_id{"u-ann"}}}, m)
            .ok());
    CHECK(api.refresh(refresh2).status == 401);
    CHECK(api.login("ann@example.com").status == 401);
  }
  SUBCASE("a role changed since login shows at the next refresh") {
    commands::command_metadata m;
    m.actor = domain::user_id{"admin"};
    m.now = api.clock.now();
    REQUIRE(commands::execute(api.handler,
                              domain::user_command{domain::change_user_role{
                                  domain::user_id{"u-ann"}, domain::user_role::analyst}},
                              m)
                .ok());
    const auto next = api.refresh(refresh2);
    REQUIRE(next.status == 200);
    CHECK(text(parse(api.me(text(parse(next.body), "access_token")).body), "role") == "analyst");
  }
}

TEST_CASE_TEMPLATE("wrong password and unknown address get the same 401", B, sqlite_session_backend,
                   postgres_session_backend) {
  session_api<B> api;
  api.register_user("u-bo", "bo@example.com", domain::user_role::sales_rep, "team-1");
  const auto wrong = api.login("bo@example.com", "not the password at all");
  const auto unknown = api.login("nobody@example.com");
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(wrong.header("Content-Type") == "application/problem+json");
  CHECK(wrong.header("WWW-Authenticate") == "Bearer realm=\"realmkit\"");
  const auto a = parse(wrong.body);
  const auto b = parse(unknown.body);
  CHECK(text(a, "detail") == text(b, "detail"));
  CHECK(text(a, "type") == text(b, "type"));
  const auto written = api.backend.store->head_position();
  CHECK(api.login("bo@example.com", "still not the password").status == 401);
  CHECK(api.backend.store->head_position() == written);  // a failed login writes nothing
}

TEST_CASE_TEMPLATE(
    "repeated failures lock the account: 429 with Retry-After, even for the right "
    "password",
    B, sqlite_session_backend, postgres_session_backend) {
  session_api<B> api;
  api.register_user("u-cy", "cy@example.com", domain::user_role::sales_rep, "team-1");
  for (int i = 0; i < 5; ++i)
    REQUIRE(api.login("cy@example.com", "guess number " + std::to_string(i)).status == 401);
  auto locked = api.login("cy@example.com");
  CHECK(locked.status == 429);
  CHECK(locked.header("Retry-After") == "300");
  CHECK(locked.body.find("urn:realmkit:problem:too-many-requests") != std::string::npos);
  api.clock.advance(299s);
  CHECK(api.login("cy@example.com").header("Retry-After") == "1");
  api.clock.advance(1s);
  CHECK(api.login("cy@example.com").status == 200);
}

TEST_CASE_TEMPLATE("a hash made with older parameters is upgraded at login", B,
                   sqlite_session_backend, postgres_session_backend) {
  session_api<B> api;
  const infra::crypto::password_hasher older(infra::crypto::kOwaspMinimum);
  api.register_user("u-di", "di@example.com", domain::user_role::analyst, std::nullopt, &older);
  REQUIRE(api.hasher.needs_rehash(api.users.find_by_id("u-di")->password_hash));
  REQUIRE(api.login("di@example.com").status == 200);
  CHECK(api.rehashes == 1);
  const auto stored = api.users.find_by_id("u-di")->password_hash;
  CHECK_FALSE(api.hasher.needs_rehash(stored));
  CHECK(api.hasher.verify(stored, kPassword));
  REQUIRE(api.login("di@example.com").status == 200);
  CHECK(api.rehashes == 1);  // done once
}

TEST_CASE_TEMPLATE("browser sessions: tokens as HttpOnly cookies, refresh and logout by cookie", B,
                   sqlite_session_backend, postgres_session_backend) {
  session_api<B> api;
  api.register_user("u-ed", "ed@example.com", domain::user_role::auditor, std::nullopt);
  const auto login = api.post("/api/auth/login", "{\"email\":\"ed@example.com\",\"password\":\"" +
                                                     kPassword + "\",\"cookie\":true}");
  REQUIRE_MESSAGE(login.status == 200, login.body);
  CHECK(login.body.find("access_token") == std::string::npos);  // never readable by script
  CHECK(login.body.find("refresh_token") == std::string::npos);
  const auto cookies = login.header("Set-Cookie");
  CHECK(cookies.find("realmkit_access=") != std::string::npos);
  CHECK(cookies.find("realmkit_refresh=") != std::string::npos);
  CHECK(cookies.find("HttpOnly") != std::string::npos);
  CHECK(cookies.find("SameSite=Strict") != std::string::npos);
  CHECK(cookies.find("Path=/api/auth") != std::string::npos);

  const auto value = [&](const std::string& all, const std::string& name) {
    const auto start = all.find(name + "=") + name.size() + 1;
    return all.substr(start, all.find(';', start) - start);
  };
  const auto access = value(cookies, "realmkit_access");
  const auto refresh = value(cookies, "realmkit_refresh");
  {
    http_connection c(api.server.port());
    CHECK(c.request("GET", "/api/auth/me", {{"Cookie", "realmkit_access=" + access}}).status ==
          200);
  }
  // A refresh by cookie from a foreign page is refused; with the CSRF header it works.
  const auto forged =
      api.post("/api/auth/refresh", "",
               {{"Cookie", "realmkit_refresh=" + refresh}, {"Origin", "https://evil.example"}});
  CHECK(forged.status == 403);
  const auto renewed =
      api.post("/api/auth/refresh", "",
               {{"Cookie", "realmkit_refresh=" + refresh}, {"X-Requested-With", "fetch"}});
  REQUIRE_MESSAGE(renewed.status == 200, renewed.body);
  const auto refresh2 = value(renewed.header("Set-Cookie"), "realmkit_refresh");
  CHECK(refresh2 != refresh);

  const auto out =
      api.post("/api/auth/logout", "",
               {{"Cookie", "realmkit_refresh=" + refresh2}, {"X-Requested-With", "fetch"}});
  CHECK(out.status == 204);
  CHECK(out.header("Set-Cookie").find("realmkit_access=; Path=/; Max-Age=0") != std::string::npos);
  CHECK(api.refresh(refresh2).status == 401);
}

TEST_CASE_TEMPLATE("bad login input: problem+json naming the field, nothing written", B,
                   sqlite_session_backend, postgres_session_backend) {
  session_api<B> api;
  CHECK(api.post("/api/auth/login", "{\"email\":").status == 400);
  auto r = api.post("/api/auth/login", "{\"email\":\"a@b.c\"}");
  CHECK(r.status == 422);
  CHECK(text(parse(r.body), "field") == "password");
  r = api.post("/api/auth/login", "{\"email\":1,\"password\":\"x\"}");
  CHECK(r.status == 422);
  CHECK(text(parse(r.body), "field") == "email");
  r = api.post("/api/auth/login", "{\"email\":\"a@b.c\",\"password\":\"x\",\"role\":\"admin\"}");
  CHECK(r.status == 422);
  CHECK(text(parse(r.body), "field") == "role");
  r = api.post("/api/auth/login",
               "{\"email\":\"a@b.c\",\"password\":\"" + std::string(2000, 'p') + "\"}");
  CHECK(r.status == 422);
  CHECK(api.post("/api/auth/refresh", "{}").status == 422);
  CHECK(api.refresh("not-a-token").status == 401);
  {
    http_connection c(api.server.port());
    CHECK(c.request("POST", "/api/auth/login", {{"Content-Type", "text/plain"}}, "{}").status ==
          415);
  }
  CHECK(api.backend.store->head_position() == 0);
}
