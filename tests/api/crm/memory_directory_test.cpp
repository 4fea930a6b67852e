// The memory read side on both store backends: catch-up and live updates, the e-mail index and
// team lookups, team scope in lists, and what it does when the store fails under it.
#include "api/crm/memory_directory.hpp"

#include <doctest/doctest.h>

#include <atomic>

#include "commands/crm_commands.hpp"
#include "tests/api/test_client.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using testing::postgres_backend;
using testing::sqlite_backend;
using namespace std::chrono_literals;

namespace {

// Delegates to a real store; read_all fails while `failures` is above zero, as a store whose
// database went away would.
class flaky_store final : public infra::event_store {
 public:
  explicit flaky_store(infra::event_store& inner) : inner_(inner) {}
  std::atomic<int> failures{0};

  infra::append_result append(std::span<const infra::stream_write> writes,
                              const std::optional<infra::idempotency_key>& key) override {
    return inner_.append(writes, key);
  }
  std::optional<infra::append_result> find_idempotent(const infra::idempotency_key& key) override {
    return inner_.find_idempotent(key);
  }
  std::vector<infra::recorded_event> read_stream(std::string_view stream_id,
                                                 std::int64_t from_version,
                                                 std::size_t max) override {
    return inner_.read_stream(stream_id, from_version, max);
  }
  std::int64_t stream_version(std::string_view stream_id) override {
    return inner_.stream_version(stream_id);
  }
  std::vector<infra::recorded_event> read_all(std::int64_t after, std::size_t max) override {
    if (failures.load() > 0) {
      --failures;
      throw infra::store_unavailable("the database went away");
    }
    return inner_.read_all(after, max);
  }
  std::int64_t head_position() override { return inner_.head_position(); }
  void wait_for_append(std::int64_t position, std::chrono::milliseconds timeout) override {
    inner_.wait_for_append(position, timeout);
  }

 private:
  infra::event_store& inner_;
};

commands::command_metadata system_meta() {
  commands::command_metadata meta;
  meta.actor = domain::user_id{"system"};
  return meta;
}

void register_user(commands::command_handler& handler, const std::string& id,
                   const std::string& email) {
  domain::register_user c;
  c.user = domain::user_id{id};
  c.email = email;
  c.display_name = id;
  c.role = domain::user_role::manager;
  c.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
  REQUIRE(commands::execute(handler, domain::user_command{c}, system_meta()).ok());
}

}  // namespace

TEST_CASE_TEMPLATE("the memory read side catches up with a store, then follows it", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  commands::command_handler handler(*store);
  commands::command_metadata meta;
  meta.actor = domain::user_id{"system"};
  auto register_user = [&](const std::string& id, const std::string& email) {
    domain::register_user c;
    c.user = domain::user_id{id};
    c.email = email;
    c.display_name = id;
    c.role = domain::user_role::manager;
    c.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
    REQUIRE(commands::execute(handler, domain::user_command{c}, meta).ok());
  };
  register_user("u1", "one@example.com");
  REQUIRE(commands::execute(handler,
                            domain::team_command{domain::create_team{domain::team_id{"t1"}, "Team",
                                                                     domain::user_id{"u1"}}},
                            meta)
              .ok());

  api::crm::memory_directory directory(*store);
  CHECK(directory.position() == 0);
  CHECK_FALSE(directory.wait_for(1, std::chrono::milliseconds(1)));
  directory.start();
  REQUIRE(directory.wait_for(store->head_position(), std::chrono::seconds(10)));
  CHECK_FALSE(directory.failure().has_value());

  auto account = directory.user_by_email("one@example.com");
  REQUIRE(account.has_value());
  CHECK(account->user_id == "u1");
  CHECK(account->role == domain::user_role::manager);
  CHECK(account->team_id == "t1");
  CHECK_FALSE(account->password_hash.empty());
  CHECK(directory.team_of("u1") == "t1");
  CHECK_FALSE(directory.team_of("nobody").has_value());
  const auto user = directory.find_user("u1");
  REQUIRE(user.has_value());
  CHECK(user->meta.version == 3);  // registered, password set, team changed
  CHECK(user->meta.created_at <= user->meta.updated_at);

  // Live: an address change moves the e-mail index; the reservation streams are not users.
  REQUIRE(commands::execute(handler,
                            domain::user_command{domain::change_user_email{domain::user_id{"u1"},
                                                                           "uno@example.com"}},
                            meta)
              .ok());
  REQUIRE(directory.wait_for(store->head_position(), std::chrono::seconds(10)));
  CHECK_FALSE(directory.user_by_email("one@example.com").has_value());
  CHECK(directory.user_by_email("uno@example.com")->user_id == "u1");
  CHECK(directory.list_users({}).items.size() == 1);
  CHECK(directory.list_teams({}).items.size() == 1);

  // Team scope in lists: records of a team's members only, none for "no team".
  api::crm::list_query scoped;
  scoped.only_team = std::optional<std::string>("t1");
  CHECK(directory.list_users(scoped).items.size() == 1);  // users are not scoped by owner
  scoped.only_team = std::optional<std::optional<std::string>>(std::optional<std::string>());
  CHECK(directory.list_deals(scoped).items.empty());
  directory.stop();
  directory.stop();  // idempotent
}

TEST_CASE_TEMPLATE("the memory read side subscribes again after the store fails under it", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  flaky_store flaky(*store);
  commands::command_handler handler(*store);
  register_user(handler, "u1", "one@example.com");

  api::crm::memory_directory directory(flaky, {.retry_delay = 10ms});
  flaky.failures = 2;  // the first read fails, and so does the first attempt after it
  directory.start();
  REQUIRE(directory.wait_for(store->head_position(), 10s));
  CHECK(directory.restarts() == 2);
  CHECK_FALSE(directory.failure().has_value());
  CHECK(directory.user_by_email("one@example.com").has_value());

  // Live again: later events arrive.
  register_user(handler, "u2", "two@example.com");
  REQUIRE(directory.wait_for(store->head_position(), 10s));
  CHECK(directory.user_by_id("u2").has_value());
}

TEST_CASE_TEMPLATE("a corrupt event stops the memory read side where it is, loudly", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  commands::command_handler handler(*store);
  register_user(handler, "u1", "one@example.com");
  const auto good = store->head_position();
  // A deal.created event without its fields: a known type whose data does not decode.
  store->append(infra::stream_write{
      "deal-broken", infra::kNoStream, {{"e-broken", "deal.created.v1", 1, "{}", "{}"}}});
  register_user(handler, "u2", "two@example.com");

  api::crm::memory_directory directory(*store, {.retry_delay = 10ms});
  directory.start();
  REQUIRE(test::eventually([&] { return directory.failure().has_value(); }));
  CHECK(directory.position() == good);  // stopped before the corrupt event, nothing skipped
  CHECK(directory.failure()->find("deal.created.v1") != std::string::npos);
  CHECK_FALSE(directory.user_by_id("u2").has_value());
  CHECK(directory.restarts() == 0);
}
