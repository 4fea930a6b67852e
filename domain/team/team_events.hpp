// Events of the team aggregate: a named group of users with an optional manager who is always
// one of its members.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/common/types.hpp"

namespace realmkit::domain {

struct team_created {
  static constexpr std::string_view kType = "team.created.v1";
  team_id team;
  std::string name;

  bool operator==(const team_created&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("team_id", self.team);
    v("name", self.name);
  }
};

struct team_renamed {
  static constexpr std::string_view kType = "team.renamed.v1";
  team_id team;
  std::string name;

  bool operator==(const team_renamed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("team_id", self.team);
    v("name", self.name);
  }
};

struct team_member_added {
  static constexpr std::string_view kType = "team.member_added.v1";
  team_id team;
  user_id user;

  bool operator==(const team_member_added&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("team_id", self.team);
    v("user_id", self.user);
  }
};

struct team_member_removed {
  static constexpr std::string_view kType = "team.member_removed.v1";
  team_id team;
  user_id user;

  bool operator==(const team_member_removed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("team_id", self.team);
    v("user_id", self.user);
  }
};

// No manager on the `to` side means the team was left without one.
struct team_manager_assigned {
  static constexpr std::string_view kType = "team.manager_assigned.v1";
  team_id team;
  std::optional<user_id> from;
  std::optional<user_id> to;

  bool operator==(const team_manager_assigned&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("team_id", self.team);
    v("from_manager_id", self.from);
    v("to_manager_id", self.to);
  }
};

struct team_archived {
  static constexpr std::string_view kType = "team.archived.v1";
  team_id team;

  bool operator==(const team_archived&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("team_id", self.team);
  }
};

using team_event = std::variant<team_created, team_renamed, team_member_added, team_member_removed,
                                team_manager_assigned, team_archived>;

}  // namespace realmkit::domain
