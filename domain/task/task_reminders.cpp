#include <chrono>

#include "domain/task/task_state.hpp"

namespace realmkit::domain {

using namespace std::chrono;

std::vector<owed_reminder> owed_reminders(const task_state& state) {
  std::vector<owed_reminder> out;
  if (!state.exists || state.deleted || state.done || !state.due_at) return out;
  const auto due = *state.due_at;
  if (state.reminder_minutes && state.reminded_due != due) {
    out.push_back({reminder_kind::due_soon, due - minutes{*state.reminder_minutes}, due});
  }
  if (state.overdue_due != due) out.push_back({reminder_kind::overdue, due, due});
  return out;
}

namespace {

timestamp add_months(timestamp t, int months) {
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const auto target = ymd.year() / ymd.month() + std::chrono::months{months};
  const auto last = year_month_day_last{target.year(), month_day_last{target.month()}}.day();
  const year_month_day moved{target.year(), target.month(), std::min(ymd.day(), last)};
  return sys_days{moved} + (t - day);
}

timestamp step(timestamp due, const task_recurrence& r, int times) {
  switch (r.unit) {
    case recurrence_unit::day:
      return due + days{r.every * times};
    case recurrence_unit::week:
      return due + weeks{r.every * times};
    case recurrence_unit::month:
      return add_months(due, r.every * times);
  }
  return due + days{r.every * times};
}

}  // namespace

timestamp next_due(timestamp due, const task_recurrence& recurrence, timestamp after) {
  // Steps count from `due`, not from each other, so skipping missed occurrences keeps the day of
  // the month. Estimate the count by arithmetic (a daily task completed a year late takes no loop
  // of a year), then settle on the first step after `after`: months differ in length, so the
  // estimate may be off by a step or two either way.
  const auto span = step(due, recurrence, 1) - due;
  int times = after > due ? static_cast<int>((after - due) / span) : 1;
  if (times < 1) times = 1;
  while (times > 1 && step(due, recurrence, times - 1) > after) --times;
  while (step(due, recurrence, times) <= after) ++times;
  return step(due, recurrence, times);
}

task_id next_occurrence_id(const task_state& state) {
  const auto& series = state.series.value.empty() ? state.id : state.series;
  return task_id{series.value + "-r" + std::to_string(std::max(state.occurrence, 1) + 1)};
}

std::vector<task_event> next_occurrence(const task_state& state, timestamp now) {
  std::vector<task_event> out;
  if (!state.recurrence || !state.due_at) return out;
  const auto id = next_occurrence_id(state);
  const auto due = next_due(*state.due_at, *state.recurrence, std::max(*state.due_at, now));
  out.push_back(task_created{id, state.title, state.description, state.assignee, due, state.link,
                             state.priority});
  if (state.reminder_minutes) out.push_back(task_reminder_changed{id, state.reminder_minutes});
  out.push_back(task_recurrence_changed{id, state.recurrence,
                                        state.series.value.empty() ? state.id : state.series,
                                        std::max(state.occurrence, 1) + 1});
  return out;
}

}  // namespace realmkit::domain
