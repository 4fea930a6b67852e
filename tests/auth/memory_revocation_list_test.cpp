// The in-memory revocation list: a revoked session or user is refused until the entry's ttl ends,
// tokens issued after a user's revocation are not, and expired entries are purged.
#include "api/auth/memory_revocation_list.hpp"

#include <doctest/doctest.h>

#include "tests/auth/auth_test_support.hpp"

using namespace realmkit;
using api::auth::revocation_status;
using std::chrono::seconds;

TEST_CASE("memory revocation list: sessions and users, within their ttl") {
  testing::fake_clock clock;
  api::auth::memory_revocation_list list(clock.fn());
  const auto now = std::chrono::floor<seconds>(clock.now());

  CHECK(list.check("family-1", "user-1", now) == revocation_status::not_revoked);
  list.revoke_session("family-1", seconds(60));
  CHECK(list.check("family-1", "user-1", now) == revocation_status::revoked);
  CHECK(list.check("family-2", "user-1", now) == revocation_status::not_revoked);
  CHECK(list.check("", "user-1", now) == revocation_status::not_revoked);

  list.revoke_user("user-2", now, seconds(60));
  CHECK(list.check("family-9", "user-2", now) == revocation_status::revoked);  // same second
  CHECK(list.check("", "user-2", now - seconds(30)) == revocation_status::revoked);
  CHECK(list.check("", "user-2", now + seconds(1)) == revocation_status::not_revoked);
  // An older revocation arriving late does not move the line back.
  list.revoke_user("user-2", now - seconds(10), seconds(60));
  CHECK(list.check("", "user-2", now) == revocation_status::revoked);

  clock.advance(seconds(61));
  CHECK(list.check("family-1", "user-1", now) == revocation_status::not_revoked);
  CHECK(list.check("", "user-2", now) == revocation_status::not_revoked);

  // Expired entries go once the list has grown enough to be worth a sweep.
  for (int i = 0; i < 3000; ++i) list.revoke_session("f-" + std::to_string(i), seconds(1));
  clock.advance(seconds(2));
  for (int i = 0; i < 3000; ++i) list.revoke_session("g-" + std::to_string(i), seconds(60));
  CHECK(list.size() < 4000);
}
