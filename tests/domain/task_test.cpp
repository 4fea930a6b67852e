#include <string>

#include "domain/task/task_state.hpp"
#include "tests/support/decider_spec.hpp"

using namespace realmkit::domain;
using namespace std::chrono;
using realmkit::testing::decider_spec;
using realmkit::testing::test_context;

namespace {

decider_spec<task_aggregate> spec() {
  return decider_spec<task_aggregate>(
      [](const task_command& c, const task_state& s) { return decide(c, s, test_context()); });
}

const task_id kTask{"t1"};
const user_id kAlice{"alice"};
const user_id kBob{"bob"};
const timestamp kNow = test_context().now;
const timestamp kFriday = kNow + days{2};
const entity_ref kAboutDeal{entity_kind::deal, "d1"};

create_task create_command() {
  return create_task{kTask,        "Send proposal",      "", kAlice, kFriday,
                     std::nullopt, task_priority::normal};
}

task_event created() {
  return task_created{kTask,   "Send proposal", "Draft v2",           kAlice,
                      kFriday, kAboutDeal,      task_priority::normal};
}

task_state fold(const std::vector<task_event>& events) {
  task_state s;
  for (const auto& e : events) s = evolve(std::move(s), e);
  return s;
}

// One of every command that addresses an existing task.
std::vector<task_command> commands_on_existing_task() {
  return {edit_task{kTask, "New title"}, reassign_task{kTask, kBob}, change_task_due{kTask, kNow},
          complete_task{kTask},          reopen_task{kTask},         delete_task{kTask}};
}

}  // namespace

