// Revoked sessions and users shared through Redis: what another process sees, expiry, the cache,
// and "unknown" while Redis is down.
#include "infra/redis/redis_revocations.hpp"

#include <doctest/doctest.h>

#include "infra/redis/redis_connection.hpp"
#include "tests/infra/redis_test_support.hpp"

namespace rr = realmkit::infra::redis;
using realmkit::testing::eventually;
using realmkit::testing::redis_test_url;
using realmkit::testing::unique_redis_name;
using rr::revocation_status;
using namespace std::chrono_literals;

namespace {

rr::redis_revocations_options options_for(const std::string& url,
                                          std::chrono::milliseconds cache_ttl = 0ms) {
  rr::redis_revocations_options o;
  o.url = url;
  o.cache_ttl = cache_ttl;
  return o;
}

constexpr std::chrono::sys_seconds at(std::int64_t seconds) {
  return std::chrono::sys_seconds{std::chrono::seconds{seconds}};
}

}  // namespace

TEST_CASE("redis revocations: a revoked session is refused by another process") {
  rr::redis_revocations a(options_for(redis_test_url()));
  rr::redis_revocations b(options_for(redis_test_url()));
  const auto family = unique_redis_name("fam-");
  const auto other = unique_redis_name("fam-");
  CHECK(b.is_revoked(family, "", at(1000)) == revocation_status::not_revoked);
  a.revoke_session(family, 900s);
  CHECK(b.is_revoked(family, "", at(1000)) == revocation_status::revoked);
  CHECK(b.is_revoked(family, unique_redis_name("u-"), at(1000)) == revocation_status::revoked);
  CHECK(b.is_revoked(other, "", at(1000)) == revocation_status::not_revoked);
  rr::redis_connection c({rr::parse_redis_url(redis_test_url())});
  const auto ttl = c.command({"TTL", "realmkit:revoked:session:" + family}).integer;
  CHECK(ttl <= 900);
  CHECK(ttl > 890);
}

TEST_CASE("redis revocations: a user's revocation refuses tokens issued at or before it") {
  rr::redis_revocations a(options_for(redis_test_url()));
  rr::redis_revocations b(options_for(redis_test_url()));
  const auto user = unique_redis_name("u-");
  const auto family = unique_redis_name("fam-");
  a.revoke_user(user, at(1'764'300'000), 900s);
  CHECK(b.is_revoked(family, user, at(1'764'299'999)) == revocation_status::revoked);
  CHECK(b.is_revoked(family, user, at(1'764'300'000)) == revocation_status::revoked);
  CHECK(b.is_revoked(family, user, at(1'764'300'001)) == revocation_status::not_revoked);
  CHECK(b.is_revoked("", unique_redis_name("u-"), at(1)) == revocation_status::not_revoked);
  // An older revocation arriving late does not move the time back.
  b.revoke_user(user, at(1'764'000'000), 60s);
  rr::redis_connection c({rr::parse_redis_url(redis_test_url())});
  const auto key = "realmkit:revoked:user:" + user;
  CHECK(c.command({"GET", key}).str == "1764300000");
  CHECK(c.command({"TTL", key}).integer > 890);
  CHECK(a.is_revoked("", user, at(1'764'300'000)) == revocation_status::revoked);
  // A newer one does.
  b.revoke_user(user, at(1'764'300'100), 60s);
  CHECK(a.is_revoked("", user, at(1'764'300'050)) == revocation_status::revoked);
}

TEST_CASE("redis revocations: revocations expire with their ttl") {
  rr::redis_revocations r(options_for(redis_test_url()));
  const auto family = unique_redis_name("fam-");
  const auto user = unique_redis_name("u-");
  r.revoke_session(family, 1s);
  r.revoke_user(user, at(500), 1s);
  CHECK(r.is_revoked(family, "", at(100)) == revocation_status::revoked);
  CHECK(r.is_revoked("", user, at(100)) == revocation_status::revoked);
  CHECK(eventually(
      [&] { return r.is_revoked(family, user, at(100)) == revocation_status::not_revoked; }, 3s));
}

TEST_CASE("redis revocations: revoked answers are cached, not-revoked answers are not") {
  rr::redis_revocations cached(options_for(redis_test_url(), 10s));
  rr::redis_revocations uncached(options_for(redis_test_url()));
  const auto family = unique_redis_name("fam-");
  CHECK(cached.is_revoked(family, "", at(100)) == revocation_status::not_revoked);
  uncached.revoke_session(family, 60s);
  // Not cached as not revoked: the revocation by another process is seen at once.
  CHECK(cached.is_revoked(family, "", at(100)) == revocation_status::revoked);
  rr::redis_connection c({rr::parse_redis_url(redis_test_url())});
  c.command({"DEL", "realmkit:revoked:session:" + family});
  CHECK(uncached.is_revoked(family, "", at(100)) == revocation_status::not_revoked);
  CHECK(cached.is_revoked(family, "", at(100)) == revocation_status::revoked);
}

TEST_CASE("redis revocations: unknown while Redis is down, and revoking throws") {
  realmkit::testing::private_redis_server server;
  rr::redis_revocations r(options_for(server.url(), 10s));
  const auto revoked_family = unique_redis_name("fam-");
  r.revoke_session(revoked_family, 60s);
  CHECK(r.is_revoked("fam-other", "u-1", at(100)) == revocation_status::not_revoked);

  server.stop();
  CHECK(r.is_revoked("fam-other", "u-1", at(100)) == revocation_status::unknown);
  // What the cache knows to be revoked stays revoked.
  CHECK(r.is_revoked(revoked_family, "u-1", at(100)) == revocation_status::revoked);
  CHECK_THROWS_AS(r.revoke_session("fam-x", 60s), rr::redis_unavailable);
  CHECK_THROWS_AS(r.revoke_user("u-1", at(100), 60s), rr::redis_unavailable);

  server.start();
  CHECK(r.is_revoked("fam-other", "u-1", at(100)) == revocation_status::not_revoked);
}

TEST_CASE("redis revocations: empty ids and a zero ttl are refused") {
  rr::redis_revocations r(options_for(redis_test_url()));
  CHECK_THROWS_AS(r.revoke_session("", 60s), std::invalid_argument);
  CHECK_THROWS_AS(r.revoke_user("", at(1), 60s), std::invalid_argument);
  CHECK_THROWS_AS(r.revoke_session("fam", 0s), std::invalid_argument);
  CHECK(r.is_revoked("", "", at(1)) == revocation_status::not_revoked);
}
