// The command side's cross-stream rules for users and teams, on every store backend: unique e-mail
// addresses (reserved in the same append, even under concurrent requests), team membership kept
// in step on the user's and the team's streams, several commands on one aggregate all or nothing,
// and preconditions that refuse before anything is written.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "commands/crm_commands.hpp"
#include "commands/email_reservation.hpp"
#include "tests/infra/store_backends.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit;
using namespace realmkit::domain;
using commands::command_handler;
using commands::command_metadata;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

command_metadata admin_meta() {
  command_metadata m;
  m.actor = user_id{"admin"};
  m.now = testing::test_context().now;
  return m;
}

commands::outcome register_as(command_handler& h, const std::string& id, const std::string& email,
                              std::optional<team_id> team = std::nullopt) {
  register_user c;
  c.user = user_id{id};
  c.email = email;
  c.display_name = "User " + id;
  c.role = user_role::sales_rep;
  c.team = std::move(team);
  return commands::execute(h, user_command{c}, admin_meta());
}

commands::outcome create_team_cmd(command_handler& h, const std::string& id,
                                  std::optional<user_id> manager = std::nullopt) {
  return commands::execute(h, team_command{create_team{team_id{id}, "Team " + id, manager}},
                           admin_meta());
}

std::optional<user_id> holder_of(command_handler& h, const std::string& email) {
  return h.load<commands::user_email_aggregate>(commands::email_reservation_id(email)).state.holder;
}

}  // namespace

TEST_CASE("an address's reservation id is its normalized form, hashed") {
  CHECK(commands::email_reservation_id(" Ada@Example.COM ") ==
        commands::email_reservation_id("ada@example.com"));
  CHECK(commands::email_reservation_id("ada@example.com").size() == 64);
  CHECK(commands::email_reservation_id("ada@example.com").find('@') == std::string::npos);
}

TEST_CASE_TEMPLATE("two users never share an e-mail address", B, sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  auto first = register_as(handler, "u1", "ada@example.com");
  REQUIRE(first.ok());
  CHECK(first.result().streams.size() == 2);  // the user and the reservation, in one append
  CHECK(holder_of(handler, "ada@example.com") == user_id{"u1"});
  const auto head = store->head_position();

  auto same = register_as(handler, "u2", "  ADA@example.com ");
  REQUIRE_FALSE(same.ok());
  CHECK(same.error().code == rejection_code::already_exists);
  CHECK(same.error().field == "email");
  CHECK(store->head_position() == head);
  CHECK(store->stream_version("user-u2") == 0);

  SUBCASE("changing to a taken address is refused") {
    REQUIRE(register_as(handler, "u2", "bob@example.com").ok());
    const auto before = store->head_position();
    auto r = commands::execute(
        handler, user_command{change_user_email{user_id{"u2"}, "Ada@example.com"}}, admin_meta());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().field == "email");
    CHECK(store->head_position() == before);
  }
  SUBCASE("an address given up is free for someone else") {
    auto changed = commands::execute(
        handler, user_command{change_user_email{user_id{"u1"}, "ada.l@example.com"}}, admin_meta());
    REQUIRE(changed.ok());
    CHECK(changed.result().streams.size() == 3);  // user, new reservation, released old one
    CHECK_FALSE(holder_of(handler, "ada@example.com").has_value());
    CHECK(holder_of(handler, "ada.l@example.com") == user_id{"u1"});
    REQUIRE(register_as(handler, "u2", "ada@example.com").ok());
    CHECK(holder_of(handler, "ada@example.com") == user_id{"u2"});
  }
  SUBCASE("a user keeps their own address when re-registration is refused") {
    auto again = register_as(handler, "u1", "ada@example.com");
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code == rejection_code::already_exists);
    CHECK(holder_of(handler, "ada@example.com") == user_id{"u1"});
  }
}

