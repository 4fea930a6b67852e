// The command line end to end through the binary, on both store backends: `user create` (and
// every refusal of it, which writes nothing) and `demo` (every role, a second run changes nothing).
#include <doctest/doctest.h>

#include "api/auth/user_directory.hpp"
#include "app/demo_seed.hpp"
#include "commands/command_handler.hpp"
#include "domain/deal/deal_state.hpp"
#include "infra/crypto/password_hasher.hpp"
#include "tests/app/binary_runner.hpp"

using namespace realmkit;
using testing::postgres_cli_backend;
using testing::run_realmkit;
using testing::sqlite_cli_backend;
using testing::with_flags;

namespace {

const std::string kPassword = "a long enough pass phrase";

}  // namespace

TEST_CASE_TEMPLATE("user create registers a user who can log in, from a flag or stdin", B,
                   sqlite_cli_backend, postgres_cli_backend) {
  B backend;
  auto r = run_realmkit(with_flags(backend, {"user", "create"},
                                   {"--email", " Boss@Example.com", "--role", "admin",
                                    "--password-stdin", "--name", "The Boss"}),
                        kPassword + "\n");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out.find("created user ") != std::string::npos);
  CHECK(r.out.find("<boss@example.com> with role admin") != std::string::npos);
  CHECK(r.out.find(kPassword) == std::string::npos);

  r = run_realmkit(
      with_flags(backend, {"user", "create"},
                 {"--email", "rep@example.com", "--role", "sales_rep", "--password", kPassword}));
  REQUIRE_MESSAGE(r.status == 0, r.err);

  auto store = infra::open_event_store(backend.config());
  api::auth::user_directory users(*store);
  const auto boss = users.find_by_email("boss@example.com");
  REQUIRE(boss);
  CHECK(boss->profile.role == domain::user_role::admin);
  CHECK(boss->profile.display_name == "The Boss");
  CHECK_FALSE(boss->profile.team_id);
  const infra::crypto::password_hasher hasher;
  CHECK(hasher.verify(boss->password_hash, kPassword));
  CHECK_FALSE(hasher.needs_rehash(boss->password_hash));  // hashed at the current parameters
  const auto rep = users.find_by_email("rep@example.com");
  REQUIRE(rep);
  CHECK(rep->profile.display_name == "rep");
  CHECK(users.size() == 2);
}

struct refusal {
  std::vector<std::string> args;
  std::string input;    // standard input
  std::string message;  // a part of what stderr must say
};

// Each refusal exits non-zero naming the problem, never echoes the password, and writes nothing.
template <class B>
void check_refusals(const B& backend, const std::vector<refusal>& cases) {
  auto store = infra::open_event_store(backend.config());
  const auto before = store->head_position();
  for (const auto& c : cases) {
    CAPTURE(c.message);
    const auto r = run_realmkit(with_flags(backend, {"user", "create"}, c.args), c.input);
    CHECK(r.status != 0);
    CHECK_MESSAGE(r.err.find(c.message) != std::string::npos, r.err);
    CHECK(r.err.find(kPassword) == std::string::npos);
  }
  CHECK(store->head_position() == before);
}

TEST_CASE_TEMPLATE("user create refuses bad flags", B, sqlite_cli_backend, postgres_cli_backend) {
  B backend;
  check_refusals(
      backend,
      {{{"--email", "a@example.com", "--role", "root", "--password", kPassword}, "", "--role"},
       {{"--role", "admin", "--password", kPassword}, "", "--email"},
       {{"--email", "a@example.com", "--role", "admin", "--password", kPassword, "--team", "a b"},
        "",
        "--team"},
       {{"--email", "a@example.com", "--role", "admin", "--password", kPassword,
         "--password-stdin"},
        kPassword + "\n",
        "excludes"}});
}

TEST_CASE_TEMPLATE("user create refuses a weak or missing password and a bad address", B,
                   sqlite_cli_backend, postgres_cli_backend) {
  B backend;
  check_refusals(
      backend,
      {{{"--email", "a@example.com", "--role", "admin", "--password", "short"}, "", "password"},
       {{"--email", "a@example.com", "--role", "admin", "--password-stdin"}, "", "stdin"},
       {{"--email", "a@example.com", "--role", "admin", "--password-stdin"}, "tiny\n", "password"},
       {{"--email", "not-an-address", "--role", "admin", "--password", kPassword}, "", "--email"}});
}

