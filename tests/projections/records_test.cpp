// The "records" read model on every backend: given events, then rows — per kind of record, with
// what lists filter on (archived, merged, deleted, statuses, team moves) — and a rebuild, a
// restart and a writer with a tiny cache all giving the rows live projection gave.
#include <doctest/doctest.h>

#include <algorithm>

#include "domain/activity/activity_state.hpp"
#include "domain/company/company_state.hpp"
#include "domain/contact/contact_state.hpp"
#include "domain/deal/deal_state.hpp"
#include "domain/lead/lead_state.hpp"
#include "domain/pipeline/pipeline_state.hpp"
#include "domain/task/task_state.hpp"
#include "domain/team/team_state.hpp"
#include "domain/user/user_state.hpp"
#include "projections/catalog.hpp"
#include "projections/records/records_projection.hpp"
#include "tests/projections/projection_env.hpp"

namespace realmkit::testing {
namespace {

using namespace domain;
using projections::records::records_options;
using projections::records::records_projection;

timestamp at(int minutes) {
  return timestamp{std::chrono::sys_days{std::chrono::year{2026} / 3 / 2}} +
         std::chrono::minutes{minutes};
}

std::shared_ptr<records_projection> records(records_options options = {}) {
  return std::make_shared<records_projection>(options);
}

// One row of a read model, its columns as text ("NULL" for null), by id.
template <class Env>
std::vector<std::string> row(Env& env, const std::string& columns, const std::string& relation,
                             const std::string& id, const std::string& key = "id") {
  const auto rows =
      env.query("SELECT " + columns + " FROM " + relation + " WHERE " + key + " = $1", {id});
  REQUIRE(rows.size() == 1);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < rows[0].size(); ++i) {
    out.push_back(rows[0].is_null(i) ? "NULL" : rows[0].text(i));
  }
  return out;
}

// The live generation as the catalog has it (the runner's status follows a moment later).
template <class Env>
std::int64_t live_generation(Env& env) {
  auto session = env.db().acquire();
  const auto live = projections::live_generation(*session, "records");
  REQUIRE(live);
  return live->generation;
}

template <class Env>
std::int64_t count(Env& env, const std::string& relation) {
  return env.query("SELECT COUNT(*) FROM " + relation).front().integer(0);
}

// Every row of every relation of the read model, as text in a stable order: equal digests are
// equal read models, row for row.
template <class Env>
std::string digest(Env& env) {
  std::string out;
  for (const auto& relation : records()->relations()) {
    std::vector<std::string> lines;
    for (const auto& r : env.query("SELECT * FROM " + relation)) {
      std::string line;
      for (std::size_t i = 0; i < r.size(); ++i) {
        line += r.is_null(i) ? std::string("\x01NULL") : r.text(i);
        line += '\x1f';
      }
      lines.push_back(std::move(line));
    }
    std::sort(lines.begin(), lines.end());
    out += relation + ": " + std::to_string(lines.size()) + " rows\n";
    for (const auto& line : lines) out += line + '\n';
  }
  return out;
}

// A small organisation with every kind of record and the changes lists care about: team moves,
// archives, a merge, deletes, deals won and lost. `round` keeps ids of repeated calls apart.
template <class Env>
void write_history(Env& env, int round) {
  const auto n = [&](const std::string& name) { return name + std::to_string(round); };
  env.append("team-" + n("ta"), team_created{team_id{n("ta")}, "Team A"});
  env.append("team-" + n("tb"), team_created{team_id{n("tb")}, "Team B"});
  for (int u = 0; u < 4; ++u) {
    const auto id = n("u") + "x" + std::to_string(u);
    env.append("user-" + id,
               user_registered{user_id{id}, id + "@example.com", "User " + std::to_string(u),
                               user_role::sales_rep, team_id{u % 2 ? n("tb") : n("ta")}});
  }
  env.append("user-" + n("u") + "x0",
             user_team_changed{user_id{n("u") + "x0"}, team_id{n("ta")}, team_id{n("tb")}},
             user_password_changed{user_id{n("u") + "x0"}, "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aA"});
  env.append("pipeline-" + n("p"),
             pipeline_created{pipeline_id{n("p")},
                              "Sales",
                              {{stage_id{n("s1")}, "Lead", 10}, {stage_id{n("s2")}, "Won", 90}}});
  for (int i = 0; i < 6; ++i) {
    const auto owner = user_id{n("u") + "x" + std::to_string(i % 4)};
    const auto c = n("co") + "x" + std::to_string(i);
    env.append("company-" + c, company_created{.company = company_id{c},
                                               .name = "Company " + std::to_string(i),
                                               .owner = owner,
                                               .tags = {"vip"}});
    const auto k = n("ct") + "x" + std::to_string(i);
    env.append("contact-" + k, contact_created{.contact = contact_id{k},
                                               .first_name = "Ada",
                                               .last_name = "L" + std::to_string(i),
                                               .emails = {{k + "@example.com", true}},
                                               .company = company_id{c},
                                               .owner = owner});
    const auto d = n("d") + "x" + std::to_string(i);
    env.append("deal-" + d, deal_created{.deal = deal_id{d},
                                         .pipeline = pipeline_id{n("p")},
                                         .stage = stage_id{n("s1")},
                                         .title = "Deal " + std::to_string(i),
                                         .value = {1000 * (i + 1), "EUR"},
                                         .owner = owner,
                                         .at = at(i)});
    const auto l = n("l") + "x" + std::to_string(i);
    env.append("lead-" + l, lead_created{.lead = lead_id{l},
                                         .name = "Lead " + std::to_string(i),
                                         .email = l + "@example.com",
                                         .owner = owner});
    const auto a = n("a") + "x" + std::to_string(i);
    env.append("activity-" + a, activity_logged{.activity = activity_id{a},
                                                .type = activity_type::call,
                                                .subject = {entity_kind::deal, d},
                                                .summary = "Call " + std::to_string(i),
                                                .occurred_at = at(i),
                                                .owner = owner});
    const auto t = n("t") + "x" + std::to_string(i);
    env.append("task-" + t, task_created{.task = task_id{t},
                                         .title = "Task " + std::to_string(i),
                                         .assignee = owner,
                                         .link = entity_ref{entity_kind::contact, k}});
  }
  env.append("deal-" + n("d") + "x1",
             deal_stage_moved{deal_id{n("d") + "x1"}, pipeline_id{n("p")}, stage_id{n("s1")},
                              stage_id{n("s2")}, at(10)},
             deal_won{deal_id{n("d") + "x1"}, at(11)});
  env.append("deal-" + n("d") + "x2", deal_lost{deal_id{n("d") + "x2"}, "price", at(12)},
             deal_archived{deal_id{n("d") + "x2"}});
  env.append("company-" + n("co") + "x3", company_archived{company_id{n("co") + "x3"}});
  env.append("contact-" + n("ct") + "x4",
             contact_merged_into{contact_id{n("ct") + "x4"}, contact_id{n("ct") + "x5"}});
  env.append("activity-" + n("a") + "x0", activity_deleted{activity_id{n("a") + "x0"}});
  env.append("task-" + n("t") + "x1", task_completed{task_id{n("t") + "x1"}, at(20)});
  env.append("task-" + n("t") + "x2", task_deleted{task_id{n("t") + "x2"}});
  env.append("lead-" + n("l") + "x0", lead_contacted{lead_id{n("l") + "x0"}, at(30)},
             lead_qualified{lead_id{n("l") + "x0"}, at(31)});
  env.append("team-" + n("tb"), team_archived{team_id{n("tb")}});
}

}  // namespace

