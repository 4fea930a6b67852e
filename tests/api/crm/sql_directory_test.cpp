// The CRM read side over the records read model, on both backends: records by id whatever their
// state, lists that hide archived, merged and deleted records, team scope that follows a user's
// team moves, filters that do not apply matching nothing, cursors (even forged ones) ordering as
// the text keys they carry, accounts for logins, and positions from the projector or its catalog.
#include "api/crm/sql_directory.hpp"

#include <doctest/doctest.h>

#include <cstdio>

#include "projections/records/records_projection.hpp"
#include "tests/projections/projection_env.hpp"

using namespace realmkit;
using namespace realmkit::domain;
using testing::postgres_backend;
using testing::sqlite_backend;
using namespace std::chrono_literals;

namespace {

using api::crm::list_query;
using api::crm::sort_field;

template <class Env>
std::unique_ptr<projections::projector> project(Env& env) {
  auto p = env.start({std::make_shared<projections::records::records_projection>()});
  env.catch_up(*p);
  return p;
}

template <class Page>
std::vector<std::string> ids(const Page& page) {
  std::vector<std::string> out;
  for (const auto& item : page.items) out.push_back(item.meta.id);
  return out;
}

std::string time_key(domain::timestamp t) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%020lld",
                static_cast<long long>(t.time_since_epoch().count()));
  return buffer;
}

// A list query resuming after a cursor of our own making.
list_query after(std::string key, std::string id, sort_field sort = sort_field::created_at,
                 bool descending = false) {
  list_query q;
  q.sort = sort;
  q.descending = descending;
  q.after = api::crm::cursor{sort, descending, std::move(key), std::move(id)};
  return q;
}

template <class Env>
void deal(Env& env, const std::string& id, const std::string& owner, const std::string& title) {
  env.append("deal-" + id, deal_created{.deal = deal_id{id},
                                        .pipeline = pipeline_id{"p1"},
                                        .stage = stage_id{"s1"},
                                        .title = title,
                                        .value = {100, "EUR"},
                                        .owner = user_id{owner}});
}

}  // namespace

TEST_CASE_TEMPLATE("sql directory: accounts, team lookups and records by id", B, sqlite_backend,
                   postgres_backend) {
  testing::projection_env<B> env;
  env.append("team-t1", team_created{team_id{"t1"}, "Team"});
  env.append(
      "user-u1",
      user_registered{user_id{"u1"}, "one@example.com", "One", user_role::manager, team_id{"t1"}},
      user_password_changed{user_id{"u1"}, "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aA"});
  auto p = project(env);
  api::crm::sql_directory directory(env.db(), p.get());
  CHECK(directory.position() == env.store().head_position());

  const auto account = directory.user_by_email("one@example.com");
  REQUIRE(account);
  CHECK(account->user_id == "u1");
  CHECK(account->role == user_role::manager);
  CHECK(account->team_id == "t1");
  CHECK(account->active);
  CHECK(account->password_hash == "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aA");
  CHECK(directory.user_by_id("u1")->email == "one@example.com");
  CHECK_FALSE(directory.user_by_id("nobody"));
  CHECK_FALSE(directory.user_by_email("nobody@example.com"));
  CHECK(directory.team_of("u1") == "t1");
  CHECK_FALSE(directory.team_of("nobody"));

  const auto user = directory.find_user("u1");
  REQUIRE(user);
  CHECK(user->meta.version == 2);
  CHECK(user->meta.position == env.store().head_position());
  CHECK(user->meta.created_at <= user->meta.updated_at);
  CHECK(user->state.display_name == "One");
  CHECK(user->state.password_hash == account->password_hash);  // the routes show has_password
  CHECK(directory.find_team("t1")->state.name == "Team");
  CHECK_FALSE(directory.find_team("u1"));

  // Live: an address change moves the login; a team move shows at once.
  const auto moved =
      env.append("user-u1", user_email_changed{user_id{"u1"}, "one@example.com", "uno@example.com"},
                 user_team_changed{user_id{"u1"}, team_id{"t1"}, std::nullopt},
                 user_deactivated{user_id{"u1"}});
  REQUIRE(directory.wait_for(moved, 10s));
  CHECK_FALSE(directory.user_by_email("one@example.com"));
  CHECK(directory.user_by_email("uno@example.com")->user_id == "u1");
  CHECK_FALSE(directory.team_of("u1"));
  CHECK_FALSE(directory.user_by_id("u1")->active);
  CHECK_FALSE(directory.wait_for(moved + 100, 50ms));
}

