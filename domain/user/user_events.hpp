// Events of the user aggregate: a person who signs in, with a role that decides what they may do.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/common/types.hpp"

namespace realmkit::domain {

enum class user_role { admin, manager, sales_rep, analyst, auditor };

constexpr std::string_view to_string(user_role role) {
  switch (role) {
    case user_role::admin:
      return "admin";
    case user_role::manager:
      return "manager";
    case user_role::sales_rep:
      return "sales_rep";
    case user_role::analyst:
      return "analyst";
    case user_role::auditor:
      return "auditor";
  }
  return {};  // only for a value outside the enum, which decide rejects
}

constexpr bool from_string(std::string_view text, user_role& out) {
  return parse_enum(text, out,
                    {user_role::admin, user_role::manager, user_role::sales_rep, user_role::analyst,
                     user_role::auditor});
}

// The e-mail address is stored normalized (trimmed, lowercase); uniqueness across users is
// enforced by the command side against a lookup, not here.
struct user_registered {
  static constexpr std::string_view kType = "user.registered.v1";
  user_id user;
  std::string email;
  std::string display_name;
  user_role role = user_role::sales_rep;
  std::optional<team_id> team;

  bool operator==(const user_registered&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("user_id", self.user);
    v("email", self.email);
    v("display_name", self.display_name);
    v("role", self.role);
    v("team_id", self.team);
  }
};

struct user_renamed {
  static constexpr std::string_view kType = "user.renamed.v1";
  user_id user;
  std::string display_name;

  bool operator==(const user_renamed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("user_id", self.user);
    v("display_name", self.display_name);
  }
};

// Both addresses travel with the event so the e-mail lookup can release the old one.
struct user_email_changed {
  static constexpr std::string_view kType = "user.email_changed.v1";
  user_id user;
  std::string from;
  std::string to;

  bool operator==(const user_email_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("user_id", self.user);
    v("from", self.from);
    v("to", self.to);
  }
};

// Both roles travel with the event: auditors read privilege changes without folding the stream.
struct user_role_changed {
  static constexpr std::string_view kType = "user.role_changed.v1";
  user_id user;
  user_role from = user_role::sales_rep;
  user_role to = user_role::sales_rep;

  bool operator==(const user_role_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("user_id", self.user);
    v("from", self.from);
    v("to", self.to);
  }
};

// No team on either side means "not in a team".
struct user_team_changed {
  static constexpr std::string_view kType = "user.team_changed.v1";
  user_id user;
  std::optional<team_id> from;
  std::optional<team_id> to;

  bool operator==(const user_team_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("user_id", self.user);
    v("from_team_id", self.from);
    v("to_team_id", self.to);
  }
};

// The password itself never reaches the domain: the hash is an argon2id PHC string computed at
// the edge (libsodium), and the event carries only that.
struct user_password_changed {
  static constexpr std::string_view kType = "user.password_changed.v1";
  user_id user;
  std::string password_hash;

  bool operator==(const user_password_changed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("user_id", self.user);
    v("password_hash", self.password_hash);
  }
};

struct user_deactivated {
  static constexpr std::string_view kType = "user.deactivated.v1";
  user_id user;

  bool operator==(const user_deactivated&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("user_id", self.user);
  }
};

struct user_reactivated {
  static constexpr std::string_view kType = "user.reactivated.v1";
  user_id user;

  bool operator==(const user_reactivated&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("user_id", self.user);
  }
};

using user_event =
    std::variant<user_registered, user_renamed, user_email_changed, user_role_changed,
                 user_team_changed, user_password_changed, user_deactivated, user_reactivated>;

}  // namespace realmkit::domain
