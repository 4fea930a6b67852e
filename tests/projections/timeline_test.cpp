// The timeline read model on every backend: given events, then each entity's timeline — its own
// events with who and when, its activities and linked tasks kept up to date — newest first, paged,
// and items of other teams left out.
#include <doctest/doctest.h>

#include "domain/activity/activity_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/lead/lead_events.hpp"
#include "domain/task/task_events.hpp"
#include "domain/user/user_events.hpp"
#include "projections/timeline/timeline_projection.hpp"
#include "projections/timeline/timeline_query.hpp"
#include "tests/projections/projection_env.hpp"

namespace realmkit::testing {
namespace {

using namespace domain;
namespace timeline = projections::timeline;
using strings = std::vector<std::string>;

timestamp at_hour(int h) {
  return timestamp{std::chrono::sys_days{std::chrono::year{2026} / 1 / 5}} + std::chrono::hours(h);
}

// Later than any event recorded while the test runs.
timestamp future_hour(int h) {
  return timestamp{std::chrono::sys_days{std::chrono::year{2100} / 1 / 1}} + std::chrono::hours(h);
}

template <class Env>
void given_users(Env& env) {
  env.append("user-a1", user_registered{user_id{"a1"}, "a1@x.io", "Ann A", user_role::sales_rep,
                                        team_id{"team-a"}});
  env.append("user-b1", user_registered{user_id{"b1"}, "b1@x.io", "Bo B", user_role::sales_rep,
                                        team_id{"team-b"}});
}

deal_created deal(const std::string& id) {
  deal_created e;
  e.deal = deal_id{id};
  e.pipeline = pipeline_id{"p1"};
  e.stage = stage_id{"s1"};
  e.title = "Deal " + id;
  e.value = {100, "EUR"};
  e.owner = user_id{"a1"};
  e.at = at_hour(0);
  return e;
}

activity_logged activity(const std::string& id, const std::string& deal, timestamp when,
                         const std::string& owner = "a1") {
  activity_logged a;
  a.activity = activity_id{id};
  a.type = activity_type::call;
  a.subject = {entity_kind::deal, deal};
  a.summary = "Call " + id;
  a.body = "Notes";
  a.occurred_at = when;
  a.duration_minutes = 15;
  a.owner = user_id{owner};
  return a;
}

timeline::timeline_page read(infra::sql::database& db, const std::string& kind,
                             const std::string& id,
                             std::optional<std::optional<std::string>> only_team = std::nullopt,
                             std::size_t limit = 50,
                             std::optional<timeline::timeline_cursor> after = std::nullopt) {
  timeline::timeline_request r;
  r.entity_kind = kind;
  r.entity_id = id;
  r.only_team = std::move(only_team);
  r.limit = limit;
  r.after = after;
  auto session = db.acquire();
  return timeline::read_timeline(*session, r);
}

strings kinds(const timeline::timeline_page& p) {
  strings out;
  for (const auto& e : p.entries) out.push_back(e.entry + ":" + e.type);
  return out;
}

TEST_CASE_TEMPLATE(
    "timeline: an entity's events with who and when, its activities and tasks, "
    "newest first",
    B, sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_users(env);
  env.append_as("a1", "deal-d1", deal("d1"));
  env.append_as("b1", "deal-d1",
                deal_stage_moved{deal_id{"d1"}, pipeline_id{"p1"}, stage_id{"s1"}, stage_id{"s2"},
                                 at_hour(1)});
  // Logged later, about something earlier: an activity sits at the time it occurred.
  env.append_as("a1", "activity-x1", activity("x1", "d1", at_hour(-5)));
  task_created task;
  task.task = task_id{"t1"};
  task.title = "Send offer";
  task.assignee = user_id{"a1"};
  task.due_at = at_hour(48);
  task.link = entity_ref{entity_kind::deal, "d1"};
  task.priority = task_priority::high;
  env.append_as("a1", "task-t1", task);
  task_created unlinked = task;
  unlinked.task = task_id{"t2"};
  unlinked.link.reset();
  env.append_as("a1", "task-t2", unlinked);
  env.append_as("a1", "deal-d2", deal("d2"));  // another deal's timeline
  auto p = env.start({std::make_shared<timeline::timeline_projection>()});
  env.catch_up(*p);

  auto page = read(env.db(), "deal", "d1");
  CHECK(page.position == env.store().head_position());
  REQUIRE(kinds(page) ==
          strings{"task:task", "event:deal.stage_moved", "event:deal.created", "activity:call"});
  const auto& moved = page.entries[1];
  CHECK(moved.actor_id == std::optional<std::string>("b1"));
  CHECK(moved.actor_name == std::optional<std::string>("Bo B"));
  CHECK(moved.version == std::optional<std::int64_t>(2));
  REQUIRE(moved.data);
  CHECK(moved.data->find(R"("from_stage_id":"s1")") != std::string::npos);
  CHECK(moved.data->find(R"("to_stage_id":"s2")") != std::string::npos);
  const auto& t = page.entries[0];
  CHECK(t.item_id == std::optional<std::string>("t1"));
  CHECK(t.summary == std::optional<std::string>("Send offer"));
  CHECK(t.status == std::optional<std::string>("open"));
  CHECK(t.due_at == std::optional<timestamp>(at_hour(48)));
  CHECK(t.priority == std::optional<std::string>("high"));
  CHECK(t.owner_name == std::optional<std::string>("Ann A"));
  const auto& a = page.entries[3];
  CHECK(a.at == at_hour(-5));
  CHECK(a.summary == std::optional<std::string>("Call x1"));
  CHECK(a.duration_minutes == std::optional<std::int64_t>(15));
  CHECK(kinds(read(env.db(), "deal", "d2")) == strings{"event:deal.created"});
  CHECK(read(env.db(), "contact", "d1").entries.empty());

  // Items follow their own changes; deleted ones leave.
  env.append("activity-x1", activity_edited{activity_id{"x1"}, "Call, rescheduled", "More notes",
                                            future_hour(30), 45});
  env.append("task-t1", task_completed{task_id{"t1"}, at_hour(31)},
             task_reassigned{task_id{"t1"}, user_id{"a1"}, user_id{"b1"}},
             task_due_changed{task_id{"t1"}, at_hour(48), std::nullopt});
  env.catch_up(*p);
  page = read(env.db(), "deal", "d1");
  REQUIRE(kinds(page) ==
          strings{"activity:call", "task:task", "event:deal.stage_moved", "event:deal.created"});
  CHECK(page.entries[0].summary == std::optional<std::string>("Call, rescheduled"));
  CHECK(page.entries[0].duration_minutes == std::optional<std::int64_t>(45));
  CHECK(page.entries[1].status == std::optional<std::string>("done"));
  CHECK(page.entries[1].owner_id == std::optional<std::string>("b1"));
  CHECK_FALSE(page.entries[1].due_at);

  env.append("activity-x1", activity_deleted{activity_id{"x1"}});
  env.append("task-t1", task_deleted{task_id{"t1"}});
  env.catch_up(*p);
  CHECK(kinds(read(env.db(), "deal", "d1")) ==
        strings{"event:deal.stage_moved", "event:deal.created"});
}

TEST_CASE_TEMPLATE("timeline: pages newest first with a cursor, and leaves out other teams' items",
                   B, sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_users(env);
  env.append("lead-l1",
             lead_created{lead_id{"l1"}, "Grace", "", "", "", lead_source::web, user_id{"a1"}});
  for (int i = 1; i <= 4; ++i) {
    env.append("lead-l1", lead_scored{lead_id{"l1"}, i * 10, "", "manual"});
  }
  activity_logged mine = activity("x1", "l1", future_hour(100), "a1");
  mine.subject = {entity_kind::lead, "l1"};
  activity_logged theirs = activity("x2", "l1", future_hour(101), "b1");
  theirs.subject = {entity_kind::lead, "l1"};
  env.append("activity-x1", mine);
  env.append("activity-x2", theirs);
  auto p = env.start({std::make_shared<timeline::timeline_projection>()});
  env.catch_up(*p);

  // Everyone: 5 events and 2 activities; in pages of 3.
  auto first = read(env.db(), "lead", "l1", std::nullopt, 3);
  CHECK(kinds(first) == strings{"activity:call", "activity:call", "event:lead.scored"});
  REQUIRE(first.next_cursor);
  const auto after = timeline::decode_timeline_cursor(*first.next_cursor);
  REQUIRE(after);
  auto second = read(env.db(), "lead", "l1", std::nullopt, 3, after);
  CHECK(kinds(second) == strings{"event:lead.scored", "event:lead.scored", "event:lead.scored"});
  REQUIRE(second.next_cursor);
  auto third = read(env.db(), "lead", "l1", std::nullopt, 3,
                    timeline::decode_timeline_cursor(*second.next_cursor));
  CHECK(kinds(third) == strings{"event:lead.created"});
  CHECK_FALSE(third.next_cursor);

  // Team A sees its own activity and the lead's events, not team B's activity.
  auto a = read(env.db(), "lead", "l1", std::optional<std::string>("team-a"));
  CHECK(a.entries.size() == 6);
  CHECK(a.entries[0].item_id == std::optional<std::string>("x1"));
  // Without a team: the entity's events only.
  auto none = read(env.db(), "lead", "l1", std::optional<std::string>());
  CHECK(none.entries.size() == 5);

  CHECK_FALSE(timeline::decode_timeline_cursor("nonsense"));
  CHECK_FALSE(timeline::decode_timeline_cursor("b1.AAAA"));
}

}  // namespace
}  // namespace realmkit::testing
