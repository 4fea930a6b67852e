// The task aggregate: its folded state, evolve and decide.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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
  }
};

inline constexpr std::size_t kMaxTaskDescriptionLength = rules::kMaxTextLength;

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
