// The inbox read model on every backend: given events, then a user's open tasks by due time and
// their notifications — records given to them by others, tasks falling due, their deals closed by
// others, activities on their records — newest first.
#include <doctest/doctest.h>

#include "domain/activity/activity_events.hpp"
#include "domain/contact/contact_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/lead/lead_events.hpp"
#include "domain/task/task_events.hpp"
#include "domain/user/user_events.hpp"
#include "projections/inbox/inbox_projection.hpp"
#include "projections/inbox/inbox_query.hpp"
#include "tests/projections/projection_env.hpp"

namespace realmkit::testing {
namespace {

using namespace domain;
namespace inbox = projections::inbox;
using strings = std::vector<std::string>;

// Hours from an epoch that lies before every event the test appends and after none: due times in
// the past are given as negative hours from now, future ones as positive.
timestamp now_plus(std::chrono::hours h) {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()) +
         h;
}

template <class Env>
void given_users(Env& env) {
  env.append("user-a1", user_registered{user_id{"a1"}, "a1@x.io", "Ann A", user_role::sales_rep,
                                        team_id{"team-a"}});
  env.append("user-a2", user_registered{user_id{"a2"}, "a2@x.io", "Al A", user_role::manager,
                                        team_id{"team-a"}});
}

task_created task(const std::string& id, const std::string& assignee,
                  std::optional<timestamp> due) {
  task_created t;
  t.task = task_id{id};
  t.title = "Task " + id;
  t.assignee = user_id{assignee};
  t.due_at = due;
  return t;
}

inbox::inbox_page<inbox::task_item> tasks(infra::sql::database& db, const std::string& user,
                                          std::optional<timestamp> due_before = std::nullopt,
                                          std::size_t limit = 50,
                                          std::optional<std::string> after = std::nullopt) {
  inbox::tasks_request r;
  r.user_id = user;
  r.due_before = due_before;
  r.limit = limit;
  r.after = std::move(after);
  auto session = db.acquire();
  return inbox::read_tasks(*session, r);
}

inbox::inbox_page<inbox::notification> feed(infra::sql::database& db, const std::string& user,
                                            timestamp now, std::size_t limit = 50,
                                            std::optional<std::string> after = std::nullopt) {
  inbox::notifications_request r;
  r.user_id = user;
  r.now = now;
  r.limit = limit;
  r.after = std::move(after);
  auto session = db.acquire();
  return inbox::read_notifications(*session, r);
}

strings ids(const inbox::inbox_page<inbox::task_item>& p) {
  strings out;
  for (const auto& t : p.items) out.push_back(t.id);
  return out;
}

strings kinds(const inbox::inbox_page<inbox::notification>& p) {
  strings out;
  for (const auto& n : p.items) out.push_back(n.kind + ":" + n.subject.id);
  return out;
}

TEST_CASE_TEMPLATE("inbox: a user's open tasks by due time, those without one last", B,
                   sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_users(env);
  env.append("deal-d1", deal_created{deal_id{"d1"},
                                     pipeline_id{"p"},
                                     stage_id{"s"},
                                     "Big one",
                                     {1, "EUR"},
                                     user_id{"a1"},
                                     std::nullopt,
                                     {},
                                     std::nullopt,
                                     now_plus(std::chrono::hours(0))});
  auto linked = task("t1", "a1", now_plus(std::chrono::hours(5)));
  linked.link = entity_ref{entity_kind::deal, "d1"};
  env.append("task-t1", linked);
  env.append("task-t2", task("t2", "a1", now_plus(std::chrono::hours(-3))));
  env.append("task-t3", task("t3", "a1", std::nullopt));
  env.append("task-t4", task("t4", "a2", now_plus(std::chrono::hours(1))));
  env.append("task-t5", task("t5", "a1", now_plus(std::chrono::hours(2))),
             task_completed{task_id{"t5"}, now_plus(std::chrono::hours(0))});
  env.append("task-t6", task("t6", "a1", now_plus(std::chrono::hours(9))),
             task_deleted{task_id{"t6"}});
  auto p = env.start({std::make_shared<inbox::inbox_projection>()});
  env.catch_up(*p);

  auto mine = tasks(env.db(), "a1");
  CHECK(mine.position == env.store().head_position());
  CHECK(ids(mine) == strings{"t2", "t1", "t3"});
  REQUIRE(mine.items[1].link);
  CHECK(mine.items[1].link->kind == "deal");
  CHECK(mine.items[1].link->title == std::optional<std::string>("Big one"));
  CHECK_FALSE(mine.items[2].due_at);
  CHECK(ids(tasks(env.db(), "a1", now_plus(std::chrono::hours(1)))) == strings{"t2"});
  CHECK(ids(tasks(env.db(), "a2")) == strings{"t4"});

  // Pages.
  const auto first = tasks(env.db(), "a1", std::nullopt, 2);
  CHECK(ids(first) == strings{"t2", "t1"});
  REQUIRE(first.next_cursor);
  CHECK(inbox::valid_tasks_cursor(*first.next_cursor));
  CHECK_FALSE(inbox::valid_notifications_cursor(*first.next_cursor));
  const auto second = tasks(env.db(), "a1", std::nullopt, 2, first.next_cursor);
  CHECK(ids(second) == strings{"t3"});
  CHECK_FALSE(second.next_cursor);

  // Reassigned, reopened, due moved.
  env.append("task-t4", task_reassigned{task_id{"t4"}, user_id{"a2"}, user_id{"a1"}});
  env.append("task-t5", task_reopened{task_id{"t5"}});
  env.append("task-t3",
             task_due_changed{task_id{"t3"}, std::nullopt, now_plus(std::chrono::hours(-10))});
  env.catch_up(*p);
  CHECK(ids(tasks(env.db(), "a1")) == strings{"t3", "t2", "t4", "t5", "t1"});
  CHECK(tasks(env.db(), "a2").items.empty());
}

TEST_CASE_TEMPLATE(
    "inbox: notifications of what others did to a user's records, and tasks "
    "falling due",
    B, sqlite_backend, postgres_backend) {
  projection_env<B> env;
  given_users(env);
  // a2 gives a1 a deal, a lead and a contact; a1 creates their own deal (no notification).
  env.append_as("a2", "deal-d1",
                deal_created{deal_id{"d1"},
                             pipeline_id{"p"},
                             stage_id{"s"},
                             "Given deal",
                             {1, "EUR"},
                             user_id{"a1"},
                             std::nullopt,
                             {},
                             std::nullopt,
                             {}});
  env.append_as("a1", "deal-d2",
                deal_created{deal_id{"d2"},
                             pipeline_id{"p"},
                             stage_id{"s"},
                             "Own deal",
                             {1, "EUR"},
                             user_id{"a1"},
                             std::nullopt,
                             {},
                             std::nullopt,
                             {}});
  env.append_as("a2", "lead-l1",
                lead_created{lead_id{"l1"}, "Grace", "", "", "", lead_source::web, user_id{"a2"}},
                lead_owner_assigned{lead_id{"l1"}, user_id{"a2"}, user_id{"a1"}});
  contact_created c;
  c.contact = contact_id{"c1"};
  c.first_name = "Ada";
  c.last_name = "Lovelace";
  c.owner = user_id{"a1"};
  env.append_as("a2", "contact-c1", c);
  // a2 wins a1's deal, loses the other; a1 closing their own would not notify.
  env.append_as("a2", "deal-d1", deal_won{deal_id{"d1"}, {}});
  env.append_as("a2", "deal-d2", deal_lost{deal_id{"d2"}, "no budget", {}});
  // a2 logs a call on a1's deal.
  activity_logged call;
  call.activity = activity_id{"x1"};
  call.type = activity_type::call;
  call.subject = {entity_kind::deal, "d1"};
  call.summary = "Kick-off call";
  call.occurred_at = now_plus(std::chrono::hours(0));
  call.owner = user_id{"a2"};
  env.append_as("a2", "activity-x1", call);
  // Tasks: one given by a2, due in the past (due now); one of a1's own, due in the future (not
  // shown yet); one due in the past but completed before it came due is withdrawn... not here:
  // its due time had passed, so it stays.
  env.append_as("a2", "task-t1", task("t1", "a1", now_plus(std::chrono::hours(-1))));
  env.append_as("a1", "task-t2", task("t2", "a1", now_plus(std::chrono::hours(24))));
  env.append_as("a1", "task-t3", task("t3", "a1", now_plus(std::chrono::hours(48))),
                task_completed{task_id{"t3"}, {}});
  auto p = env.start({std::make_shared<inbox::inbox_projection>()});
  env.catch_up(*p);

  const auto now = now_plus(std::chrono::hours(0));
  auto page = feed(env.db(), "a1", now);
  CHECK(page.position == env.store().head_position());
  CHECK(kinds(page) == strings{"task.assigned:t1", "activity.logged:d1", "deal.lost:d2",
                               "deal.won:d1", "contact.assigned:c1", "lead.assigned:l1",
                               "deal.assigned:d1", "task.due:t1"});
  REQUIRE(page.items.size() == 8);
  CHECK(page.items[1].detail == std::optional<std::string>("Kick-off call"));
  CHECK(page.items[2].detail == std::optional<std::string>("no budget"));
  CHECK(page.items[4].subject.title == std::optional<std::string>("Ada Lovelace"));
  CHECK(page.items[6].subject.title == std::optional<std::string>("Given deal"));
  CHECK(page.items[6].actor_name == std::optional<std::string>("Al A"));
  CHECK(feed(env.db(), "a2", now).items.empty());

  // A day and a bit later t2 has come due; t3, done before its time, never does.
  const auto later = feed(env.db(), "a1", now_plus(std::chrono::hours(60)));
  CHECK(kinds(later).front() == "task.due:t2");
  CHECK(later.items.size() == 9);

  // t2 moves to a2 and its due time moves: the pending notification follows.
  env.append_as("a1", "task-t2", task_reassigned{task_id{"t2"}, user_id{"a1"}, user_id{"a2"}},
                task_due_changed{task_id{"t2"}, now_plus(std::chrono::hours(24)),
                                 now_plus(std::chrono::hours(30))});
  env.catch_up(*p);
  CHECK(feed(env.db(), "a1", now_plus(std::chrono::hours(60))).items.size() == 8);
  CHECK(kinds(feed(env.db(), "a2", now_plus(std::chrono::hours(60)))) ==
        strings{"task.due:t2", "task.assigned:t2"});
  CHECK(feed(env.db(), "a2", now_plus(std::chrono::hours(29))).items.size() == 1);

  // Pages of the feed.
  const auto first = feed(env.db(), "a1", now, 5);
  REQUIRE(first.next_cursor);
  CHECK(inbox::valid_notifications_cursor(*first.next_cursor));
  const auto second = feed(env.db(), "a1", now, 5, first.next_cursor);
  CHECK(second.items.size() == 3);
  CHECK_FALSE(second.next_cursor);
  CHECK(second.items.front().seq < first.items.back().seq);
}

}  // namespace
}  // namespace realmkit::testing