TEST_CASE_TEMPLATE("concurrent registrations of one address: exactly one wins", B, sqlite_backend,
                   postgres_backend) {
  auto store = B::make_store();
  constexpr int kThreads = 6;
  std::atomic<int> won{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread has its own handler and cache, as separate API processes would.
      command_handler own(*store);
      auto r = register_as(own, "racer-" + std::to_string(t), "same@example.com");
      if (r.ok()) {
        ++won;
      } else if (r.error().code == rejection_code::already_exists) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(won == 1);
  CHECK(refused == kThreads - 1);
  CHECK(other == 0);
  command_handler handler(*store);
  const auto holder = holder_of(handler, "same@example.com");
  REQUIRE(holder.has_value());
  CHECK(handler.load<user_aggregate>(holder->value).state.email == "same@example.com");
}

TEST_CASE_TEMPLATE("team membership stays in step on the user's and the team's streams", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  REQUIRE(create_team_cmd(handler, "t1").ok());
  REQUIRE(create_team_cmd(handler, "t2").ok());
  auto team = [&](const std::string& id) { return handler.load<team_aggregate>(id).state; };
  auto user = [&](const std::string& id) { return handler.load<user_aggregate>(id).state; };

  REQUIRE(register_as(handler, "u1", "u1@example.com", team_id{"t1"}).ok());
  CHECK(team("t1").is_member(user_id{"u1"}));
  CHECK(user("u1").team == team_id{"t1"});

  SUBCASE("a user's team change moves them between the teams") {
    auto r = commands::execute(
        handler, user_command{change_user_team{user_id{"u1"}, team_id{"t2"}}}, admin_meta());
    REQUIRE(r.ok());
    CHECK(r.result().stream_id == "user-u1");
    CHECK_FALSE(team("t1").is_member(user_id{"u1"}));
    CHECK(team("t2").is_member(user_id{"u1"}));
    REQUIRE(commands::execute(handler, user_command{change_user_team{user_id{"u1"}, std::nullopt}},
                              admin_meta())
                .ok());
    CHECK_FALSE(team("t2").is_member(user_id{"u1"}));
    CHECK_FALSE(user("u1").team.has_value());
  }
  SUBCASE("adding a member to a team moves them out of their old team") {
    REQUIRE(commands::execute(handler, team_command{add_team_member{team_id{"t2"}, user_id{"u1"}}},
                              admin_meta())
                .ok());
    CHECK(user("u1").team == team_id{"t2"});
    CHECK_FALSE(team("t1").is_member(user_id{"u1"}));
    REQUIRE(commands::execute(handler,
                              team_command{remove_team_member{team_id{"t2"}, user_id{"u1"}}},
                              admin_meta())
                .ok());
    CHECK_FALSE(user("u1").team.has_value());
  }
  SUBCASE("a team created with a manager takes the manager in") {
    REQUIRE(create_team_cmd(handler, "t3", user_id{"u1"}).ok());
    CHECK(user("u1").team == team_id{"t3"});
    CHECK(team("t3").manager == user_id{"u1"});
    CHECK_FALSE(team("t1").is_member(user_id{"u1"}));
  }
  SUBCASE("an unknown team or user changes nothing") {
    const auto head = store->head_position();
    auto no_team = commands::execute(
        handler, user_command{change_user_team{user_id{"u1"}, team_id{"ghost"}}}, admin_meta());
    REQUIRE_FALSE(no_team.ok());
    CHECK(no_team.error().code == rejection_code::invalid);
    CHECK(no_team.error().field == "team_id");
    auto no_user = commands::execute(
        handler, team_command{add_team_member{team_id{"t2"}, user_id{"ghost"}}}, admin_meta());
    REQUIRE_FALSE(no_user.ok());
    CHECK(no_user.error().field == "user_id");
    auto registered_into_nothing = register_as(handler, "u9", "u9@example.com", team_id{"ghost"});
    REQUIRE_FALSE(registered_into_nothing.ok());
    CHECK(registered_into_nothing.error().field == "team_id");
    CHECK(store->head_position() == head);
  }
}

TEST_CASE_TEMPLATE("several commands on one aggregate commit together or not at all", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  REQUIRE(register_as(handler, "u1", "u1@example.com").ok());
  REQUIRE(register_as(handler, "u2", "u2@example.com").ok());
  const auto head = store->head_position();

  // The rename is fine, the address is taken: neither is written.
  auto refused = commands::execute_all(
      handler,
      std::vector<user_command>{rename_user{user_id{"u1"}, "Ada"},
                                change_user_email{user_id{"u1"}, "u2@example.com"}},
      admin_meta());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().field == "email");
  CHECK(store->head_position() == head);

  auto both = commands::execute_all(
      handler,
      std::vector<user_command>{rename_user{user_id{"u1"}, "Ada"},
                                change_user_email{user_id{"u1"}, "ada@example.com"}},
      admin_meta(), 1);
  REQUIRE(both.ok());
  CHECK(both.result().version == 3);
  CHECK(handler.load<user_aggregate>("u1").state.display_name == "Ada");

  auto mixed = commands::execute_all(
      handler,
      std::vector<user_command>{rename_user{user_id{"u1"}, "A"}, rename_user{user_id{"u2"}, "B"}},
      admin_meta());
  CHECK_FALSE(mixed.ok());
  auto none = commands::execute_all(handler, std::vector<user_command>{}, admin_meta());
  CHECK_FALSE(none.ok());
}

TEST_CASE_TEMPLATE("a precondition refuses on the loaded state before anything is written", B,
                   sqlite_backend, postgres_backend) {
  auto store = B::make_store();
  command_handler handler(*store);
  REQUIRE(register_as(handler, "u1", "u1@example.com").ok());
  const auto head = store->head_position();
  int calls = 0;
  const commands::precondition<user_state> hidden = [&](const user_state& s) {
    ++calls;
    CHECK(s.id == user_id{"u1"});
    return std::optional<rejection>(not_found("no such record"));
  };
  auto r = commands::execute(handler, user_command{rename_user{user_id{"u1"}, "Ada"}}, admin_meta(),
                             99, hidden);
  REQUIRE_FALSE(r.ok());
  // Refused as not found even though the expected version is stale too: hidden beats conflict.
  CHECK(r.error().code == rejection_code::not_found);
  CHECK(calls == 1);
  CHECK(store->head_position() == head);
}
