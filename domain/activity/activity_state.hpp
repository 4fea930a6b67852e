// The activity aggregate: its folded state, evolve and decide.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/activity/activity_commands.hpp"
#include "domain/activity/activity_events.hpp"

namespace realmkit::domain {

struct activity_state {
  bool exists = false;
  activity_id id;
  activity_type type = activity_type::note;
  entity_ref subject;
  std::string summary;
  std::string body;
  timestamp occurred_at{};
  std::optional<int> duration_minutes;
  user_id owner;
  bool deleted = false;

  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("exists", self.exists);
    v("id", self.id);
    v("type", self.type);
    v("subject", self.subject);
    v("summary", self.summary);
    v("body", self.body);
    v("occurred_at", self.occurred_at);
    v("duration_minutes", self.duration_minutes);
    v("owner_id", self.owner);
    v("deleted", self.deleted);
  }
};

inline constexpr int kMaxActivityDurationMinutes = 24 * 60;
inline constexpr std::size_t kMaxActivityBodyLength = rules::kMaxTextLength;

activity_state evolve(activity_state state, const activity_event& event);
decision<activity_event> decide(const activity_command& command, const activity_state& state,
                                const command_context& context);

struct activity_aggregate {
  using state = activity_state;
  using event = activity_event;
  using command = activity_command;
  static constexpr std::string_view kCategory = "activity";
};

}  // namespace realmkit::domain
