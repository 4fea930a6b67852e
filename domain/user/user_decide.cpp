#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "domain/user/user_state.hpp"

namespace realmkit::domain {
namespace {

using events = std::vector<user_event>;

bool is_base64(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

bool is_number(std::string_view s) {
  return !s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// "m=65536,t=2,p=1": the three argon2 cost parameters, in this order, as libsodium writes them.
bool is_argon2_params(std::string_view s) {
  constexpr std::array<std::string_view, 3> kKeys{"m=", "t=", "p="};
  for (std::size_t i = 0; i < kKeys.size(); ++i) {
    if (s.substr(0, 2) != kKeys[i]) return false;
    s.remove_prefix(2);
    const bool last = i + 1 == kKeys.size();
    const auto end = last ? s.size() : s.find(',');
    if (end == std::string_view::npos || !is_number(s.substr(0, end))) return false;
    s.remove_prefix(last ? end : end + 1);
  }
  return s.empty();
}

std::optional<rejection> check_role(user_role role) {
  if (to_string(role).empty()) {
    return invalid("role", "must be one of admin, manager, sales_rep, analyst, auditor");
  }
  return std::nullopt;
}

std::optional<rejection> check_team(const std::optional<team_id>& team) {
  if (team) return rules::check_id("team_id", team->value);
  return std::nullopt;
}

std::optional<rejection> check_email(std::string_view email) {
  return rules::check_email("email", rules::trimmed(email));
}

// Every command but register needs the user; a deactivated user only accepts reactivation.
std::optional<rejection> require_active(const user_state& state) {
  if (!state.exists) return not_found("user does not exist");
  if (!state.active) return invalid_state("active", "user is deactivated; reactivate them first");
  return std::nullopt;
}

decision<user_event> decide_register(const register_user& c, const user_state& state) {
  if (state.exists) return already_exists("user already exists");
  if (auto r = rules::check_id("id", c.user.value)) return *r;
  if (auto r = check_email(c.email)) return *r;
  if (auto r = rules::check_name("display_name", c.display_name)) return *r;
  if (auto r = check_role(c.role)) return *r;
  if (auto r = check_team(c.team)) return *r;
  if (c.password_hash) {
    if (auto r = check_password_hash("password_hash", *c.password_hash)) return *r;
  }
  events out{user_registered{c.user, rules::normalized_email(c.email),
                             rules::trimmed(c.display_name), c.role, c.team}};
  if (c.password_hash) out.push_back(user_password_changed{c.user, *c.password_hash});
  return out;
}

}  // namespace

std::optional<rejection> check_password_hash(std::string_view field, std::string_view hash) {
  auto bad = [&](std::string reason) { return invalid(std::string(field), std::move(reason)); };
  if (hash.empty()) return bad("must not be empty");
  if (hash.size() > kMaxPasswordHashLength) return bad("is too long");
  constexpr std::string_view kPrefix = "$argon2id$";
  if (hash.substr(0, kPrefix.size()) != kPrefix) return bad("must be an argon2id PHC string");
  std::vector<std::string_view> parts;
  std::string_view rest = hash.substr(kPrefix.size());
  for (auto dollar = rest.find('$'); dollar != std::string_view::npos; dollar = rest.find('$')) {
    parts.push_back(rest.substr(0, dollar));
    rest.remove_prefix(dollar + 1);
  }
  parts.push_back(rest);
  const bool ok = parts.size() == 4 && parts[0].substr(0, 2) == "v=" &&
                  is_number(parts[0].substr(2)) && is_argon2_params(parts[1]) &&
                  is_base64(parts[2]) && is_base64(parts[3]);
  if (!ok) return bad("must be an argon2id PHC string ($argon2id$v=19$m=..,t=..,p=..$salt$hash)");
  return std::nullopt;
}

decision<user_event> decide(const user_command& command, const user_state& state,
                            const command_context& ctx) {
  return std::visit(
      overloaded{
          [&](const register_user& c) { return decide_register(c, state); },
          [&](const rename_user& c) -> decision<user_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = rules::check_name("display_name", c.display_name)) return *r;
            auto name = rules::trimmed(c.display_name);
            if (name == state.display_name) return events{};
            return user_event{user_renamed{state.id, std::move(name)}};
          },
          [&](const change_user_email& c) -> decision<user_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = check_email(c.email)) return *r;
            auto email = rules::normalized_email(c.email);
            if (email == state.email) return events{};
            return user_event{user_email_changed{state.id, state.email, std::move(email)}};
          },
          [&](const change_user_role& c) -> decision<user_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = check_role(c.role)) return *r;
            // Checked before the no-op, so the answer does not depend on the current role.
            if (ctx.actor == state.id) {
              return invalid_state("role", "users cannot change their own role");
            }
            if (c.role == state.role) return events{};
            return user_event{user_role_changed{state.id, state.role, c.role}};
          },
          [&](const change_user_team& c) -> decision<user_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = check_team(c.team)) return *r;
            if (c.team == state.team) return events{};
            return user_event{user_team_changed{state.id, state.team, c.team}};
          },
          [&](const change_user_password& c) -> decision<user_event> {
            if (auto r = require_active(state)) return *r;
            if (auto r = check_password_hash("password_hash", c.password_hash)) return *r;
            // The same PHC string means the same salt too: a resent request, not a new password.
            if (c.password_hash == state.password_hash) return events{};
            return user_event{user_password_changed{state.id, c.password_hash}};
          },
          [&](const deactivate_user&) -> decision<user_event> {
            if (!state.exists) return not_found("user does not exist");
            if (!state.active) return events{};
            // Nobody locks themselves out: deactivating takes a second administrator.
            if (ctx.actor == state.id) {
              return invalid_state("user_id", "users cannot deactivate themselves");
            }
            return user_event{user_deactivated{state.id}};
          },
          [&](const reactivate_user&) -> decision<user_event> {
            if (!state.exists) return not_found("user does not exist");
            if (state.active) return events{};
            return user_event{user_reactivated{state.id}};
          },
      },
      command);
}

}  // namespace realmkit::domain