TEST_CASE_TEMPLATE("sql directory: lists hide archived, merged and deleted records", B,
                   sqlite_backend, postgres_backend) {
  testing::projection_env<B> env;
  deal(env, "d1", "u1", "One");
  deal(env, "d2", "u1", "Two");
  env.append("deal-d2", deal_archived{deal_id{"d2"}});
  for (const auto* id : {"k1", "k2", "k3"}) {
    env.append(std::string("contact-") + id,
               contact_created{.contact = contact_id{id}, .last_name = id, .owner = user_id{"u1"}});
  }
  env.append("contact-k2", contact_archived{contact_id{"k2"}});
  env.append("contact-k3", contact_merged_into{contact_id{"k3"}, contact_id{"k1"}});
  env.append("activity-a1", activity_logged{.activity = activity_id{"a1"},
                                            .subject = {entity_kind::deal, "d1"},
                                            .summary = "Call",
                                            .owner = user_id{"u1"}});
  env.append("activity-a2",
             activity_logged{.activity = activity_id{"a2"},
                             .subject = {entity_kind::deal, "d1"},
                             .summary = "Gone",
                             .owner = user_id{"u1"}},
             activity_deleted{activity_id{"a2"}});
  env.append("user-u1", user_registered{user_id{"u1"}, "u1@example.com", "U1"},
             user_deactivated{user_id{"u1"}});
  auto p = project(env);
  api::crm::sql_directory directory(env.db(), p.get());

  CHECK(ids(directory.list_deals({})) == std::vector<std::string>{"d1"});
  list_query all;
  all.include_archived = true;
  CHECK(ids(directory.list_deals(all)) == std::vector<std::string>{"d1", "d2"});
  CHECK(ids(directory.list_contacts({})) == std::vector<std::string>{"k1"});
  CHECK(ids(directory.list_contacts(all)) == std::vector<std::string>{"k1", "k2", "k3"});
  // Deleted records never list, yet answer by id.
  CHECK(ids(directory.list_activities(all)) == std::vector<std::string>{"a1"});
  CHECK(directory.find_activity("a2")->state.deleted);
  CHECK(directory.find_deal("d2")->state.archived);
  // Deactivated users stay in the list; their status tells them apart.
  CHECK(ids(directory.list_users({})) == std::vector<std::string>{"u1"});
  list_query inactive;
  inactive.status = "inactive";
  CHECK(ids(directory.list_users(inactive)) == std::vector<std::string>{"u1"});
  inactive.status = "active";
  CHECK(directory.list_users(inactive).items.empty());
  CHECK(directory.list_deals({}).position == env.store().head_position());
}

TEST_CASE_TEMPLATE("sql directory: filters, team scope and team moves", B, sqlite_backend,
                   postgres_backend) {
  testing::projection_env<B> env;
  env.append("user-ua", user_registered{user_id{"ua"}, "a@example.com", "A", user_role::sales_rep,
                                        team_id{"ta"}});
  env.append("user-ub", user_registered{user_id{"ub"}, "b@example.com", "B", user_role::sales_rep,
                                        team_id{"tb"}});
  env.append("user-un", user_registered{user_id{"un"}, "n@example.com", "N"});
  deal(env, "d1", "ua", "A's");
  deal(env, "d2", "ub", "B's");
  deal(env, "d3", "un", "Nobody's");
  env.append("deal-d3", deal_won{deal_id{"d3"}, {}});
  env.append("task-t1", task_created{.task = task_id{"t1"},
                                     .title = "Call",
                                     .assignee = user_id{"ub"},
                                     .link = entity_ref{entity_kind::deal, "d2"}});
  env.append("task-t2",
             task_created{.task = task_id{"t2"}, .title = "Free", .assignee = user_id{"ua"}});
  auto p = project(env);
  api::crm::sql_directory directory(env.db(), p.get());

  list_query q;
  q.team = "ta";
  CHECK(ids(directory.list_deals(q)) == std::vector<std::string>{"d1"});
  CHECK(ids(directory.list_users(q)) == std::vector<std::string>{"ua"});
  q = {};
  q.only_team = std::optional<std::string>("tb");
  CHECK(ids(directory.list_deals(q)) == std::vector<std::string>{"d2"});
  q.only_team = std::optional<std::optional<std::string>>(std::optional<std::string>());
  CHECK(directory.list_deals(q).items.empty());  // a caller in no team sees no team's records
  q = {};
  q.owner = "ub";
  CHECK(ids(directory.list_tasks(q)) == std::vector<std::string>{"t1"});
  q = {};
  q.status = "won";
  CHECK(ids(directory.list_deals(q)) == std::vector<std::string>{"d3"});
  q = {};
  q.subject = entity_ref{entity_kind::deal, "d2"};
  CHECK(ids(directory.list_tasks(q)) == std::vector<std::string>{"t1"});
  q.subject = entity_ref{entity_kind::contact, "d2"};
  CHECK(directory.list_tasks(q).items.empty());
  q = {};
  q.stage = "s1";
  q.pipeline = "p1";
  CHECK(directory.list_deals(q).items.size() == 3);
  CHECK(directory.open_deals_in_stage("p1", "s1") == 2);
  CHECK(directory.open_deals_in_stage("p1", "s2") == 0);

  // Filters a kind of record does not have match none of them (the routes refuse them first).
  q = {};
  q.owner = "ua";
  CHECK(directory.list_users(q).items.empty());
  q = {};
  q.status = "open";
  CHECK(directory.list_companies(q).items.empty());
  q = {};
  q.stage = "s1";
  CHECK(directory.list_tasks(q).items.empty());
  q = {};
  q.subject = entity_ref{entity_kind::deal, "d2"};
  CHECK(directory.list_deals(q).items.empty());
  q = {};
  q.team = "ta";
  CHECK(directory.list_pipelines(q).items.empty());

  // A user who changes teams takes their records along, at once.
  const auto moved =
      env.append("user-ua", user_team_changed{user_id{"ua"}, team_id{"ta"}, team_id{"tb"}});
  REQUIRE(directory.wait_for(moved, 10s));
  q = {};
  q.only_team = std::optional<std::string>("tb");
  CHECK(ids(directory.list_deals(q)) == std::vector<std::string>{"d1", "d2"});
  CHECK(ids(directory.list_tasks(q)) == std::vector<std::string>{"t1", "t2"});
  q.only_team = std::optional<std::string>("ta");
  CHECK(directory.list_deals(q).items.empty());
}

