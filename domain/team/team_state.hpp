// The team aggregate: its folded state, evolve and decide. Invariant after every event: the
// manager, when there is one, is a member.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "domain/team/team_commands.hpp"
#include "domain/team/team_events.hpp"

namespace realmkit::domain {

struct team_state {
  bool exists = false;
  team_id id;
  std::string name;
  std::optional<user_id> manager;
  std::set<user_id> members;
  bool archived = false;

  bool is_member(const user_id& user) const { return members.count(user) != 0; }

  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("exists", self.exists);
    v("id", self.id);
    v("name", self.name);
    v("manager_id", self.manager);
    v("member_ids", self.members);
    v("archived", self.archived);
  }
};

inline constexpr std::size_t kMaxTeamMembers = 500;

team_state evolve(team_state state, const team_event& event);
decision<team_event> decide(const team_command& command, const team_state& state,
                            const command_context& context);

struct team_aggregate {
  using state = team_state;
  using event = team_event;
  using command = team_command;
  static constexpr std::string_view kCategory = "team";
};

}  // namespace realmkit::domain
