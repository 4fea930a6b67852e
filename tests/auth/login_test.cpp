// Login: lockout after repeated failures (the same for unknown accounts), its doubling and
// expiry, and the login service's answers, timing equalization and rehashing.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

#include "api/auth/login_lockout.hpp"
#include "api/auth/login_service.hpp"
#include "api/auth/memory_refresh_token_store.hpp"
#include "tests/auth/auth_test_support.hpp"

using namespace realmkit;
using namespace realmkit::api::auth;
using namespace std::chrono_literals;
using domain::user_role;

TEST_CASE("five failures within the window lock the account") {
  testing::fake_clock clock;
  memory_login_lockout lockout({}, clock.fn());
  for (int i = 0; i < 4; ++i) {
    lockout.record_failure("a@example.com");
    CHECK(lockout.locked_for("a@example.com") == 0s);
    clock.advance(1min);
  }
  lockout.record_failure("a@example.com");
  CHECK(lockout.locked_for("a@example.com") == 5min);
  CHECK(lockout.locked_for("b@example.com") == 0s);  // per account

  SUBCASE("the lock runs out") {
    clock.advance(5min - 1s);
    CHECK(lockout.locked_for("a@example.com") == 1s);
    clock.advance(1s);
    CHECK(lockout.locked_for("a@example.com") == 0s);
  }
  SUBCASE("failures while locked neither count nor extend the lock") {
    for (int i = 0; i < 20; ++i) lockout.record_failure("a@example.com");
    CHECK(lockout.locked_for("a@example.com") == 5min);
    clock.advance(5min);
    lockout.record_failure("a@example.com");
    CHECK(lockout.locked_for("a@example.com") == 0s);
  }
  SUBCASE("each further lock doubles, up to the maximum") {
    const std::chrono::seconds expected[] = {10min, 20min, 40min, 60min, 60min};
    for (const auto want : expected) {
      clock.advance(lockout.locked_for("a@example.com"));
      for (int i = 0; i < 5; ++i) lockout.record_failure("a@example.com");
      CHECK(lockout.locked_for("a@example.com") == want);
    }
  }
  SUBCASE("a successful login forgets the failures and the doubling") {
    clock.advance(5min);
    lockout.record_success("a@example.com");
    for (int i = 0; i < 4; ++i) lockout.record_failure("a@example.com");
    CHECK(lockout.locked_for("a@example.com") == 0s);
    lockout.record_failure("a@example.com");
    CHECK(lockout.locked_for("a@example.com") == 5min);  // not 10
  }
  SUBCASE("the doubling is forgotten after a quiet day") {
    clock.advance(24h);
    for (int i = 0; i < 5; ++i) lockout.record_failure("a@example.com");
    CHECK(lockout.locked_for("a@example.com") == 5min);
  }
}

TEST_CASE("failures spread wider than the window do not lock") {
  testing::fake_clock clock;
  memory_login_lockout lockout({}, clock.fn());
  for (int i = 0; i < 4; ++i) lockout.record_failure("a@example.com");
  clock.advance(15min);  // the window, counted from the first failure, is over
  lockout.record_failure("a@example.com");
  CHECK(lockout.locked_for("a@example.com") == 0s);
  for (int i = 0; i < 3; ++i) lockout.record_failure("a@example.com");
  CHECK(lockout.locked_for("a@example.com") == 0s);
  lockout.record_failure("a@example.com");  // five in the new window
  CHECK(lockout.locked_for("a@example.com") == 5min);
}

TEST_CASE("the lockout tracks a bounded number of accounts") {
  testing::fake_clock clock;
  lockout_policy policy;
  policy.max_tracked = 3;
  memory_login_lockout lockout(policy, clock.fn());
  for (int i = 0; i < 5; ++i) lockout.record_failure("victim");
  lockout.record_failure("x1");
  lockout.record_failure("x2");
  CHECK(lockout.tracked() == 3);
  CHECK(lockout.locked_for("victim") > 0s);
  lockout.record_failure("x3");  // evicts the least recently touched: victim
  CHECK(lockout.tracked() == 3);
  CHECK(lockout.locked_for("victim") == 0s);
}

TEST_CASE("lockout policies are validated") {
  lockout_policy p;
  p.max_failures = 0;
  CHECK_THROWS_AS(memory_login_lockout(p, {}), std::invalid_argument);
  p = {};
  p.max_lock = p.base_lock - 1s;
  CHECK_THROWS_AS(memory_login_lockout(p, {}), std::invalid_argument);
  p = {};
  p.window = 0s;
  CHECK_THROWS_AS(memory_login_lockout(p, {}), std::invalid_argument);
}

namespace {

const infra::crypto::password_hasher& hasher() {
  static const infra::crypto::password_hasher h;
  return h;
}

struct login_fixture {
  testing::fake_clock clock;
  memory_refresh_token_store store;
  token_service tokens{jwt_keyset({{"k1", std::string(32, 'k')}}), {}, store, clock.fn()};
  memory_login_lockout lockout{{}, clock.fn()};
  std::map<std::string, login_account, std::less<>> accounts;
  int lookups = 0;
  login_service logins{hasher(), tokens, lockout, [this](std::string_view email) {
                         ++lookups;
                         const auto it = accounts.find(email);
                         return it == accounts.end() ? std::nullopt : std::optional(it->second);
                       }};