TEST_CASE_TEMPLATE("sql directory: keyset pages, and cursors order as their text keys", B,
                   sqlite_backend, postgres_backend) {
  testing::projection_env<B> env;
  deal(env, "d1", "u1", "b");
  deal(env, "d2", "u1", "A");
  deal(env, "d3", "u1", "c");
  auto p = project(env);
  api::crm::sql_directory directory(env.db(), p.get());

  list_query q;
  q.limit = 2;
  auto first = directory.list_deals(q);
  CHECK(ids(first) == std::vector<std::string>{"d1", "d2"});
  REQUIRE(first.next_cursor);
  const auto cursor = api::crm::decode_cursor(*first.next_cursor);
  REQUIRE(cursor);
  const auto second_created = directory.find_deal("d2")->meta.created_at;
  CHECK(cursor->key == time_key(second_created));
  CHECK(cursor->id == "d2");
  q.after = cursor;
  const auto second = directory.list_deals(q);
  CHECK(ids(second) == std::vector<std::string>{"d3"});
  CHECK_FALSE(second.next_cursor);

  q = {};
  q.sort = sort_field::name;
  q.limit = 1;
  const auto by_name = directory.list_deals(q);
  CHECK(ids(by_name) == std::vector<std::string>{"d2"});
  CHECK(api::crm::decode_cursor(*by_name.next_cursor)->key == "a");
  CHECK(ids(directory.list_deals(after("b", "d1", sort_field::name))) ==
        std::vector<std::string>{"d3"});
  CHECK(ids(directory.list_deals(after("b", "", sort_field::name))) ==
        std::vector<std::string>{"d1", "d3"});
  CHECK(ids(directory.list_deals(after("b", "d1", sort_field::name, true))) ==
        std::vector<std::string>{"d2"});
  q.limit = 0;  // clamped to one
  CHECK(directory.list_deals(q).items.size() == 1);
  q.limit = 100'000;  // clamped to the maximum page
  CHECK(directory.list_deals(q).items.size() == 3);

  // A cursor key that is no instant's still falls between instants' keys as text does.
  const auto key = time_key(second_created);
  CHECK(ids(directory.list_deals(after("", "x"))) == std::vector<std::string>{"d1", "d2", "d3"});
  CHECK(directory.list_deals(after("~", "x")).items.empty());
  CHECK(ids(directory.list_deals(after("~", "x", sort_field::created_at, true))) ==
        std::vector<std::string>{"d3", "d2", "d1"});
  CHECK(directory.list_deals(after(std::string(20, '9'), "x")).items.empty());
  CHECK(ids(directory.list_deals(after(key + "0", "a"))) == std::vector<std::string>{"d3"});
  CHECK(ids(directory.list_deals(after(key.substr(0, 19), "z"))) ==
        std::vector<std::string>{"d2", "d3"});
  CHECK(ids(directory.list_deals(after(key.substr(0, 19) + "~", "a"))) ==
        std::vector<std::string>{"d3"});
  CHECK(ids(directory.list_deals(after(key.substr(0, 19) + "~", "a", sort_field::created_at,
                                       true))) == std::vector<std::string>{"d2", "d1"});
  CHECK(ids(directory.list_deals(after(key, "d2", sort_field::updated_at))) ==
        std::vector<std::string>{"d3"});
}

TEST_CASE_TEMPLATE("sql directory: without a projector in the process, the catalog's checkpoint", B,
                   sqlite_backend, postgres_backend) {
  testing::projection_env<B> env;
  env.append("team-t1", team_created{team_id{"t1"}, "Team"});
  api::crm::sql_directory directory(env.db(), nullptr);
  CHECK(directory.position() == 0);  // nothing projected yet
  CHECK_FALSE(directory.wait_for(1, 30ms));
  auto p = project(env);
  CHECK(directory.position() == env.store().head_position());
  CHECK(directory.wait_for(env.store().head_position(), 1s));
  const auto later = env.append("team-t2", team_created{team_id{"t2"}, "Two"});
  CHECK(directory.wait_for(later, 10s));
  CHECK(directory.find_team("t2"));
}
