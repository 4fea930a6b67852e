// Events of the task aggregate: a to-do with an assignee and a due time, optionally about a
// contact, company, deal or lead.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/common/entity_ref.hpp"
#include "domain/common/types.hpp"

namespace realmkit::domain {

enum class task_priority { low, normal, high };

constexpr std::string_view to_string(task_priority priority) {
  switch (priority) {
    case task_priority::low:
      return "low";
    case task_priority::normal:
      return "normal";
    case task_priority::high:
      return "high";
  }
  return {};  // only for a value outside the enum, which decide rejects
}

constexpr bool from_string(std::string_view text, task_priority& out) {
  return parse_enum(text, out, {task_priority::low, task_priority::normal, task_priority::high});
}

// How often a recurring task comes back: every `every` days, weeks or calendar months after its
// due time.
enum class recurrence_unit { day, week, month };

constexpr std::string_view to_string(recurrence_unit unit) {
  switch (unit) {
    case recurrence_unit::day:
      return "day";
    case recurrence_unit::week:
      return "week";
    case recurrence_unit::month:
      return "month";
  }
  return {};  // only for a value outside the enum, which decide rejects
}

constexpr bool from_string(std::string_view text, recurrence_unit& out) {
  return parse_enum(text, out,
                    {recurrence_unit::day, recurrence_unit::week, recurrence_unit::month});
}

struct task_recurrence {
  recurrence_unit unit = recurrence_unit::week;
  int every = 1;

  bool operator==(const task_recurrence&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("unit", self.unit);
    v("every", self.every);
  }
};

// due_soon: the advance reminder, a chosen number of minutes before the due time; overdue: the
// due time passed and the task is still open.
enum class reminder_kind { due_soon, overdue };

constexpr std::string_view to_string(reminder_kind kind) {
  switch (kind) {
    case reminder_kind::due_soon:
      return "due_soon";
    case reminder_kind::overdue:
      return "overdue";
  }
  return {};
}

constexpr bool from_string(std::string_view text, reminder_kind& out) {
  return parse_enum(text, out, {reminder_kind::due_soon, reminder_kind::overdue});
}

struct task_created {
  static constexpr std::string_view kType = "task.created.v1";
  task_id task;
  std::string title;
  std::string description;  // empty when none
  user_id assignee;
  std::optional<timestamp> due_at;
  std::optional<entity_ref> link;  // the record the task is about
  task_priority priority = task_priority::normal;

  bool operator==(const task_created&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
    v("title", self.title);
    v("description", self.description);
    v("assignee_id", self.assignee);
    v("due_at", self.due_at);
    v("link", self.link);
    v("priority", self.priority);
  }
};

// Carries every editable field with its new value, so a read model applies it without merging.
struct task_edited {
  static constexpr std::string_view kType = "task.edited.v1";
  task_id task;
  std::string title;
  std::string description;
  task_priority priority = task_priority::normal;

  bool operator==(const task_edited&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
    v("title", self.title);
    v("description", self.description);
    v("priority", self.priority);
  }
};

// Both assignees travel with the event: each one's task list changes.
struct task_reassigned {
  static constexpr std::string_view kType = "task.reassigned.v1";
  task_id task;
  user_id from_assignee;
  user_id to_assignee;

  bool operator==(const task_reassigned&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
    v("from_assignee_id", self.from_assignee);
    v("to_assignee_id", self.to_assignee);
  }
};

// An absent `to` removes the due time.
struct task_due_changed {
  static constexpr std::string_view kType = "task.due_changed.v1";
  task_id task;
  std::optional<timestamp> from;
  std::optional<timestamp> to;

  bool operator==(const task_due_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
    v("from", self.from);
    v("to", self.to);
  }
};

struct task_completed {
  static constexpr std::string_view kType = "task.completed.v1";
  task_id task;
  timestamp at{};

  bool operator==(const task_completed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
    v("at", self.at);
  }
};

struct task_reopened {
  static constexpr std::string_view kType = "task.reopened.v1";
  task_id task;

  bool operator==(const task_reopened&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
  }
};

// A soft delete: the task leaves every list, its history stays for audit.
struct task_deleted {
  static constexpr std::string_view kType = "task.deleted.v1";
  task_id task;

  bool operator==(const task_deleted&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
  }
};

// The task is now about another record: the one it was about was merged into that one.
struct task_relinked {
  static constexpr std::string_view kType = "task.relinked.v1";
  task_id task;
  entity_ref from;
  entity_ref link;

  bool operator==(const task_relinked&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
    v("from_link", self.from);
    v("link", self.link);
  }
};

// The advance reminder: how long before the due time the assignee is reminded; absent: none.
struct task_reminder_changed {
  static constexpr std::string_view kType = "task.reminder_changed.v1";
  task_id task;
  std::optional<int> minutes_before;

  bool operator==(const task_reminder_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
    v("minutes_before", self.minutes_before);
  }
};

// The task recurs (or, absent, no longer does). `series` is the first task of the series and
// `occurrence` this task's place in it, so the next occurrence's id is known in advance.
struct task_recurrence_changed {
  static constexpr std::string_view kType = "task.recurrence_changed.v1";
  task_id task;
  std::optional<task_recurrence> recurrence;
  task_id series;
  int occurrence = 1;

  bool operator==(const task_recurrence_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
    v("recurrence", self.recurrence);
    v("series_id", self.series);
    v("occurrence", self.occurrence);
  }
};

// A reminder reached the assignee, at `at`, for the task as due at `due_at`: once per due time
// and kind, however many schedulers run.
struct task_reminded {
  static constexpr std::string_view kType = "task.reminded.v1";
  task_id task;
  user_id assignee;
  reminder_kind kind = reminder_kind::overdue;
  timestamp due_at{};
  timestamp at{};

  bool operator==(const task_reminded&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("task_id", self.task);
    v("assignee_id", self.assignee);
    v("kind", self.kind);
    v("due_at", self.due_at);
    v("at", self.at);
  }
};

using task_event = std::variant<task_created, task_edited, task_reassigned, task_due_changed,
                                task_completed, task_reopened, task_deleted, task_relinked,
                                task_reminder_changed, task_recurrence_changed, task_reminded>;

}  // namespace realmkit::domain
