// The user aggregate: its folded state, evolve and decide.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/user/user_commands.hpp"
#include "domain/user/user_events.hpp"

namespace realmkit::domain {

struct user_state {
  bool exists = false;
  user_id id;
  std::string email;  // normalized
  std::string display_name;
  user_role role = user_role::sales_rep;
  std::optional<team_id> team;
  std::string password_hash;  // empty until a password is set
  bool active = true;

  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("exists", self.exists);
    v("id", self.id);
    v("email", self.email);
    v("display_name", self.display_name);
    v("role", self.role);
    v("team_id", self.team);
    v("password_hash", self.password_hash);
    v("active", self.active);
  }
};

inline constexpr std::size_t kMaxPasswordHashLength = 512;

// nullopt when `hash` looks like an argon2id PHC string:
// "$argon2id$v=19$m=<kib>,t=<passes>,p=<lanes>$<salt>$<hash>", salt and hash in unpadded base64.
std::optional<rejection> check_password_hash(std::string_view field, std::string_view hash);

user_state evolve(user_state state, const user_event& event);
decision<user_event> decide(const user_command& command, const user_state& state,
                            const command_context& context);

struct user_aggregate {
  using state = user_state;
  using event = user_event;
  using command = user_command;
  static constexpr std::string_view kCategory = "user";
};

}  // namespace realmkit::domain
