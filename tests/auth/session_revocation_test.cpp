// Access tokens name their session (sid), and a revocation list shared by API processes refuses
// the tokens of a logged-out session or a revoked user before they expire; an unreachable list
// fails closed without blaming the token, and never stops a logout.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "api/auth/jwt.hpp"
#include "api/auth/memory_refresh_token_store.hpp"
#include "api/auth/token_service.hpp"
#include "tests/auth/auth_test_support.hpp"
#include "tests/auth/fake_revocation_list.hpp"

using namespace realmkit;
using namespace realmkit::api::auth;
using namespace std::chrono_literals;
using domain::user_role;

namespace {

const jwt_key kKey{"k1", std::string(32, 'k')};

// Two API processes: each its own token service, sharing the refresh token store (the database)
// and the revocation list (Redis).
struct two_processes {
  testing::fake_clock clock;
  memory_refresh_token_store store;
  testing::fake_revocation_list revocations;
  token_service a{jwt_keyset({kKey}), token_options{}, store, clock.fn(), &revocations};
  token_service b{jwt_keyset({kKey}), token_options{}, store, clock.fn(), &revocations};
  subject alice{"user-alice", user_role::sales_rep, "team-1"};

  subject_lookup lookup() {
    return [this](std::string_view id) -> std::optional<subject> {
      if (id != alice.user_id) return std::nullopt;
      return alice;
    };
  }
};

jwt_verifier verifier_for(const testing::fake_clock& clock) {
  return jwt_verifier(jwt_keyset({kKey}), {"realmkit", "realmkit-api", 30s}, clock.fn());
}

// A token as token services issued them before access tokens named their session.
std::string token_without_sid(const testing::fake_clock& clock, const std::string& user) {
  jwt_claims c;
  c.issuer = "realmkit";
  c.subject = user;
  c.audience = {"realmkit-api"};
  c.issued_at = std::chrono::floor<std::chrono::seconds>(clock.now());
  c.expires_at = c.issued_at + 15min;
  c.token_id = "old-token";
  c.role = user_role::sales_rep;
  return sign_jwt(c, kKey);
}

std::string payload_with_sid(const std::string& sid_json) {
  constexpr std::int64_t kNow = 1'735'689'600;  // fake_clock's start
  return testing::claims_json({{"iss", "\"realmkit\""},
                               {"sub", "\"user-1\""},
                               {"aud", "\"realmkit-api\""},
                               {"exp", std::to_string(kNow + 900)},
                               {"iat", std::to_string(kNow)},
                               {"jti", "\"token-1\""},
                               {"role", "\"sales_rep\""}},
                              {{"sid", sid_json}});
}

}  // namespace

TEST_CASE("sid: issued and refreshed access tokens name their session") {
  two_processes p;
  const auto login = p.a.issue(p.alice);
  const auto verified = verifier_for(p.clock).verify(login.access_token);
  REQUIRE(verified.ok());
  CHECK(verified.claims.session_id == login.family_id);
  const auto who = p.a.authenticate(login.access_token);
  REQUIRE_MESSAGE(who.ok(), to_string(who.error));
  CHECK(who.who.session_id == login.family_id);

  p.clock.advance(5min);
  const auto refreshed = p.b.refresh(login.refresh_token, p.lookup());
  REQUIRE(refreshed.status == refresh_status::ok);
  CHECK(verifier_for(p.clock).verify(refreshed.tokens->access_token).claims.session_id ==
        login.family_id);
  CHECK(p.a.authenticate(refreshed.tokens->access_token).who.session_id == login.family_id);
  // Another login is another session.
  CHECK(p.a.authenticate(p.a.issue(p.alice).access_token).who.session_id != login.family_id);
}

TEST_CASE("sid: parsed strictly, and optional") {
  testing::fake_clock clock;
  const auto verifier = verifier_for(clock);
  const auto sign = [](const std::string& payload) {
    return detail::sign_compact(R"({"alg":"HS256","typ":"JWT","kid":"k1"})", payload, kKey.secret);
  };
  const auto good = verifier.verify(sign(payload_with_sid("\"fam-1\"")));
  REQUIRE(good.ok());
  CHECK(good.claims.session_id == "fam-1");
  const auto absent = verifier.verify(sign(payload_with_sid("")));
  REQUIRE(absent.ok());
  CHECK_FALSE(absent.claims.session_id.has_value());
  for (const auto* bad : {"42", "null", "[\"fam-1\"]", "{}", "true", "\"\""}) {
    CAPTURE(bad);
    CHECK(verifier.verify(sign(payload_with_sid(bad))).error == jwt_error::bad_claim_type);
  }
  // Written by sign_jwt only when set.
  jwt_claims c = verifier.verify(sign(payload_with_sid(""))).claims;
  CHECK(verifier.verify(sign_jwt(c, kKey)).claims == c);
  c.session_id = "fam-2";
  CHECK(verifier.verify(sign_jwt(c, kKey)).claims == c);
}

