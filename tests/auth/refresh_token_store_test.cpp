// The refresh token store contract, run against every implementation: in memory, SQLite and
// PostgreSQL (REALMKIT_TEST_POSTGRES_URL). Rotation, reuse detection, expiry, revocation,
// purging, and concurrent use of one token.
#include "api/auth/refresh_token_store.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/auth/memory_refresh_token_store.hpp"
#include "api/auth/postgres_refresh_token_store.hpp"
#include "api/auth/sqlite_refresh_token_store.hpp"
#include "infra/crypto/mac.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"
#include "tests/auth/auth_test_support.hpp"
#include "tests/infra/postgres_test_support.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::api::auth;
using namespace std::chrono_literals;

namespace {

// Each backend makes a fresh, empty store; `second()` opens another store on the same data
// (another process's view), or returns the same store where there is no such thing.
struct memory_backend {
  static constexpr const char* kName = "memory";
  std::unique_ptr<memory_refresh_token_store> store =
      std::make_unique<memory_refresh_token_store>();
  refresh_token_store& first() { return *store; }
  refresh_token_store& second() { return *store; }
};

struct sqlite_backend {
  static constexpr const char* kName = "sqlite";
  testing::temp_dir dir;
  sqlite_refresh_token_store a{{dir.path() / "data" / "realmkit.db"}};
  sqlite_refresh_token_store b{{dir.path() / "data" / "realmkit.db"}};
  refresh_token_store& first() { return a; }
  refresh_token_store& second() { return b; }
};

struct postgres_backend {
  static constexpr const char* kName = "postgres";
  infra::postgres_store_options options = testing::fresh_postgres_options();
  postgres_refresh_token_store a{options};
  postgres_refresh_token_store b{shared(options)};
  refresh_token_store& first() { return a; }
  refresh_token_store& second() { return b; }

