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

using task_command = std::variant<create_task, edit_task, reassign_task, change_task_due,
                                  complete_task, reopen_task, delete_task, relink_task>;

}  // namespace realmkit::domain