  login_fixture() {
    accounts["alice@example.com"] = {"user-alice", hasher().hash("alice's long password"),
                                     user_role::manager, "team-1", true};
  }
};

}  // namespace

TEST_CASE("a correct password logs in; the e-mail is normalized") {
  login_fixture f;
  const auto r = f.logins.login("  Alice@Example.COM ", "alice's long password");
  REQUIRE(r.status == login_status::ok);
  CHECK(r.user_id == "user-alice");
  REQUIRE(r.tokens.has_value());
  CHECK_FALSE(r.new_password_hash.has_value());
  const auto who = f.tokens.authenticate(r.tokens->access_token);
  REQUIRE(who.ok());
  CHECK(who.who.user_id == "user-alice");
  CHECK(who.who.role == user_role::manager);
  CHECK(who.who.team_id == "team-1");
}

TEST_CASE("every wrong login gets the same answer") {
  login_fixture f;
  f.accounts["nopass@example.com"] = {"user-2", "", user_role::sales_rep, std::nullopt, true};
  f.accounts["gone@example.com"] = {"user-3", hasher().hash("a deactivated password"),
                                    user_role::sales_rep, std::nullopt, false};
  const std::pair<const char*, const char*> attempts[] = {
      {"alice@example.com", "wrong password!!"},
      {"nobody@example.com", "alice's long password"},
      {"nopass@example.com", ""},
      {"gone@example.com", "a deactivated password"},  // right password, deactivated user
      {"", "alice's long password"},
  };
  for (const auto& [email, password] : attempts) {
    CAPTURE(email);
    const auto r = f.logins.login(email, password);
    CHECK(r.status == login_status::invalid_credentials);
    CHECK_FALSE(r.tokens.has_value());
    CHECK(r.user_id.empty());
    CHECK(r.retry_after == 0s);
  }
  // An address too long to be anyone's is refused without a lookup.
  const int before = f.lookups;
  CHECK(f.logins.login(std::string(300, 'a') + "@example.com", "x").status ==
        login_status::invalid_credentials);
  CHECK(f.lookups == before);
}

TEST_CASE("repeated failures lock registered and unknown addresses alike") {
  login_fixture f;
  for (const auto* email : {"alice@example.com", "nobody@example.com"}) {
    CAPTURE(email);
    for (int i = 0; i < 5; ++i) {
      CHECK(f.logins.login(email, "not the password").status == login_status::invalid_credentials);
    }
    const auto locked = f.logins.login(email, "not the password");
    CHECK(locked.status == login_status::locked_out);
    CHECK(locked.retry_after == 5min);
  }
  // While locked even the right password is refused, without a lookup.
  const int before = f.lookups;
  CHECK(f.logins.login("ALICE@example.com", "alice's long password").status ==
        login_status::locked_out);
  CHECK(f.lookups == before);
  f.clock.advance(5min);
  CHECK(f.logins.login("alice@example.com", "alice's long password").status == login_status::ok);
}

TEST_CASE("a hash made with old parameters is upgraded at login") {
  login_fixture f;
  const infra::crypto::password_hasher old_hasher(infra::crypto::kOwaspMinimum);
  f.accounts["bob@example.com"] = {"user-bob", old_hasher.hash("bob's long password"),
                                   user_role::sales_rep, std::nullopt, true};
  const auto r = f.logins.login("bob@example.com", "bob's long password");
  REQUIRE(r.status == login_status::ok);
  REQUIRE(r.new_password_hash.has_value());
  CHECK(hasher().verify(*r.new_password_hash, "bob's long password"));
  CHECK_FALSE(hasher().needs_rehash(*r.new_password_hash));
}

TEST_CASE("an unknown account costs a password verification too") {
  // The dummy verification makes an unknown address about as slow as a wrong password. Timing
  // on shared cores is noisy, so each duration is the fastest of three runs (preemption only
  // ever adds time) and only the order of magnitude is checked: without the dummy verification
  // an unknown address would take microseconds, not a good fraction of a real verification.
  login_fixture f;
  const auto fastest = [](auto&& run) {
    auto best = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 3; ++i) {
      const auto start = std::chrono::steady_clock::now();
      run();
      best = std::min(best, std::chrono::steady_clock::now() - start);
    }
    return best;
  };
  const auto& stored = f.accounts["alice@example.com"].password_hash;
  const auto one_verify = fastest([&] { CHECK_FALSE(hasher().verify(stored, "x")); });
  const auto unknown =
      fastest([&] { (void)f.logins.login("nobody@example.com", "some wrong password"); });
  const auto wrong =
      fastest([&] { (void)f.logins.login("alice@example.com", "some wrong password"); });
  CHECK(unknown > one_verify / 3);
  CHECK(wrong > one_verify / 3);
}