  static infra::postgres_store_options shared(infra::postgres_store_options o) {
    o.drop_schema_on_close = false;  // the first store drops it
    return o;
  }
};

const timestamp kT0{std::chrono::seconds{1'735'689'600}};

std::string hash_of(std::string_view token) {
  return infra::crypto::sha256_hex(token);
}

refresh_token_record first_of_family(std::string token, std::string family, std::string user,
                                     timestamp now = kT0) {
  refresh_token_record r;
  r.token_hash = hash_of(token);
  r.family_id = std::move(family);
  r.user_id = std::move(user);
  r.issued_at = now;
  r.expires_at = now + 24h;
  r.family_expires_at = now + 72h;
  return r;
}

}  // namespace

TEST_CASE_TEMPLATE("refresh token store contract", B, memory_backend, sqlite_backend,
                   postgres_backend) {
  const std::string backend_name = B::kName;
  CAPTURE(backend_name);
  B backend;
  refresh_token_store& store = backend.first();
  const auto login = first_of_family("t1", "family-1", "user-1");
  store.insert(login);

  SUBCASE("an inserted token is found as stored, an unknown one is not") {
    const auto found = store.find(hash_of("t1"));
    REQUIRE(found.has_value());
    CHECK(*found == login);
    CHECK_FALSE(store.find(hash_of("nope")).has_value());
    CHECK_THROWS_AS(store.insert(login), std::invalid_argument);
    CHECK(*store.find(hash_of("t1")) == login);
  }

  SUBCASE("rotation revokes the presented token and stores its successor in the family") {
    const auto now = kT0 + 1h;
    const auto r = store.rotate(hash_of("t1"), hash_of("t2"), now + 24h, now);
    REQUIRE(r.status == rotate_status::rotated);
    REQUIRE(r.record.has_value());
    CHECK(r.record->token_hash == hash_of("t2"));
    CHECK(r.record->family_id == "family-1");
    CHECK(r.record->user_id == "user-1");
    CHECK(r.record->issued_at == now);
    CHECK(r.record->expires_at == now + 24h);
    CHECK(r.record->family_expires_at == login.family_expires_at);
    CHECK_FALSE(r.record->revoked_at.has_value());
    CHECK(*store.find(hash_of("t2")) == *r.record);

    const auto old = store.find(hash_of("t1"));
    REQUIRE(old.has_value());
    CHECK(old->revoked_at == now);
    CHECK(old->revoked_reason == revoke_reason::rotated);
    CHECK(old->replaced_by == hash_of("t2"));

    SUBCASE("the successor rotates in turn") {
      const auto r3 = store.rotate(hash_of("t2"), hash_of("t3"), now + 25h, now + 1h);
      CHECK(r3.status == rotate_status::rotated);
      CHECK(r3.record->family_id == "family-1");
    }
    SUBCASE("presenting the rotated token again revokes the whole family") {
      const auto again = store.rotate(hash_of("t1"), hash_of("t3"), now + 24h, now + 1min);
      CHECK(again.status == rotate_status::reused);
      REQUIRE(again.record.has_value());
      CHECK(again.record->token_hash == hash_of("t1"));
      CHECK_FALSE(store.find(hash_of("t3")).has_value());  // no successor was made
      const auto successor = store.find(hash_of("t2"));
      CHECK(successor->revoked_at == now + 1min);
      CHECK(successor->revoked_reason == revoke_reason::reuse);
      // The thief's copy and the victim's copy are both dead now.
      CHECK(store.rotate(hash_of("t2"), hash_of("t4"), now + 24h, now + 2min).status ==
            rotate_status::revoked);
      CHECK(store.rotate(hash_of("t1"), hash_of("t4"), now + 24h, now + 2min).status ==
            rotate_status::reused);
      CHECK_FALSE(store.find(hash_of("t4")).has_value());
    }
  }

  SUBCASE("a successor never outlives its family") {
    auto late = first_of_family("t9", "family-9", "user-1");
    late.expires_at = late.family_expires_at;
    store.insert(late);
    const auto now = kT0 + 60h;
    const auto r = store.rotate(hash_of("t9"), hash_of("t10"), now + 24h, now);
    REQUIRE(r.status == rotate_status::rotated);
    CHECK(r.record->expires_at == late.family_expires_at);
  }

  SUBCASE("an expired token changes nothing") {
    CHECK(store.rotate(hash_of("t1"), hash_of("t2"), kT0 + 48h, kT0 + 24h).status ==
          rotate_status::expired);
    CHECK(store.rotate(hash_of("t1"), hash_of("t2"), kT0 + 48h, kT0 + 24h - 1us).status ==
          rotate_status::rotated);
  }

  SUBCASE("an expired family changes nothing, even for a live token") {
    auto long_lived = first_of_family("t9", "family-9", "user-1");
    long_lived.expires_at = kT0 + 100h;
    store.insert(long_lived);
    const auto r = store.rotate(hash_of("t9"), hash_of("t10"), kT0 + 200h, kT0 + 72h);
    CHECK(r.status == rotate_status::expired);
    CHECK_FALSE(store.find(hash_of("t9"))->revoked_at.has_value());
    CHECK_FALSE(store.find(hash_of("t10")).has_value());
  }

  SUBCASE("an unknown token changes nothing") {
    const auto r = store.rotate(hash_of("never issued"), hash_of("t2"), kT0 + 24h, kT0);
    CHECK(r.status == rotate_status::not_found);
    CHECK_FALSE(r.record.has_value());
    CHECK_FALSE(store.find(hash_of("t2")).has_value());
  }

  SUBCASE("logout revokes every live token of the family and only that family") {
    store.rotate(hash_of("t1"), hash_of("t2"), kT0 + 25h, kT0 + 1h);
    store.insert(first_of_family("other", "family-2", "user-1"));
    CHECK(store.revoke_family("family-1", revoke_reason::logout, kT0 + 2h) == 1);
    CHECK(store.find(hash_of("t2"))->revoked_reason == revoke_reason::logout);
    CHECK(store.find(hash_of("t1"))->revoked_reason == revoke_reason::rotated);  // unchanged
    CHECK(store.rotate(hash_of("t2"), hash_of("t3"), kT0 + 26h, kT0 + 3h).status ==
          rotate_status::revoked);
    CHECK_FALSE(store.find(hash_of("other"))->revoked_at.has_value());
    CHECK(store.revoke_family("family-1", revoke_reason::logout, kT0 + 4h) == 0);
    CHECK(store.revoke_family("no-such-family", revoke_reason::logout, kT0 + 4h) == 0);
  }

  SUBCASE("revoking a user ends all of their families") {
    store.insert(first_of_family("t2", "family-2", "user-1"));
    store.insert(first_of_family("u1", "family-3", "user-2"));
    CHECK(store.revoke_user("user-1", kT0 + 1h) == 2);
    CHECK(store.find(hash_of("t1"))->revoked_reason == revoke_reason::user);
    CHECK(store.find(hash_of("t2"))->revoked_reason == revoke_reason::user);
    CHECK_FALSE(store.find(hash_of("u1"))->revoked_at.has_value());
    CHECK(store.revoke_user("user-1", kT0 + 2h) == 0);
  }

  SUBCASE("purging removes ended families only") {
    store.rotate(hash_of("t1"), hash_of("t2"), kT0 + 25h, kT0 + 1h);
    auto later = first_of_family("late", "family-2", "user-2", kT0 + 10h);
    store.insert(later);
    CHECK(store.purge_expired(kT0 + 72h) == 0);  // family-1 ends exactly then: not before
    CHECK(store.purge_expired(kT0 + 72h + 1us) == 2);
    CHECK_FALSE(store.find(hash_of("t1")).has_value());
    CHECK_FALSE(store.find(hash_of("t2")).has_value());
    CHECK(store.find(hash_of("late")).has_value());
  }

  SUBCASE("what one store instance writes, another sees") {
    refresh_token_store& other = backend.second();
    const auto r = other.rotate(hash_of("t1"), hash_of("t2"), kT0 + 25h, kT0 + 1h);
    CHECK(r.status == rotate_status::rotated);
    CHECK(store.rotate(hash_of("t1"), hash_of("t3"), kT0 + 25h, kT0 + 2h).status ==
          rotate_status::reused);
    CHECK(other.find(hash_of("t2"))->revoked_reason == revoke_reason::reuse);
  }

  SUBCASE("one token presented concurrently is exchanged exactly once") {
    // Eight callers race with the same token, half through a second store instance (another
    // connection or process). One wins; every other one sees a rotated token, so the family ends.
    constexpr int kCallers = 8;
    std::vector<rotate_status> results(kCallers);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kCallers; ++i) {
      threads.emplace_back([&, i] {
        refresh_token_store& s = i % 2 ? backend.second() : backend.first();
        ++ready;
        while (ready.load() < kCallers) std::this_thread::yield();
        results[i] =
            s.rotate(hash_of("t1"), hash_of("next-" + std::to_string(i)), kT0 + 25h, kT0 + 1h)
                .status;
      });
    }
    for (auto& t : threads) t.join();
    std::map<rotate_status, int> counts;
    for (auto r : results) ++counts[r];
    CHECK(counts[rotate_status::rotated] == 1);
    CHECK(counts[rotate_status::reused] == kCallers - 1);
    int live = 0;
    for (int i = 0; i < kCallers; ++i) {
      const auto successor = store.find(hash_of("next-" + std::to_string(i)));
      if (successor) {
        CHECK(successor->revoked_reason == revoke_reason::reuse);
        ++live;
      }
    }
    CHECK(live == 1);
  }
}

TEST_CASE("the SQLite store shares the event store's database file") {
  testing::temp_dir dir;
  const auto path = dir.path() / "realmkit.db";
  infra::sqlite_store_options options;
  options.path = path;
  infra::sqlite_event_store events(options);
  sqlite_refresh_token_store tokens({path, /*migrate_on_open=*/false});
  tokens.insert(first_of_family("t1", "family-1", "user-1"));
  CHECK(tokens.find(hash_of("t1")).has_value());
  CHECK(events.schema_version() >= 2);
}

TEST_CASE("the SQLite store refuses a database it may not migrate") {
  testing::temp_dir dir;
  CHECK_THROWS_AS(sqlite_refresh_token_store({dir.path() / "empty.db", false}), infra::store_error);
}

TEST_CASE("the PostgreSQL store creates its table in the configured schema") {
  const auto options = testing::fresh_postgres_options();
  postgres_refresh_token_store tokens(options);
  tokens.insert(first_of_family("t1", "family-1", "user-1"));
  CHECK(testing::postgres_query_value(options.schema, "SELECT count(*) FROM refresh_tokens") ==
        "1");
  // Only the digest is stored: the token text appears nowhere.
  CHECK(testing::postgres_query_value(options.schema, "SELECT token_hash FROM refresh_tokens") ==
        hash_of("t1"));
}

TEST_CASE("the PostgreSQL store reports an unreachable server as store_unavailable") {
  infra::postgres_store_options options;
  options.url = "postgresql://postgres@127.0.0.1:1/postgres";
  options.schema = "rk_unreachable";
  options.connect_timeout = 2s;
  CHECK_THROWS_AS(postgres_refresh_token_store{options}, infra::store_unavailable);
}
