// Unique e-mail addresses across users. Every address in use is reserved in a stream of its own,
// written in the same atomic append as the user.registered or user.email_changed event that takes
// it: two concurrent requests for one address both expect the reservation stream at the version
// they read, so the store lets only one of them commit. Changing an address releases the old one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/common/types.hpp"

namespace realmkit::commands {

struct user_email_reserved {
  static constexpr std::string_view kType = "user_email.reserved.v1";
  domain::user_id user;

  bool operator==(const user_email_reserved&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("user_id", self.user);
  }
};

struct user_email_released {
  static constexpr std::string_view kType = "user_email.released.v1";
  domain::user_id user;

  bool operator==(const user_email_released&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("user_id", self.user);
  }
};

using user_email_event = std::variant<user_email_reserved, user_email_released>;

struct user_email_state {
  std::optional<domain::user_id> holder;  // who uses the address now; none: free
};

user_email_state evolve(user_email_state state, const user_email_event& event);

// Not a domain aggregate (it has no commands of its own): the command layer decides on it while
// deciding a user command.
struct user_email_aggregate {
  using state = user_email_state;
  using event = user_email_event;
  static constexpr std::string_view kCategory = "user_email";
};

// The reservation id of an address: the lowercase hex SHA-256 of its normalized form, so stream
// ids carry no personal data (an erased user's address leaves no readable trace in them).
std::string email_reservation_id(std::string_view email);

}  // namespace realmkit::commands