TEST_CASE("a token without sid, issued before the upgrade, is valid until it expires") {
  two_processes p;
  const auto old = token_without_sid(p.clock, p.alice.user_id);
  const auto who = p.a.authenticate(old);
  REQUIRE_MESSAGE(who.ok(), who.detail);
  CHECK(who.who.user_id == p.alice.user_id);
  CHECK_FALSE(who.who.session_id.has_value());
  // No session to log out, but the user's revocation still reaches it.
  p.clock.advance(1s);
  p.a.revoke_user(p.alice.user_id);
  CHECK(p.b.authenticate(old).error == jwt_error::revoked);
}

TEST_CASE("logout in one process refuses the session's access token in another") {
  two_processes p;
  const auto laptop = p.a.issue(p.alice);
  const auto phone = p.a.issue(p.alice);
  REQUIRE(p.b.authenticate(laptop.access_token).ok());

  CHECK(p.a.logout(laptop.refresh_token));
  const auto refused = p.b.authenticate(laptop.access_token);
  CHECK(refused.error == jwt_error::revoked);
  CHECK_FALSE(refused.ok());
  CHECK_FALSE(refused.unavailable());
  CHECK(to_string(refused.error) == "revoked");
  CHECK(p.a.authenticate(laptop.access_token).error == jwt_error::revoked);
  // Kept as long as a token of the session could still verify: its lifetime and the leeway.
  CHECK(p.revocations.last_ttl() == 15min + 30s);
  // The user's other session is untouched.
  CHECK(p.b.authenticate(phone.access_token).ok());
}

TEST_CASE("a user's revocation refuses the tokens issued before it, not those after") {
  two_processes p;
  const auto before = p.a.issue(p.alice);
  p.clock.advance(10s);
  const auto same_second = p.a.issue(p.alice);
  p.clock.advance(200ms);
  CHECK(p.a.revoke_user(p.alice.user_id) == 2);
  CHECK(p.revocations.last_ttl() == 15min + 30s);
  CHECK(p.b.authenticate(before.access_token).error == jwt_error::revoked);
  // iat has whole seconds: a token of the revocation's second may predate it.
  CHECK(p.b.authenticate(same_second.access_token).error == jwt_error::revoked);

  p.clock.advance(1s);
  const auto after = p.b.issue(p.alice);
  CHECK(p.a.authenticate(after.access_token).ok());
  // Another user is not affected.
  CHECK(p.a.authenticate(p.a.issue({"user-bob", user_role::manager, {}}).access_token).ok());
}

TEST_CASE("an unreachable revocation list: tokens fail closed, but not as invalid tokens") {
  two_processes p;
  const auto login = p.a.issue(p.alice);
  p.revocations.set_down(true);
  const auto result = p.b.authenticate(login.access_token);
  CHECK_FALSE(result.ok());
  CHECK(result.unavailable());
  CHECK(result.error == jwt_error::revocation_unknown);
  CHECK(result.who.user_id.empty());
  CHECK_FALSE(result.detail.empty());
  // A bad token is refused for what it is, without asking the list.
  const int checks = p.revocations.checks();
  CHECK(p.b.authenticate("garbage").error == jwt_error::malformed);
  p.clock.advance(16min);
  CHECK(p.b.authenticate(login.access_token).error == jwt_error::expired);
  CHECK(p.revocations.checks() == checks);

  p.revocations.set_down(false);
  const auto fresh = p.a.issue(p.alice);
  CHECK(p.b.authenticate(fresh.access_token).ok());
}

TEST_CASE("logout and a user's revocation still end sessions when the list cannot store them") {
  two_processes p;
  const auto login = p.a.issue(p.alice);
  const auto other = p.a.issue(p.alice);
  p.revocations.set_down(true);
  // Neither throws: the sessions end in the refresh token store all the same.
  bool logged_out = false;
  CHECK_NOTHROW(logged_out = p.a.logout(login.refresh_token));
  CHECK(logged_out);
  CHECK(p.b.refresh(login.refresh_token, p.lookup()).status == refresh_status::revoked);
  std::size_t ended = 0;
  CHECK_NOTHROW(ended = p.a.revoke_user(p.alice.user_id));
  CHECK(ended == 1);
  CHECK(p.b.refresh(other.refresh_token, p.lookup()).status == refresh_status::revoked);

  // The documented cost: the access token lives on until it expires.
  p.revocations.set_down(false);
  CHECK_FALSE(p.revocations.session_revoked(login.family_id));
  CHECK(p.b.authenticate(login.access_token).ok());
  p.clock.advance(15min + 30s);
  CHECK(p.b.authenticate(login.access_token).error == jwt_error::expired);
}

TEST_CASE("without a revocation list, access tokens live until they expire, as before") {
  testing::fake_clock clock;
  memory_refresh_token_store store;
  token_service tokens(jwt_keyset({kKey}), token_options{}, store, clock.fn());
  const auto login = tokens.issue({"user-alice", user_role::sales_rep, {}});
  CHECK(tokens.logout(login.refresh_token));
  tokens.revoke_user("user-alice");
  const auto who = tokens.authenticate(login.access_token);
  REQUIRE(who.ok());
  CHECK(who.who.session_id == login.family_id);
}
