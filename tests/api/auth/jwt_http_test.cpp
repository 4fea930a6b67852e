// The JWT negative suite over real HTTP: every forged, stale or foreign access token is answered
// 401 problem+json with WWW-Authenticate: Bearer error="invalid_token", and the same request
// with a valid token passes (so each refusal is the token's doing).
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "api/auth/jwt.hpp"
#include "api/auth/memory_refresh_token_store.hpp"
#include "api/auth/token_service.hpp"
#include "api/auth_guard.hpp"
#include "infra/crypto/encoding.hpp"
#include "tests/api/server_fixture.hpp"
#include "tests/api/test_client.hpp"
#include "tests/auth/auth_test_support.hpp"

using namespace realmkit;
using namespace realmkit::test;

namespace {

const std::string kSecret(32, 'k');
constexpr std::int64_t kNow = 1'735'689'600;  // fake_clock's start

// A payload with the claims of a valid token, some replaced (raw JSON) or dropped (empty).
std::string payload(const std::vector<std::pair<std::string, std::string>>& changes = {}) {
  std::vector<std::pair<std::string, std::string>> claims{
      {"iss", "\"realmkit\""},       {"sub", "\"user-1\""},
      {"aud", "\"realmkit-api\""},   {"exp", std::to_string(kNow + 900)},
      {"iat", std::to_string(kNow)}, {"jti", "\"t-1\""},
      {"role", "\"admin\""},
  };
  return testing::claims_json(std::move(claims), changes);
}

const std::string kHeader = R"({"alg":"HS256","typ":"JWT","kid":"k1"})";

std::string token(const std::string& header, const std::string& body,
                  const std::string& secret = kSecret) {
  return api::auth::detail::sign_compact(header, body, secret);
}

struct jwt_server {
  testing::fake_clock clock;
  api::auth::memory_refresh_token_store store;
  api::auth::token_service tokens{api::auth::jwt_keyset({{"k1", kSecret}}), {}, store, clock.fn()};
  test_server server{[](api::router& r) {
                       auto route = make_route(
                           "GET", "/api/deals/{id}", "deals.get", [](const api::http_request&) {
                             return api::http_response::json(200, "{\"ok\":true}");
                           });
                       route.permission = "deal:view";
                       r.add(std::move(route));
                     },
                     [this] {
                       server_setup s;
                       s.guards.push_back(api::make_authentication_guard(tokens, {}));
                       return s;
                     }()};

  http_reply get(const std::string& access_token) {
    http_connection c(server.port());
    return c.request("GET", "/api/deals/d-1", {{"Authorization", "Bearer " + access_token}});
  }
};

void check_refused(const http_reply& reply) {
  CHECK(reply.status == 401);
  CHECK(reply.header("Content-Type") == "application/problem+json");
  CHECK(reply.header("WWW-Authenticate") == "Bearer realm=\"realmkit\", error=\"invalid_token\"");
  CHECK(reply.body.find("urn:realmkit:problem:unauthorized") != std::string::npos);
}

}  // namespace

TEST_CASE("JWT negative suite over HTTP: each bad token gets 401") {
  jwt_server s;
  REQUIRE(s.get(token(kHeader, payload())).status == 200);

  const auto b64 = [](std::string_view text) { return infra::crypto::base64url_encode(text); };
  const std::vector<std::pair<std::string, std::string>> cases{
      {"alg none, unsigned", b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(payload()) + "."},
      {"alg none, signed anyway", token(R"({"alg":"none","typ":"JWT"})", payload())},
      {"alg HS512", token(R"({"alg":"HS512","typ":"JWT","kid":"k1"})", payload())},
      {"alg RS256", token(R"({"alg":"RS256","typ":"JWT","kid":"k1"})", payload())},
      {"alg hs256 (case)", token(R"({"alg":"hs256","typ":"JWT","kid":"k1"})", payload())},
      {"bad signature", token(kHeader, payload(), std::string(32, 'x'))},
      {"unknown kid", token(R"({"alg":"HS256","typ":"JWT","kid":"k9"})", payload())},
      {"expired", token(kHeader, payload({{"exp", std::to_string(kNow - 31)},
                                          {"iat", std::to_string(kNow - 931)}}))},
      {"nbf in the future", token(kHeader, payload({{"nbf", std::to_string(kNow + 120)}}))},
      {"iat in the future", token(kHeader, payload({{"iat", std::to_string(kNow + 120)}}))},
      {"wrong issuer", token(kHeader, payload({{"iss", "\"someone-else\""}}))},
      {"wrong audience", token(kHeader, payload({{"aud", "\"another-api\""}}))},
      {"no exp", token(kHeader, payload({{"exp", ""}}))},
      {"unknown role", token(kHeader, payload({{"role", "\"root\""}}))},
      {"jku header", token(R"({"alg":"HS256","kid":"k1","jku":"https://evil/keys"})", payload())},
      {"oversized", token(kHeader, payload({{"pad", '"' + std::string(5000, 'p') + '"'}}))},
      {"not a JWT", "abc"},
  };
  for (const auto& [name, bad] : cases) {
    CAPTURE(name);
    check_refused(s.get(bad));
  }
}

TEST_CASE("a token within the leeway passes; one second beyond does not") {
  jwt_server s;
  const auto t = token(kHeader, payload({{"exp", std::to_string(kNow + 10)}}));
  s.clock.advance(std::chrono::seconds{39});  // exp + 29 s
  CHECK(s.get(t).status == 200);
  s.clock.advance(std::chrono::seconds{1});  // exp + 30 s: the leeway is spent
  check_refused(s.get(t));
}