TEST_CASE_TEMPLATE("user create refuses a taken address and an unknown team", B, sqlite_cli_backend,
                   postgres_cli_backend) {
  B backend;
  REQUIRE(run_realmkit(with_flags(backend, {"user", "create"},
                                  {"--email", "taken@example.com", "--role", "manager",
                                   "--password", kPassword}))
              .status == 0);
  check_refusals(
      backend, {{{"--email", "TAKEN@example.com", "--role", "admin", "--password", kPassword},
                 "",
                 "exists already"},
                {{"--email", "a@example.com", "--role", "admin", "--password", kPassword, "--team",
                  "no-such-team"},
                 "",
                 "no team"}});
}

TEST_CASE_TEMPLATE("demo seeds every role in two teams, and a second run changes nothing", B,
                   sqlite_cli_backend, postgres_cli_backend) {
  B backend;
  auto first = run_realmkit(with_flags(backend, {"demo"}, {"--password", kPassword}));
  REQUIRE_MESSAGE(first.status == 0, first.err);
  for (const auto* role : {"admin", "manager", "sales_rep", "analyst", "auditor"}) {
    CHECK_MESSAGE(
        first.out.find(std::string("  ") + role + "  password: " + kPassword) != std::string::npos,
        first.out);
  }
  CHECK(first.out.find("Demo organisation seeded") != std::string::npos);

  auto store = infra::open_event_store(backend.config());
  const auto seeded = store->head_position();
  CHECK(seeded > 60);

  api::auth::user_directory users(*store);
  CHECK(users.size() == 7);
  const auto rep = users.find_by_email("ned.rep@demo.realmkit.test");
  REQUIRE(rep);
  CHECK(rep->profile.role == domain::user_role::sales_rep);
  CHECK(rep->profile.team_id == app::demo_id("team/north"));
  CHECK(infra::crypto::password_hasher().verify(rep->password_hash, kPassword));
  CHECK(users.find_by_email("sam.manager@demo.realmkit.test")->profile.team_id ==
        app::demo_id("team/south"));

  commands::command_handler handler(*store);
  const auto won = handler.load<domain::deal_aggregate>(app::demo_id("deal/globex-support"));
  CHECK(won.state.status == domain::deal_status::won);
  const auto open = handler.load<domain::deal_aggregate>(app::demo_id("deal/umbrella-lab"));
  CHECK(open.state.stage.value == app::demo_id("stage/negotiation"));

  const auto second = run_realmkit(with_flags(backend, {"demo"}));
  REQUIRE_MESSAGE(second.status == 0, second.err);
  CHECK(second.out.find("nothing changed") != std::string::npos);
  CHECK(second.out.find("password:") == std::string::npos);
  CHECK(store->head_position() == seeded);
}

TEST_CASE("demo ids are stable version 8 UUIDs") {
  const auto id = app::demo_id("deal/acme-anvils");
  CHECK(id == app::demo_id("deal/acme-anvils"));
  CHECK(id != app::demo_id("deal/acme-rockets"));
  REQUIRE(id.size() == 36);
  CHECK(id[14] == '8');
  CHECK(std::string("89ab").find(id[19]) != std::string::npos);
}

TEST_CASE_TEMPLATE("rebuild builds a read model's next generation and switches to it", B,
                   sqlite_cli_backend, postgres_cli_backend) {
  B backend;
  auto seeded = run_realmkit(with_flags(backend, {"demo"}, {"--password", kPassword}));
  REQUIRE_MESSAGE(seeded.status == 0, seeded.err);

  const auto listed = run_realmkit(with_flags(backend, {"rebuild", "--list"}));
  REQUIRE_MESSAGE(listed.status == 0, listed.err);
  CHECK(listed.out.find("records\n") != std::string::npos);
  CHECK(listed.out.find("rooms\n") != std::string::npos);

  // The first run builds generation 1 (nothing was live) ...
  const auto first = run_realmkit(with_flags(backend, {"rebuild", "records"}));
  REQUIRE_MESSAGE(first.status == 0, first.out << first.err);
  CHECK(first.out.find("records: generation 1 is live") != std::string::npos);
  // ... and the next one builds generation 2 beside it and switches.
  const auto second = run_realmkit(with_flags(backend, {"rebuild", "records"}));
  REQUIRE_MESSAGE(second.status == 0, second.out << second.err);
  CHECK(second.out.find("records: building generation 2") != std::string::npos);
  CHECK(second.out.find("records: generation 2 is live") != std::string::npos);

  const auto unknown = run_realmkit(with_flags(backend, {"rebuild", "nope"}));
  CHECK(unknown.status == 1);
  CHECK(unknown.err.find("no projection is named 'nope'") != std::string::npos);
  const auto missing = run_realmkit(with_flags(backend, {"rebuild"}));
  CHECK(missing.status == 1);
}
