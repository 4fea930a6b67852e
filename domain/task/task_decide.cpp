#include <algorithm>

#include "domain/task/task_state.hpp"

namespace realmkit::domain {
namespace {

using namespace std::chrono;

using events = std::vector<task_event>;

// A due time outside this range is a mistyped year, not a plan.
constexpr timestamp kEarliestDue = sys_days{year{2000} / January / 1};
constexpr timestamp kLatestDue = sys_days{year{2200} / January / 1};

std::optional<rejection> check_due(const std::optional<timestamp>& due) {
  if (!due) return std::nullopt;
  if (*due < kEarliestDue) return invalid("due_at", "must not be before 2000-01-01");
  if (*due >= kLatestDue) return invalid("due_at", "must be before 2200-01-01");
  return std::nullopt;
}

std::optional<rejection> check_priority(task_priority priority) {
  if (to_string(priority).empty()) return invalid("priority", "must be one of low, normal, high");
  return std::nullopt;
}

// A deleted task is kept for audit but refuses every change.
std::optional<rejection> require_live(const task_state& state) {
  if (!state.exists) return not_found("task does not exist");
  if (state.deleted) return invalid_state("deleted", "task is deleted");
  return std::nullopt;
}

decision<task_event> decide_create(const create_task& c, const task_state& state,
                                   const command_context& ctx) {
  if (state.exists) return already_exists("task already exists");
  if (auto r = rules::check_id("id", c.task.value)) return *r;
  if (auto r = rules::check_name("title", c.title)) return *r;
  if (auto r = rules::check_text("description", c.description, kMaxTaskDescriptionLength)) {
    return *r;
  }
  const user_id assignee = c.assignee.value_or(ctx.actor);
  if (auto r = rules::check_id("assignee_id", assignee.value)) return *r;
  if (auto r = check_due(c.due_at)) return *r;
  if (c.link) {
    if (auto r = check_entity_ref("link", *c.link)) return *r;
  }
  if (auto r = check_priority(c.priority)) return *r;
  return task_event{task_created{c.task, rules::trimmed(c.title), c.description, assignee, c.due_at,
                                 c.link, c.priority}};
}

decision<task_event> decide_edit(const edit_task& c, const task_state& state) {
  if (auto r = require_live(state)) return *r;
  task_edited edited{state.id, state.title, state.description, state.priority};
  if (c.title) {
    if (auto r = rules::check_name("title", *c.title)) return *r;
    edited.title = rules::trimmed(*c.title);
  }
  if (c.description) {
    if (auto r = rules::check_text("description", *c.description, kMaxTaskDescriptionLength)) {
      return *r;
    }
    edited.description = *c.description;
  }
  if (c.priority) {
    if (auto r = check_priority(*c.priority)) return *r;
    edited.priority = *c.priority;
  }
  if (edited.title == state.title && edited.description == state.description &&
      edited.priority == state.priority) {
    return events{};
  }
  return task_event{std::move(edited)};
}

decision<task_event> decide_reminder(const set_task_reminder& c, const task_state& state) {
  if (auto r = require_live(state)) return *r;
  if (c.minutes_before && (*c.minutes_before < 1 || *c.minutes_before > kMaxReminderMinutes)) {
    return invalid("reminder_minutes_before",
                   "must be between 1 and " + std::to_string(kMaxReminderMinutes));
  }
  if (c.minutes_before == state.reminder_minutes) return events{};
  return task_event{task_reminder_changed{state.id, c.minutes_before}};
}

decision<task_event> decide_recurrence(const set_task_recurrence& c, const task_state& state) {
  if (auto r = require_live(state)) return *r;
  const task_id series = state.series.value.empty() ? state.id : state.series;
  if (c.recurrence) {
    if (to_string(c.recurrence->unit).empty()) {
      return invalid("recurrence.unit", "must be one of day, week, month");
    }
    if (c.recurrence->every < 1 || c.recurrence->every > kMaxRecurrenceEvery) {
      return invalid("recurrence.every",
                     "must be between 1 and " + std::to_string(kMaxRecurrenceEvery));
    }
    if (!state.due_at) return invalid("recurrence", "a recurring task needs a due time");
    if (series.value.size() > kMaxSeriesIdLength) {
      return invalid("recurrence", "a recurring task's id has at most " +
                                       std::to_string(kMaxSeriesIdLength) + " characters");
    }
  }
  if (c.recurrence == state.recurrence) return events{};
  return task_event{
      task_recurrence_changed{state.id, c.recurrence, series, std::max(state.occurrence, 1)}};
}

decision<task_event> decide_remind(const remind_task& c, const task_state& state,
                                   const command_context& ctx) {
  if (!state.exists) return not_found("task does not exist");
  if (state.deleted || state.done || state.due_at != c.due_at) return events{};
  const auto owed = owed_reminders(state);
  const auto it = std::find_if(owed.begin(), owed.end(),
                               [&](const owed_reminder& r) { return r.kind == c.kind; });
  if (it == owed.end() || ctx.now < it->fire_at) return events{};
  auto kind = c.kind;
  if (kind == reminder_kind::due_soon && ctx.now >= c.due_at) {
    // Too late to warn ahead: what is owed now is the overdue reminder, if it is still owed.
    if (owed.back().kind != reminder_kind::overdue) return events{};
    kind = reminder_kind::overdue;
  }
  return task_event{task_reminded{state.id, state.assignee, kind, c.due_at, ctx.now}};
}

}  // namespace

decision<task_event> decide(const task_command& command, const task_state& state,
                            const command_context& ctx) {
  return std::visit(overloaded{
                        [&](const create_task& c) { return decide_create(c, state, ctx); },
                        [&](const edit_task& c) { return decide_edit(c, state); },
                        [&](const reassign_task& c) -> decision<task_event> {
                          if (auto r = require_live(state)) return *r;
                          if (auto r = rules::check_id("assignee_id", c.assignee.value)) return *r;
                          if (c.assignee == state.assignee) return events{};
                          return task_event{task_reassigned{state.id, state.assignee, c.assignee}};
                        },
                        [&](const change_task_due& c) -> decision<task_event> {
                          if (auto r = require_live(state)) return *r;
                          if (auto r = check_due(c.due_at)) return *r;
                          if (c.due_at == state.due_at) return events{};
                          return task_event{task_due_changed{state.id, state.due_at, c.due_at}};
                        },
                        [&](const complete_task&) -> decision<task_event> {
                          if (auto r = require_live(state)) return *r;
                          if (state.done) return events{};
                          return task_event{task_completed{state.id, ctx.now}};
                        },
                        [&](const reopen_task&) -> decision<task_event> {
                          if (auto r = require_live(state)) return *r;
                          if (!state.done) return events{};
                          return task_event{task_reopened{state.id}};
                        },
                        [&](const delete_task&) -> decision<task_event> {
                          if (!state.exists) return not_found("task does not exist");
                          if (state.deleted) return events{};
                          return task_event{task_deleted{state.id}};
                        },
                        [&](const relink_task& c) -> decision<task_event> {
                          if (!state.exists) return not_found("task does not exist");
                          if (auto r = check_entity_ref("link", c.to)) return *r;
                          if (c.from == c.to) {
                            return invalid("link", "must differ from the record it leaves");
                          }
                          if (state.link != c.from) return events{};
                          return task_event{task_relinked{state.id, c.from, c.to}};
                        },
                        [&](const set_task_reminder& c) { return decide_reminder(c, state); },
                        [&](const set_task_recurrence& c) { return decide_recurrence(c, state); },
                        [&](const remind_task& c) { return decide_remind(c, state, ctx); },
                    },
                    command);
}

}  // namespace realmkit::domain