TEST_CASE_TEMPLATE("records: users, their credentials apart, and team moves", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  env.append("team-t1", team_created{team_id{"t1"}, "Team One"});
  env.append("user-u1", user_registered{user_id{"u1"}, "ada@example.com", "Ada Lovelace",
                                        user_role::manager, team_id{"t1"}});
  auto p = env.start({records()});
  env.catch_up(*p);
  CHECK(row(env, "version, name_key, email, role, team, active, status", "rm_users", "u1") ==
        std::vector<std::string>{"1", "ada lovelace", "ada@example.com", "manager", "t1", "1",
                                 "active"});

  const auto moved = env.append(
      "user-u1", user_renamed{user_id{"u1"}, "  Countess Ada "},
      user_email_changed{user_id{"u1"}, "ada@example.com", "countess@example.com"},
      user_team_changed{user_id{"u1"}, team_id{"t1"}, team_id{"t2"}},
      user_password_changed{user_id{"u1"}, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"},
      user_deactivated{user_id{"u1"}});
  env.catch_up(*p);
  CHECK(row(env, "version, position, name_key, email, team, active, status", "rm_users", "u1") ==
        std::vector<std::string>{"6", std::to_string(moved), "countess ada", "countess@example.com",
                                 "t2", "0", "inactive"});
  // The hash lives only in the credentials relation; the doc is the rest of the state.
  const auto doc = row(env, "doc", "rm_users", "u1")[0];
  const auto state = infra::from_json<user_state>(doc);
  CHECK(state.password_hash.empty());
  CHECK(state.display_name == "  Countess Ada ");
  CHECK(state.team == team_id{"t2"});
  CHECK_FALSE(state.active);
  CHECK(doc.find("argon2id") == std::string::npos);
  CHECK(row(env, "email, email_position, password_hash", "rm_user_credentials", "u1", "user_id") ==
        std::vector<std::string>{"countess@example.com", std::to_string(moved - 3),
                                 "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"});
  CHECK(row(env, "name_key, archived", "rm_teams", "t1") ==
        std::vector<std::string>{"team one", "0"});
}

TEST_CASE_TEMPLATE("records: companies and contacts, archived and merged", Backend, sqlite_backend,
                   postgres_backend) {
  projection_env<Backend> env;
  env.append("company-c1", company_created{.company = company_id{"c1"},
                                           .name = "Acme Corp",
                                           .domain = "acme.example",
                                           .owner = user_id{"u1"},
                                           .tags = {"vip"}});
  env.append("contact-k1", contact_created{.contact = contact_id{"k1"},
                                           .first_name = "Ada",
                                           .last_name = "Lovelace",
                                           .emails = {{"ada@example.com", true}},
                                           .company = company_id{"c1"},
                                           .owner = user_id{"u1"}});
  env.append("contact-k2", contact_created{.contact = contact_id{"k2"},
                                           .first_name = "Ada",
                                           .last_name = "Byron",
                                           .emails = {{"byron@example.com", true}},
                                           .owner = user_id{"u2"}});
  auto p = env.start({records()});
  env.catch_up(*p);
  CHECK(row(env, "name_key, owner, archived, domain", "rm_companies", "c1") ==
        std::vector<std::string>{"acme corp", "u1", "0", "acme.example"});
  CHECK(row(env, "name_key, owner, archived, merged_into, company", "rm_contacts", "k1") ==
        std::vector<std::string>{"lovelace ada", "u1", "0", "NULL", "c1"});

  env.append("company-c1", company_tagged{company_id{"c1"}, {"b2b"}},
             company_archived{company_id{"c1"}});
  env.append(
      "contact-k1",
      contact_merged{contact_id{"k1"}, {contact_id{"k2"}}, {{"byron@example.com", false}}, {}, {}});
  env.append("contact-k2", contact_merged_into{contact_id{"k2"}, contact_id{"k1"}});
  env.catch_up(*p);
  CHECK(row(env, "version, archived", "rm_companies", "c1") == std::vector<std::string>{"3", "1"});
  CHECK(infra::from_json<company_state>(row(env, "doc", "rm_companies", "c1")[0]).tags ==
        std::vector<std::string>{"vip", "b2b"});
  // A merged contact leaves lists as an archived one does, and names its survivor.
  CHECK(row(env, "archived, merged_into", "rm_contacts", "k2") ==
        std::vector<std::string>{"1", "k1"});
  CHECK(row(env, "archived", "rm_contacts", "k1") == std::vector<std::string>{"0"});
  CHECK(infra::from_json<contact_state>(row(env, "doc", "rm_contacts", "k1")[0]).emails.size() ==
        2);

  env.append("company-c1", company_restored{company_id{"c1"}});
  env.catch_up(*p);
  CHECK(row(env, "archived", "rm_companies", "c1") == std::vector<std::string>{"0"});
}

TEST_CASE_TEMPLATE("records: pipelines, deals through their stages, leads", Backend, sqlite_backend,
                   postgres_backend) {
  projection_env<Backend> env;
  env.append("pipeline-p1",
             pipeline_created{pipeline_id{"p1"},
                              "Sales",
                              {{stage_id{"s1"}, "Lead", 10}, {stage_id{"s2"}, "Proposal", 50}}});
  env.append("deal-d1", deal_created{.deal = deal_id{"d1"},
                                     .pipeline = pipeline_id{"p1"},
                                     .stage = stage_id{"s1"},
                                     .title = "Big Deal",
                                     .value = {250'000, "EUR"},
                                     .owner = user_id{"u1"},
                                     .company = company_id{"c1"},
                                     .expected_close_date =
                                         std::chrono::sys_days{std::chrono::year{2026} / 6 / 30},
                                     .at = at(0)});
  env.append("lead-l1", lead_created{.lead = lead_id{"l1"},
                                     .name = "Grace Hopper",
                                     .email = "grace@example.com",
                                     .source = lead_source::referral,
                                     .owner = user_id{"u2"}});
  auto p = env.start({records()});
  env.catch_up(*p);
  CHECK(row(env,
            "name_key, owner, status, archived, pipeline, stage, amount_minor, currency, "
            "expected_close_date, closed_at, company",
            "rm_deals", "d1") == std::vector<std::string>{"big deal", "u1", "open", "0", "p1", "s1",
                                                          "250000", "EUR", "2026-06-30", "NULL",
                                                          "c1"});
  CHECK(row(env, "name_key, archived", "rm_pipelines", "p1") ==
        std::vector<std::string>{"sales", "0"});
  CHECK(row(env, "name_key, owner, status, source, score", "rm_leads", "l1") ==
        std::vector<std::string>{"grace hopper", "u2", "new", "referral", "NULL"});

  env.append(
      "deal-d1",
      deal_stage_moved{deal_id{"d1"}, pipeline_id{"p1"}, stage_id{"s1"}, stage_id{"s2"}, at(5)},
      deal_won{deal_id{"d1"}, at(6)}, deal_archived{deal_id{"d1"}});
  env.append("lead-l1", lead_contacted{lead_id{"l1"}, at(1)},
             lead_scored{lead_id{"l1"}, 80, "fit", "v1"});
  env.append("pipeline-p1", pipeline_archived{pipeline_id{"p1"}});
  env.catch_up(*p);
  const auto won_at = std::to_string(at(6).time_since_epoch().count());
  CHECK(row(env, "version, status, archived, stage, closed_at", "rm_deals", "d1") ==
        std::vector<std::string>{"4", "won", "1", "s2", won_at});
  const auto deal = infra::from_json<deal_state>(row(env, "doc", "rm_deals", "d1")[0]);
  CHECK(deal.stage_entered_at == at(5));
  CHECK(deal.status == deal_status::won);
  CHECK(row(env, "status, score", "rm_leads", "l1") == std::vector<std::string>{"contacted", "80"});
  CHECK(row(env, "archived", "rm_pipelines", "p1") == std::vector<std::string>{"1"});
}

TEST_CASE_TEMPLATE("records: activities and tasks, their subjects, done and deleted", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  env.append("activity-a1", activity_logged{.activity = activity_id{"a1"},
                                            .type = activity_type::meeting,
                                            .subject = {entity_kind::deal, "d1"},
                                            .summary = "Kick-off",
                                            .occurred_at = at(3),
                                            .owner = user_id{"u1"}});
  env.append("task-t1", task_created{.task = task_id{"t1"},
                                     .title = "Send Offer",
                                     .assignee = user_id{"u2"},
                                     .due_at = at(60),
                                     .link = entity_ref{entity_kind::lead, "l1"},
                                     .priority = task_priority::high});
  env.append("task-t2",
             task_created{.task = task_id{"t2"}, .title = "Free", .assignee = user_id{"u2"}});
  auto p = env.start({records()});
  env.catch_up(*p);
  CHECK(row(env, "name_key, owner, type, subject_kind, subject_id, occurred_at, deleted",
            "rm_activities", "a1") ==
        std::vector<std::string>{"kick-off", "u1", "meeting", "deal", "d1",
                                 std::to_string(at(3).time_since_epoch().count()), "0"});
  CHECK(row(env, "name_key, owner, status, subject_kind, subject_id, due_at, priority, deleted",
            "rm_tasks", "t1") ==
        std::vector<std::string>{"send offer", "u2", "open", "lead", "l1",
                                 std::to_string(at(60).time_since_epoch().count()), "high", "0"});
  CHECK(row(env, "subject_kind, subject_id, due_at", "rm_tasks", "t2") ==
        std::vector<std::string>{"NULL", "NULL", "NULL"});

  env.append("activity-a1", activity_deleted{activity_id{"a1"}});
  env.append("task-t1", task_completed{task_id{"t1"}, at(61)});
  env.append("task-t2", task_deleted{task_id{"t2"}});
  env.catch_up(*p);
  // Deleted records keep their rows (a record by id answers whatever its state); lists skip them.
  CHECK(row(env, "version, deleted", "rm_activities", "a1") == std::vector<std::string>{"2", "1"});
  CHECK(row(env, "status", "rm_tasks", "t1") == std::vector<std::string>{"done"});
  CHECK(row(env, "deleted", "rm_tasks", "t2") == std::vector<std::string>{"1"});
}

TEST_CASE_TEMPLATE(
    "records: created_at and updated_at are when the first and last events were "
    "recorded",
    Backend, sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  env.append("team-t1", team_created{team_id{"t1"}, "One"});
  env.append("team-t1", team_renamed{team_id{"t1"}, "Uno"});
  const auto events = env.store().read_all(0, 10);
  REQUIRE(events.size() == 2);
  auto p = env.start({records()});
  env.catch_up(*p);
  CHECK(row(env, "created_at, updated_at, position, version", "rm_teams", "t1") ==
        std::vector<std::string>{std::to_string(events[0].recorded_at.time_since_epoch().count()),
                                 std::to_string(events[1].recorded_at.time_since_epoch().count()),
                                 std::to_string(events[1].global_position), "2"});
}

TEST_CASE_TEMPLATE("records: only the nine aggregates' events are its business", Backend,
                   sqlite_backend, postgres_backend) {
  const auto p = records();
  for (const auto* type : {"user.registered.v1", "team.created.v1", "company.archived.v1",
                           "contact.merged_into.v1", "lead.converted.v1", "pipeline.created.v1",
                           "deal.stage_moved.v1", "activity.deleted.v1", "task.completed.v1"}) {
    CHECK(p->handles(type));
  }
  CHECK_FALSE(p->handles("invoice.created.v1"));
  CHECK_FALSE(p->handles("deals.created.v1"));
  CHECK_FALSE(p->handles("test.happened.v1"));
  // Events of other streams pass by without rows.
  projection_env<Backend> env;
  env.store().append(infra::stream_write{
      "invoice-1",
      std::nullopt,
      {infra::new_event{infra::new_uuid_v7(), "invoice.created.v1", 1, R"({"n":1})", "{}"}}});
  auto projector = env.start({p});
  env.catch_up(*projector);
  for (const auto& relation : p->relations()) CHECK(count(env, relation) == 0);
}

TEST_CASE_TEMPLATE("records: an event it cannot decode stops the projection at that event", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  env.append("team-t1", team_created{team_id{"t1"}, "One"});
  const auto bad =
      env.store()
          .append(infra::stream_write{"team-t2",
                                      std::nullopt,
                                      {infra::new_event{infra::new_uuid_v7(), "team.created.v1", 1,
                                                        R"({"name":7})", "{}"}}})
          .position;
  auto p = env.start({records()});
  CHECK_FALSE(p->wait_for(bad, 2s));
  const auto status = p->status("records");
  REQUIRE(status);
  CHECK(status->state == projections::projection_state::failed);
  CHECK(status->checkpoint < bad);
  REQUIRE(status->error);
  CHECK(status->error->find("team.created.v1") != std::string::npos);
}

TEST_CASE_TEMPLATE("records: a restarted projector folds on from the rows it wrote", Backend,
                   sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  write_history(env, 1);
  {
    auto p = env.start({records()});
    env.catch_up(*p);
  }
  // A new writer has nothing cached: each record's state comes back from its row.
  write_history(env, 2);
  env.append("deal-d1x3", deal_renamed{deal_id{"d1x3"}, "Renamed later"});
  env.append("user-u1x1",
             user_email_changed{user_id{"u1x1"}, "u1x1@example.com", "new@example.com"},
             user_renamed{user_id{"u1x1"}, "Later"});
  env.append("user-u1x0", user_renamed{user_id{"u1x0"}, "Keeps its password"});
  auto p = env.start({records()});
  env.catch_up(*p);
  const auto live = digest(env);
  CHECK(row(env, "version, name_key", "rm_deals", "d1x3") ==
        std::vector<std::string>{"2", "renamed later"});
  CHECK(row(env, "email", "rm_user_credentials", "u1x1", "user_id") ==
        std::vector<std::string>{"new@example.com"});
  CHECK(row(env, "password_hash", "rm_user_credentials", "u1x0", "user_id") ==
        std::vector<std::string>{"$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aA"});

  // From scratch, the same rows.
  p->rebuild("records");
  REQUIRE(p->wait_for_rebuild("records", 30s));
  CHECK(live_generation(env) == 2);
  CHECK(digest(env) == live);
}

TEST_CASE_TEMPLATE("records: a rebuild gives the rows live projection gave, with writes going on",
                   Backend, sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  write_history(env, 1);
  auto p = env.start({records()});
  env.catch_up(*p);
  write_history(env, 2);
  env.catch_up(*p);
  const auto live = digest(env);
  CHECK(live.find("rm_deals: 12 rows") != std::string::npos);
  CHECK(live.find("rm_user_credentials: 8 rows") != std::string::npos);

  p->rebuild("records");
  REQUIRE(p->wait_for_rebuild("records", 30s));
  CHECK(live_generation(env) == 2);
  CHECK(digest(env) == live);

  // Written while a rebuild runs: the switch hands over at a position no lower than live.
  p->rebuild("records");
  write_history(env, 3);
  REQUIRE(p->wait_for_rebuild("records", 30s));
  env.catch_up(*p);
  const auto after = digest(env);
  CHECK(after.find("rm_deals: 18 rows") != std::string::npos);
  p->rebuild("records");
  REQUIRE(p->wait_for_rebuild("records", 30s));
  CHECK(live_generation(env) == 4);
  CHECK(digest(env) == after);
}

TEST_CASE("records (postgres): the analysts' role reads records but never the credentials") {
  projection_env<postgres_backend> env;
  write_history(env, 1);
  auto p = env.start({records()});
  env.catch_up(*p);
  auto session = env.db().open_session();
  const auto can_read = [&](const std::string& relation) {
    const infra::sql::value params[] = {relation};
    return session
               ->query(
                   "SELECT has_table_privilege('realmkit_analyst', quote_ident(current_schema()) "
                   "|| '.' || quote_ident($1), 'SELECT')",
                   params)[0]
               .integer(0) == 1;
  };
  // No refresher runs here: the generation was created without the grant.
  CHECK(can_read("rm_users"));
  CHECK(can_read("rm_users_g1"));
  CHECK_FALSE(can_read("rm_user_credentials"));
  CHECK_FALSE(can_read("rm_user_credentials_g1"));
  p->rebuild("records");
  REQUIRE(p->wait_for_rebuild("records", 30s));
  CHECK(can_read("rm_deals_g2"));
  CHECK_FALSE(can_read("rm_user_credentials_g2"));
  CHECK_FALSE(can_read("rm_user_credentials"));
  session->exec_script("SET ROLE realmkit_analyst");
  CHECK(session->query("SELECT COUNT(*) FROM rm_users")[0].integer(0) > 0);
  CHECK_THROWS_AS(session->query("SELECT COUNT(*) FROM rm_user_credentials"), infra::sql::error);
  session->exec_script("RESET ROLE");
}

TEST_CASE_TEMPLATE("records: a writer that can keep almost nothing cached writes the same rows",
                   Backend, sqlite_backend, postgres_backend) {
  projection_env<Backend> env;
  write_history(env, 1);
  records_options tiny;
  tiny.live_cache_entries = 2;
  tiny.rebuild_cache_entries = 3;
  // Dropped records are first named (known to have rows), then, past a few, looked up.
  tiny.remembered_ids = 12;
  // Small live batches, so that states are dropped and read back between a record's events.
  projections::projector_options small;
  small.live_batch_events = 3;
  small.rebuild_batch_events = 4;
  auto p = env.start({records(tiny)}, small);
  env.catch_up(*p);
  write_history(env, 2);
  env.catch_up(*p);
  const auto live = digest(env);

  p->rebuild("records");
  REQUIRE(p->wait_for_rebuild("records", 30s));
  CHECK(digest(env) == live);

  // And a writer with room for everything, from scratch, agrees.
  p.reset();
  auto roomy = env.start({records()});
  roomy->rebuild("records");
  REQUIRE(roomy->wait_for_rebuild("records", 30s));
  CHECK(digest(env) == live);
}

}  // namespace realmkit::testing
