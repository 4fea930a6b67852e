// The task aggregate: its folded state, evolve and decide.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/task/task_commands.hpp"
#include "domain/task/task_events.hpp"

namespace realmkit::domain {

struct task_state {
  bool exists = false;
  task_id id;
  std::string title;
  std::string description;
  user_id assignee;
  std::optional<timestamp> due_at;
  std::optional<entity_ref> link;
  task_priority priority = task_priority::normal;
  bool done = false;
  std::optional<timestamp> completed_at;  // set while done
  bool deleted = false;
  std::optional<int> reminder_minutes;  // the advance reminder, minutes before the due time
  std::optional<task_recurrence> recurrence;
  task_id series;      // the series' first task, once it recurred or recurs
  int occurrence = 0;  // its place in the series (1 for the first), 0 outside one
  // The due time each kind of reminder was last sent for: a new due time owes new reminders.
  std::optional<timestamp> reminded_due;
  std::optional<timestamp> overdue_due;

  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("exists", self.exists);
    v("id", self.id);
    v("title", self.title);
    v("description", self.description);
    v("assignee_id", self.assignee);
    v("due_at", self.due_at);
    v("link", self.link);
    v("priority", self.priority);
    v("done", self.done);
    v("completed_at", self.completed_at);
    v("deleted", self.deleted);
    v("reminder_minutes_before", self.reminder_minutes);
    v("recurrence", self.recurrence);
    v("series_id", self.series);
    v("occurrence", self.occurrence);
    v("reminded_due_at", self.reminded_due);
    v("overdue_reminded_due_at", self.overdue_due);
  }
};

inline constexpr std::size_t kMaxTaskDescriptionLength = rules::kMaxTextLength;
inline constexpr int kMaxReminderMinutes = 4 * 7 * 24 * 60;  // four weeks ahead
inline constexpr int kMaxRecurrenceEvery = 365;
// A series' first id leaves room for "-r<occurrence>" within the 64 characters of an id.
inline constexpr std::size_t kMaxSeriesIdLength = 52;

// A reminder a task owes: when it fires, for which due time.
struct owed_reminder {
  reminder_kind kind = reminder_kind::overdue;
  timestamp fire_at{};
  timestamp due_at{};
  bool operator==(const owed_reminder&) const = default;
};

// The reminders an open task with a due time has not sent for that due time yet: the advance
// one (when set and not superseded by the overdue one), then the overdue one.
std::vector<owed_reminder> owed_reminders(const task_state& state);

// The due time of the occurrence after one due at `due`: the first step of the recurrence that
// lies after `after` (a task completed late does not come back already overdue). Months are
// calendar months; a day past the end of a shorter month becomes its last day.
timestamp next_due(timestamp due, const task_recurrence& recurrence, timestamp after);

// The id of the occurrence that follows `state`'s: "<series>-r<occurrence + 1>".
task_id next_occurrence_id(const task_state& state);

// The events that create the next occurrence of a recurring task completed at `now`: the same
// title, description, assignee, link, priority, advance reminder and recurrence, due at the next
// due time. Empty when the task does not recur or has no due time.
std::vector<task_event> next_occurrence(const task_state& state, timestamp now);

task_state evolve(task_state state, const task_event& event);
decision<task_event> decide(const task_command& command, const task_state& state,
                            const command_context& context);

struct task_aggregate {
  using state = task_state;
  using event = task_event;
  using command = task_command;
  static constexpr std::string_view kCategory = "task";
};

}  // namespace realmkit::domain