TEST_SUITE("task") {
  TEST_CASE("creating a task records it, title trimmed") {
    auto c = create_command();
    c.title = " Send proposal  ";
    c.description = "Draft v2";
    c.link = kAboutDeal;
    c.priority = task_priority::high;
    spec().when(c).then({task_created{kTask, "Send proposal", "Draft v2", kAlice, kFriday,
                                      kAboutDeal, task_priority::high}});
  }

  TEST_CASE("a task without assignee is the actor's, and needs no due time or link") {
    create_task c{kTask, "Call back"};
    spec().when(c).then({task_created{kTask, "Call back", "", test_context().actor, std::nullopt,
                                      std::nullopt, task_priority::normal}});
  }

  TEST_CASE("a task is created once") {
    spec()
        .given({created()})
        .when(create_command())
        .then_rejected(rejection_code::already_exists, "");
    spec()
        .given({created(), task_deleted{kTask}})
        .when(create_command())
        .then_rejected(rejection_code::already_exists, "");
  }

  TEST_CASE("a task needs an id and a title") {
    auto c = create_command();
    c.task = task_id{"t 1"};
    spec().when(c).then_rejected(rejection_code::invalid, "id");
    c = create_command();
    c.title = "";
    spec().when(c).then_rejected(rejection_code::invalid, "title");
    c.title = std::string(201, 't');
    spec().when(c).then_rejected(rejection_code::invalid, "title");
  }

  TEST_CASE("assignee, link, description and priority must be well-formed") {
    auto c = create_command();
    c.assignee = user_id{"bad id"};
    spec().when(c).then_rejected(rejection_code::invalid, "assignee_id");
    c = create_command();
    c.link = entity_ref{entity_kind::lead, ""};
    spec().when(c).then_rejected(rejection_code::invalid, "link.id");
    c.link = entity_ref{static_cast<entity_kind>(7), "l1"};
    spec().when(c).then_rejected(rejection_code::invalid, "link.kind");
    c = create_command();
    c.description = std::string(10'001, 'd');
    spec().when(c).then_rejected(rejection_code::invalid, "description");
    c = create_command();
    c.priority = static_cast<task_priority>(9);
    spec().when(c).then_rejected(rejection_code::invalid, "priority");
  }

  TEST_CASE("a due time is not before 2000-01-01") {
    auto c = create_command();
    const timestamp y2k = sys_days{2000y / January / 1};
    c.due_at = y2k - microseconds{1};
    spec().when(c).then_rejected(rejection_code::invalid, "due_at");
    c.due_at = timestamp{};
    spec().when(c).then_rejected(rejection_code::invalid, "due_at");
    c.due_at = sys_days{2200y / January / 1};
    spec().when(c).then_rejected(rejection_code::invalid, "due_at");
    c.due_at = y2k;
    spec().when(c).then({task_created{kTask, "Send proposal", "", kAlice, y2k, std::nullopt,
                                      task_priority::normal}});
    spec()
        .given({created()})
        .when(change_task_due{kTask, y2k - days{1}})
        .then_rejected(rejection_code::invalid, "due_at");
  }

  TEST_CASE("relinking moves a task to the survivor of a merge, once") {
    const entity_ref duplicate{entity_kind::contact, "c2"};
    const entity_ref survivor{entity_kind::contact, "c1"};
    auto about_duplicate = std::get<task_created>(created());
    about_duplicate.link = duplicate;
    spec()
        .given({about_duplicate})
        .when(relink_task{kTask, duplicate, survivor})
        .then({task_relinked{kTask, duplicate, survivor}});
    spec()
        .given({about_duplicate, task_relinked{kTask, duplicate, survivor}})
        .when(relink_task{kTask, duplicate, survivor})
        .then({});
    spec().given({created()}).when(relink_task{kTask, duplicate, survivor}).then({});
    spec()
        .given({about_duplicate, task_completed{kTask, kNow}, task_deleted{kTask}})
        .when(relink_task{kTask, duplicate, survivor})
        .then({task_relinked{kTask, duplicate, survivor}});
    spec()
        .given({about_duplicate})
        .when(relink_task{kTask, duplicate, duplicate})
        .then_rejected(rejection_code::invalid, "link");
    spec()
        .when(relink_task{kTask, duplicate, survivor})
        .then_rejected(rejection_code::not_found, "");
    const auto s = fold({about_duplicate, task_relinked{kTask, duplicate, survivor}});
    REQUIRE(s.link);
    CHECK(*s.link == survivor);
    CHECK(s.title == "Send proposal");
  }

  TEST_CASE("commands on a missing task are not found") {
    for (const auto& command : commands_on_existing_task()) {
      CAPTURE(command.index());
      spec().when(command).then_rejected(rejection_code::not_found, "");
    }
  }

  TEST_CASE("a deleted task refuses every change; deleting again is a no-op") {
    for (const auto& command : commands_on_existing_task()) {
      if (std::holds_alternative<delete_task>(command)) continue;
      CAPTURE(command.index());
      spec()
          .given({created(), task_deleted{kTask}})
          .when(command)
          .then_rejected(rejection_code::invalid_state, "deleted");
    }
    spec().given({created()}).when(delete_task{kTask}).then({task_deleted{kTask}});
    spec().given({created(), task_deleted{kTask}}).when(delete_task{kTask}).then({});
  }

  TEST_CASE("editing replaces the given fields and reports them all") {
    spec()
        .given({created()})
        .when(edit_task{kTask, " Send final proposal ", std::nullopt, task_priority::high})
        .then({task_edited{kTask, "Send final proposal", "Draft v2", task_priority::high}});
    spec()
        .given({created()})
        .when(edit_task{kTask, std::nullopt, "", std::nullopt})
        .then({task_edited{kTask, "Send proposal", "", task_priority::normal}});
  }

  TEST_CASE("an edit that changes nothing is a no-op") {
    spec()
        .given({created()})
        .when(edit_task{kTask, "Send proposal", "Draft v2", task_priority::normal})
        .then({});
    spec().given({created()}).when(edit_task{kTask}).then({});
  }

  TEST_CASE("edits follow the same field rules as creation") {
    spec()
        .given({created()})
        .when(edit_task{kTask, "  ", std::nullopt, std::nullopt})
        .then_rejected(rejection_code::invalid, "title");
    spec()
        .given({created()})
        .when(edit_task{kTask, std::nullopt, std::string(10'001, 'd'), std::nullopt})
        .then_rejected(rejection_code::invalid, "description");
    spec()
        .given({created()})
        .when(edit_task{kTask, std::nullopt, std::nullopt, static_cast<task_priority>(5)})
        .then_rejected(rejection_code::invalid, "priority");
  }

  TEST_CASE("reassigning records both assignees; the same assignee is a no-op") {
    spec()
        .given({created()})
        .when(reassign_task{kTask, kBob})
        .then({task_reassigned{kTask, kAlice, kBob}});
    spec().given({created()}).when(reassign_task{kTask, kAlice}).then({});
    spec()
        .given({created()})
        .when(reassign_task{kTask, user_id{""}})
        .then_rejected(rejection_code::invalid, "assignee_id");
  }

  TEST_CASE("changing and removing the due time") {
    spec()
        .given({created()})
        .when(change_task_due{kTask, kNow})
        .then({task_due_changed{kTask, kFriday, kNow}});
    spec()
        .given({created()})
        .when(change_task_due{kTask, std::nullopt})
        .then({task_due_changed{kTask, kFriday, std::nullopt}});
    spec().given({created()}).when(change_task_due{kTask, kFriday}).then({});
    // Overdue tasks are normal: a due time in the past is accepted.
    spec()
        .given({created()})
        .when(change_task_due{kTask, kNow - days{30}})
        .then({task_due_changed{kTask, kFriday, kNow - days{30}}});
  }

  TEST_CASE("completing records when; completing a done task is a no-op") {
    spec().given({created()}).when(complete_task{kTask}).then({task_completed{kTask, kNow}});
    spec().given({created(), task_completed{kTask, kNow}}).when(complete_task{kTask}).then({});
  }

  TEST_CASE("reopening a done task; reopening an open task is a no-op") {
    spec()
        .given({created(), task_completed{kTask, kNow}})
        .when(reopen_task{kTask})
        .then({task_reopened{kTask}});
    spec().given({created()}).when(reopen_task{kTask}).then({});
  }

  TEST_CASE("a done task can still be edited and rescheduled") {
    spec()
        .given({created(), task_completed{kTask, kNow}})
        .when(edit_task{kTask, std::nullopt, "Sent on time", std::nullopt})
        .then({task_edited{kTask, "Send proposal", "Sent on time", task_priority::normal}});
  }

  TEST_CASE("task_priority names round-trip") {
    for (auto priority : {task_priority::low, task_priority::normal, task_priority::high}) {
      task_priority parsed = task_priority::normal;
      CHECK(from_string(to_string(priority), parsed));
      CHECK(parsed == priority);
    }
    task_priority untouched = task_priority::low;
    CHECK_FALSE(from_string("urgent", untouched));
    CHECK(untouched == task_priority::low);
    CHECK(to_string(task_priority::high) == "high");
  }
}

TEST_SUITE("task evolve") {
  TEST_CASE("created sets every field") {
    const auto s = fold({created()});
    CHECK(s.exists);
    CHECK(s.id == kTask);
    CHECK(s.title == "Send proposal");
    CHECK(s.description == "Draft v2");
    CHECK(s.assignee == kAlice);
    CHECK(s.due_at == kFriday);
    CHECK(s.link == kAboutDeal);
    CHECK(s.priority == task_priority::normal);
    CHECK_FALSE(s.done);
    CHECK_FALSE(s.completed_at);
    CHECK_FALSE(s.deleted);
  }

  TEST_CASE("edited, reassigned and due changed") {
    const auto s = fold({created(), task_edited{kTask, "T2", "D2", task_priority::low},
                         task_reassigned{kTask, kAlice, kBob},
                         task_due_changed{kTask, kFriday, std::nullopt}});
    CHECK(s.title == "T2");
    CHECK(s.description == "D2");
    CHECK(s.priority == task_priority::low);
    CHECK(s.assignee == kBob);
    CHECK_FALSE(s.due_at);
    CHECK(s.link == kAboutDeal);
  }

  TEST_CASE("completed and reopened") {
    auto s = fold({created(), task_completed{kTask, kNow}});
    CHECK(s.done);
    CHECK(s.completed_at == kNow);
    s = evolve(s, task_reopened{kTask});
    CHECK_FALSE(s.done);
    CHECK_FALSE(s.completed_at);
  }

  TEST_CASE("deleted marks the task, which still exists") {
    const auto s = fold({created(), task_deleted{kTask}});
    CHECK(s.deleted);
    CHECK(s.exists);
  }
}

namespace {

// Decides at another time than test_context's.
decision<task_event> decide_at(const task_command& c, const task_state& s, timestamp now) {
  return decide(c, s, command_context{test_context().actor, now});
}

std::vector<task_event> events_of(const decision<task_event>& d) {
  REQUIRE(d.ok());
  return d.events();
}

// Open, due on Friday, with a reminder an hour ahead.
task_state reminded_task() {
  return fold({created(), task_reminder_changed{kTask, 60}});
}

timestamp at(year_month_day day, hours h) {
  return timestamp{duration_cast<microseconds>((sys_days{day} + h).time_since_epoch())};
}

}  // namespace

TEST_SUITE("task reminders") {
  TEST_CASE("a task owes an advance reminder when set, and an overdue one, for its due time") {
    CHECK(owed_reminders(fold({created()})) ==
          std::vector<owed_reminder>{{reminder_kind::overdue, kFriday, kFriday}});
    CHECK(owed_reminders(reminded_task()) ==
          std::vector<owed_reminder>{{reminder_kind::due_soon, kFriday - hours{1}, kFriday},
                                     {reminder_kind::overdue, kFriday, kFriday}});
    CHECK(
        owed_reminders(fold({created(), task_due_changed{kTask, kFriday, std::nullopt}})).empty());
    CHECK(owed_reminders(fold({created(), task_completed{kTask, kNow}})).empty());
    CHECK(owed_reminders(fold({created(), task_deleted{kTask}})).empty());
  }

  TEST_CASE("a reminder fires once, not before its time, and a new due time owes new ones") {
    auto s = reminded_task();
    const remind_task soon{kTask, reminder_kind::due_soon, kFriday};
    CHECK(events_of(decide_at(soon, s, kFriday - hours{2})).empty());  // not yet
    const auto fired = events_of(decide_at(soon, s, kFriday - minutes{59}));
    REQUIRE(fired.size() == 1);
    CHECK(fired.front() == task_event{task_reminded{kTask, kAlice, reminder_kind::due_soon, kFriday,
                                                    kFriday - minutes{59}}});
    s = evolve(s, fired.front());
    CHECK(events_of(decide_at(soon, s, kFriday - minutes{30})).empty());  // never twice
    CHECK(owed_reminders(s) ==
          std::vector<owed_reminder>{{reminder_kind::overdue, kFriday, kFriday}});

    const remind_task overdue{kTask, reminder_kind::overdue, kFriday};
    CHECK(events_of(decide_at(overdue, s, kFriday - seconds{1})).empty());
    s = evolve(s, events_of(decide_at(overdue, s, kFriday)).at(0));
    CHECK(events_of(decide_at(overdue, s, kFriday + days{1})).empty());
    CHECK(owed_reminders(s).empty());

    // Moved to next week: both reminders are owed again, for the new due time; a scheduler's
    // stale request for the old due time does nothing.
    s = evolve(s, task_due_changed{kTask, kFriday, kFriday + weeks{1}});
    CHECK(owed_reminders(s).size() == 2);
    CHECK(events_of(decide_at(overdue, s, kFriday + weeks{2})).size() == 0);
  }

  TEST_CASE("an advance reminder that comes too late is the overdue one") {
    const auto s = reminded_task();
    const auto late = events_of(
        decide_at(remind_task{kTask, reminder_kind::due_soon, kFriday}, s, kFriday + hours{5}));
    REQUIRE(late.size() == 1);
    const auto& e = std::get<task_reminded>(late.front());
    CHECK(e.kind == reminder_kind::overdue);
    CHECK(owed_reminders(evolve(s, late.front())).empty());
  }

  TEST_CASE("done or deleted tasks remind nobody; reminders are validated") {
    const remind_task overdue{kTask, reminder_kind::overdue, kFriday};
    CHECK(events_of(decide_at(overdue, fold({created(), task_completed{kTask, kNow}}),
                              kFriday + hours{1}))
              .empty());
    CHECK(events_of(decide_at(overdue, fold({created(), task_deleted{kTask}}), kFriday + hours{1}))
              .empty());
    spec().when(overdue).then_rejected(rejection_code::not_found, "");
    spec()
        .given({created()})
        .when(set_task_reminder{kTask, 0})
        .then_rejected(rejection_code::invalid, "reminder_minutes_before");
    spec()
        .given({created()})
        .when(set_task_reminder{kTask, kMaxReminderMinutes + 1})
        .then_rejected(rejection_code::invalid, "reminder_minutes_before");
    spec()
        .given({created()})
        .when(set_task_reminder{kTask, 15})
        .then({task_reminder_changed{kTask, 15}});
    spec()
        .given({created(), task_reminder_changed{kTask, 15}})
        .when(set_task_reminder{kTask, 15})
        .then({});
    spec()
        .given({created(), task_reminder_changed{kTask, 15}})
        .when(set_task_reminder{kTask, std::nullopt})
        .then({task_reminder_changed{kTask, std::nullopt}});
  }
}

TEST_SUITE("recurring tasks") {
  TEST_CASE("a task recurs from its due time, in days, weeks or calendar months") {
    const auto jan31 = at(2026y / January / 31, hours{9});
    const task_recurrence monthly{recurrence_unit::month, 1};
    CHECK(next_due(jan31, monthly, jan31) == at(2026y / February / 28, hours{9}));
    // Steps count from the due time, so a missed month keeps the 31st where there is one.
    CHECK(next_due(jan31, monthly, at(2026y / March / 1, hours{0})) ==
          at(2026y / March / 31, hours{9}));
    CHECK(next_due(jan31, task_recurrence{recurrence_unit::month, 3}, jan31) ==
          at(2026y / April / 30, hours{9}));
    CHECK(next_due(jan31, task_recurrence{recurrence_unit::day, 2}, jan31) ==
          at(2026y / February / 2, hours{9}));
    CHECK(next_due(jan31, task_recurrence{recurrence_unit::week, 1}, jan31) ==
          at(2026y / February / 7, hours{9}));
    // Completed long after: the first occurrence after that moment, not a backlog.
    CHECK(next_due(jan31, task_recurrence{recurrence_unit::day, 1},
                   at(2027y / June / 5, hours{12})) == at(2027y / June / 6, hours{9}));
    for (int m = 1; m <= 40; ++m) {
      CAPTURE(m);
      const auto after = at(2026y / January / 31, hours{24 * 30 * m});
      const auto next = next_due(jan31, monthly, after);
      CHECK(next > after);
      CHECK(next - after <= days{31});
    }
  }

  TEST_CASE("recurrence needs a due time, sane steps and a short enough id") {
    const task_recurrence weekly{recurrence_unit::week, 1};
    spec()
        .given({created()})
        .when(set_task_recurrence{kTask, weekly})
        .then({task_recurrence_changed{kTask, weekly, kTask, 1}});
    spec()
        .given({created(), task_due_changed{kTask, kFriday, std::nullopt}})
        .when(set_task_recurrence{kTask, weekly})
        .then_rejected(rejection_code::invalid, "recurrence");
    spec()
        .given({created()})
        .when(set_task_recurrence{kTask, task_recurrence{recurrence_unit::day, 0}})
        .then_rejected(rejection_code::invalid, "recurrence.every");
    spec()
        .given({created()})
        .when(set_task_recurrence{kTask, task_recurrence{recurrence_unit::day, 366}})
        .then_rejected(rejection_code::invalid, "recurrence.every");
    spec()
        .given({created(), task_recurrence_changed{kTask, weekly, kTask, 1}})
        .when(set_task_recurrence{kTask, weekly})
        .then({});
    spec()
        .given({created(), task_recurrence_changed{kTask, weekly, kTask, 1}})
        .when(set_task_recurrence{kTask, std::nullopt})
        .then({task_recurrence_changed{kTask, std::nullopt, kTask, 1}});
    auto long_id = std::get<task_created>(created());
    long_id.task = task_id{std::string(53, 'x')};
    decider_spec<task_aggregate>(
        [](const task_command& c, const task_state& s) { return decide(c, s, test_context()); })
        .given({long_id})
        .when(set_task_recurrence{long_id.task, weekly})
        .then_rejected(rejection_code::invalid, "recurrence");
  }

  TEST_CASE("the next occurrence copies the task, due at the next step, as the series' next") {
    const task_recurrence weekly{recurrence_unit::week, 1};
    const auto s =
        fold({created(), task_reminder_changed{kTask, 30},
              task_recurrence_changed{kTask, weekly, kTask, 1}, task_completed{kTask, kNow}});
    const auto next = next_occurrence(s, kNow);
    REQUIRE(next.size() == 3);
    const task_id second{"t1-r2"};
    CHECK(next_occurrence_id(s) == second);
    CHECK(next[0] ==
          task_event{task_created{second, "Send proposal", "Draft v2", kAlice, kFriday + weeks{1},
                                  kAboutDeal, task_priority::normal}});
    CHECK(next[1] == task_event{task_reminder_changed{second, 30}});
    CHECK(next[2] == task_event{task_recurrence_changed{second, weekly, kTask, 2}});
    task_state after;
    for (const auto& e : next) after = evolve(after, e);
    CHECK(next_occurrence_id(after) == task_id{"t1-r3"});
    CHECK(owed_reminders(after).size() == 2);
    CHECK(next_occurrence(fold({created(), task_completed{kTask, kNow}}), kNow).empty());
  }
}
