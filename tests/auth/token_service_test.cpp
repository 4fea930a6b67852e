// The token service: a login's token pair, authentication of access tokens, refresh with
// rotation and theft detection, logout, and sessions ending.
#include "api/auth/token_service.hpp"

#include <doctest/doctest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "api/auth/memory_refresh_token_store.hpp"
#include "infra/crypto/encoding.hpp"
#include "tests/auth/auth_test_support.hpp"

using namespace realmkit;
using namespace realmkit::api::auth;
using namespace std::chrono_literals;
using domain::user_role;

namespace {

const jwt_key kKey{"k1", std::string(32, 'k')};

struct fixture {
  testing::fake_clock clock;
  memory_refresh_token_store store;
  token_service tokens{jwt_keyset({kKey}), token_options{}, store, clock.fn()};
  subject alice{"user-alice", user_role::sales_rep, "team-1"};
  // The users as the read model knows them at refresh time.
  std::map<std::string, subject, std::less<>> users{{alice.user_id, alice}};

  subject_lookup lookup() {
    return [this](std::string_view id) -> std::optional<subject> {
      const auto it = users.find(id);
      if (it == users.end()) return std::nullopt;
      return it->second;
    };
  }
};

}  // namespace

TEST_CASE("a login's tokens: a verifiable access token and an opaque refresh token") {
  fixture f;
  const auto pair = f.tokens.issue(f.alice);
  CHECK(pair.expires_in == 15min);
  CHECK(pair.refresh_token.size() == 43);
  CHECK(infra::crypto::base64url_decode(pair.refresh_token)->size() == 32);
  CHECK(pair.refresh_expires_at == f.clock.now() + 14 * 24h);
  CHECK_FALSE(pair.family_id.empty());

  const auto auth = f.tokens.authenticate(pair.access_token);
  REQUIRE_MESSAGE(auth.ok(), to_string(auth.error));
  CHECK(auth.who.user_id == "user-alice");
  CHECK(auth.who.role == user_role::sales_rep);
  CHECK(auth.who.team_id == "team-1");
  CHECK_FALSE(auth.who.token_id.empty());
  CHECK(auth.who.expires_at == f.clock.now() + 15min);

  // Two logins: two sessions, distinct tokens.
  const auto again = f.tokens.issue(f.alice);
  CHECK(again.family_id != pair.family_id);
  CHECK(again.refresh_token != pair.refresh_token);
  CHECK(f.tokens.authenticate(again.access_token).who.token_id != auth.who.token_id);
}

TEST_CASE("access tokens expire; refusals carry the verifier's reason") {
  fixture f;
  const auto pair = f.tokens.issue(f.alice);
  f.clock.advance(15min + 30s - 1s);
  CHECK(f.tokens.authenticate(pair.access_token).ok());
  f.clock.advance(1s);
  const auto late = f.tokens.authenticate(pair.access_token);
  CHECK(late.error == jwt_error::expired);
  CHECK_FALSE(late.detail.empty());
  CHECK(f.tokens.authenticate("garbage").error == jwt_error::malformed);
  CHECK(f.tokens.authenticate(pair.refresh_token).error == jwt_error::malformed);
}

TEST_CASE("tokens from another issuer configuration are refused") {
  fixture f;
  token_options other;
  other.audience = "another-api";
  memory_refresh_token_store other_store;
  token_service foreign(jwt_keyset({kKey}), other, other_store, f.clock.fn());
  CHECK(f.tokens.authenticate(foreign.issue(f.alice).access_token).error ==
        jwt_error::wrong_audience);
}

TEST_CASE("refresh rotates: the new pair works, the old refresh token does not") {
  fixture f;
  const auto login = f.tokens.issue(f.alice);
  f.clock.advance(10min);
  const auto first = f.tokens.refresh(login.refresh_token, f.lookup());
  REQUIRE(first.status == refresh_status::ok);
  REQUIRE(first.tokens.has_value());
  CHECK(first.user_id == "user-alice");
  CHECK(first.tokens->family_id == login.family_id);
  CHECK(first.tokens->refresh_token != login.refresh_token);
  CHECK(f.tokens.authenticate(first.tokens->access_token).ok());

  SUBCASE("the chain goes on") {
    const auto second = f.tokens.refresh(first.tokens->refresh_token, f.lookup());
    CHECK(second.status == refresh_status::ok);
  }
  SUBCASE("reusing the old token is theft: the whole session ends") {
    const auto replay = f.tokens.refresh(login.refresh_token, f.lookup());
    CHECK(replay.status == refresh_status::reused);
    CHECK(replay.user_id == "user-alice");
    CHECK_FALSE(replay.tokens.has_value());
    // The legitimate holder's newer token is dead too.
    CHECK(f.tokens.refresh(first.tokens->refresh_token, f.lookup()).status ==
          refresh_status::revoked);
  }
  SUBCASE("the new access token carries the user's current role and team") {
    f.users[f.alice.user_id] = subject{f.alice.user_id, user_role::manager, "team-2"};
    const auto next = f.tokens.refresh(first.tokens->refresh_token, f.lookup());
    REQUIRE(next.status == refresh_status::ok);
    const auto who = f.tokens.authenticate(next.tokens->access_token).who;
    CHECK(who.role == user_role::manager);
    CHECK(who.team_id == "team-2");
  }
  SUBCASE("a user who is gone ends the session") {
    f.users.clear();
    const auto next = f.tokens.refresh(first.tokens->refresh_token, f.lookup());
    CHECK(next.status == refresh_status::user_gone);
    f.users[f.alice.user_id] = f.alice;  // even if they come back, that session is over
    CHECK(f.tokens.refresh(first.tokens->refresh_token, f.lookup()).status ==
          refresh_status::revoked);
  }
  SUBCASE("a failing user lookup leaves the token usable for a retry") {
    const subject_lookup broken = [](std::string_view) -> std::optional<subject> {
      throw std::runtime_error("read model unavailable");
    };
    CHECK_THROWS_AS(f.tokens.refresh(first.tokens->refresh_token, broken), std::runtime_error);
    CHECK(f.tokens.refresh(first.tokens->refresh_token, f.lookup()).status == refresh_status::ok);
  }
}

