// Commands of the activity aggregate.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "domain/activity/activity_events.hpp"

namespace realmkit::domain {

struct log_activity {
  activity_id activity;
  activity_type type = activity_type::note;
  entity_ref subject;
  std::string summary;
  std::string body;
  timestamp occurred_at{};  // required: the epoch stands for "not given"
  std::optional<int> duration_minutes;
  std::optional<user_id> owner;  // the actor when absent
};

// A partial update: absent fields keep their value.
struct edit_activity {
  activity_id activity;
  std::optional<std::string> summary;
  std::optional<std::string> body;
  std::optional<timestamp> occurred_at;
  std::optional<int> duration_minutes;
};

struct delete_activity {
  activity_id activity;
};

// Moves the activity from one record to another (a contact merged into its survivor). Nothing
// happens when the activity is no longer about `from`, so a repeated relink is harmless.
struct relink_activity {
  activity_id activity;
  entity_ref from;
  entity_ref to;
};

using activity_command =
    std::variant<log_activity, edit_activity, delete_activity, relink_activity>;

}  // namespace realmkit::domain
