// Commands of the task aggregate.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "domain/task/task_events.hpp"

namespace realmkit::domain {

struct create_task {
  task_id task;
  std::string title;
  std::string description;
  std::optional<user_id> assignee;  // the actor when absent
  std::optional<timestamp> due_at;
  std::optional<entity_ref> link;
  task_priority priority = task_priority::normal;
};

// A partial update: absent fields keep their value.
struct edit_task {
  task_id task;
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<task_priority> priority;
};

struct reassign_task {
  task_id task;
  user_id assignee;
};

struct change_task_due {
  task_id task;
  std::optional<timestamp> due_at;  // absent removes the due time
};

struct complete_task {
  task_id task;
};

struct reopen_task {
  task_id task;
};

struct delete_task {
  task_id task;
};

// Moves the task from one record to another (a contact merged into its survivor). Nothing happens
// when the task is no longer about `from`, so a repeated relink is harmless.
struct relink_task {
  task_id task;
  entity_ref from;
  entity_ref to;
};

// Sets (or, absent, removes) the advance reminder.
struct set_task_reminder {
  task_id task;
  std::optional<int> minutes_before;
};

// Makes the task recur (or, absent, stop recurring). Needs a due time to recur from.
struct set_task_recurrence {
  task_id task;
  std::optional<task_recurrence> recurrence;
};

// Reminds the assignee of the task as due at `due_at`: issued by the reminder scheduler once the
// reminder's time has come. Nothing happens when it was sent already, the task changed since
// (done, deleted, due at another time) or its time has not come; an advance reminder whose due
// time has passed meanwhile becomes the overdue one.
struct remind_task {
  task_id task;
  reminder_kind kind = reminder_kind::overdue;
  timestamp due_at{};
};

using task_command =
    std::variant<create_task, edit_task, reassign_task, change_task_due, complete_task, reopen_task,
                 delete_task, relink_task, set_task_reminder, set_task_recurrence, remind_task>;

}  // namespace realmkit::domain