TEST_CASE("refresh tokens expire when idle, sessions when old") {
  fixture f;
  SUBCASE("idle for the refresh lifetime") {
    const auto login = f.tokens.issue(f.alice);
    f.clock.advance(14 * 24h);
    CHECK(f.tokens.refresh(login.refresh_token, f.lookup()).status == refresh_status::expired);
  }
  SUBCASE("refreshed often, the session still ends after its lifetime") {
    auto current = f.tokens.issue(f.alice).refresh_token;
    for (int day = 1; day < 30; ++day) {
      f.clock.advance(24h);
      const auto r = f.tokens.refresh(current, f.lookup());
      REQUIRE(r.status == refresh_status::ok);
      current = r.tokens->refresh_token;
      CHECK(r.tokens->refresh_expires_at <= f.clock.now() + 24h * (30 - day));
    }
    f.clock.advance(24h);
    CHECK(f.tokens.refresh(current, f.lookup()).status == refresh_status::expired);
  }
}

TEST_CASE("malformed and unknown refresh tokens are invalid") {
  fixture f;
  for (const auto* token : {"", "short", "not base64 but forty three characters long...",
                            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    CAPTURE(token);
    const auto r = f.tokens.refresh(token, f.lookup());
    CHECK(r.status == refresh_status::invalid);
    CHECK(r.user_id.empty());
    CHECK_FALSE(f.tokens.logout(token));
  }
}

TEST_CASE("logout ends the session; other sessions of the user live on") {
  fixture f;
  const auto laptop = f.tokens.issue(f.alice);
  const auto phone = f.tokens.issue(f.alice);
  const auto rotated = f.tokens.refresh(laptop.refresh_token, f.lookup());
  REQUIRE(rotated.status == refresh_status::ok);
  // Logging out with any token of the session, even an old one, ends it.
  CHECK(f.tokens.logout(laptop.refresh_token));
  CHECK(f.tokens.refresh(rotated.tokens->refresh_token, f.lookup()).status ==
        refresh_status::revoked);
  CHECK(f.tokens.refresh(phone.refresh_token, f.lookup()).status == refresh_status::ok);
}

TEST_CASE("revoking a user ends all their sessions") {
  fixture f;
  const auto a = f.tokens.issue(f.alice);
  const auto b = f.tokens.issue(f.alice);
  CHECK(f.tokens.revoke_user(f.alice.user_id) == 2);
  CHECK(f.tokens.refresh(a.refresh_token, f.lookup()).status == refresh_status::revoked);
  CHECK(f.tokens.refresh(b.refresh_token, f.lookup()).status == refresh_status::revoked);
}

TEST_CASE("purging forgets sessions that ended long enough ago") {
  fixture f;
  const auto old = f.tokens.issue(f.alice);
  f.clock.advance(30 * 24h + 7 * 24h);
  CHECK(f.tokens.purge_expired() == 0);
  f.clock.advance(1s);
  CHECK(f.tokens.purge_expired() == 1);
  CHECK(f.tokens.refresh(old.refresh_token, f.lookup()).status == refresh_status::invalid);
}

TEST_CASE("token options are validated") {
  testing::fake_clock clock;
  memory_refresh_token_store store;
  const jwt_keyset keys({kKey});
  token_options o;
  o.access_ttl = 0s;
  CHECK_THROWS_AS(token_service(keys, o, store, clock.fn()), std::invalid_argument);
  o = {};
  o.refresh_ttl = o.session_lifetime + 1s;
  CHECK_THROWS_AS(token_service(keys, o, store, clock.fn()), std::invalid_argument);
  o = {};
  o.issuer = "";
  CHECK_THROWS_AS(token_service(keys, o, store, clock.fn()), std::invalid_argument);
  fixture f;
  CHECK_THROWS_AS(f.tokens.issue(subject{}), std::invalid_argument);
}
