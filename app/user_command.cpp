#include "app/user_command.hpp"

#include <istream>
#include <ostream>

#include "commands/crm_commands.hpp"
#include "commands/email_reservation.hpp"
#include "infra/ids.hpp"

namespace realmkit::app {
namespace {

std::string read_password_line(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) throw cli_error("--password-stdin: no password on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

void create_user(const infra::store_config& store_config, user_create_options options,
                 std::istream& in, std::ostream& out) {
  if (options.password_stdin) {
    if (!options.password.empty()) {
      throw cli_error("give the password with --password or --password-stdin, not both");
    }
    options.password = read_password_line(in);
  }
  domain::user_role role{};
  if (!domain::from_string(options.role, role)) {
    throw cli_error("--role must be one of admin, manager, sales_rep, analyst, auditor (not \"" +
                    options.role + "\")");
  }
  if (options.password.empty()) throw cli_error("a password is required (--password-stdin)");
  if (const auto r = infra::crypto::check_password_policy(options.password, "password")) {
    throw cli_error("the password " + r->reason);
  }
  const auto email = domain::rules::normalized_email(options.email);
  if (const auto r = domain::rules::check_email("email", email)) {
    throw cli_error("--email \"" + options.email + "\" " + r->reason);
  }
  if (!options.team.empty()) {
    if (const auto r = domain::rules::check_id("team", options.team)) {
      throw cli_error("--team \"" + options.team + "\" " + r->reason);
    }
  }
  std::string name = options.name.empty() ? email.substr(0, email.find('@')) : options.name;
  if (const auto r = domain::rules::check_name("name", name)) {
    throw cli_error("--name " + r->reason);
  }

  auto store = infra::open_event_store(store_config);
  commands::command_handler handler(*store);
  // Checked here for a clear message; the command itself reserves the address atomically.
  if (const auto holder =
          handler.load<commands::user_email_aggregate>(commands::email_reservation_id(email))
              .state.holder) {
    throw cli_error("a user with the address " + email + " exists already (id " + holder->value +
                    ")");
  }
  if (!options.team.empty() && !handler.load<domain::team_aggregate>(options.team).state.exists) {
    throw cli_error("--team: there is no team with the id " + options.team);
  }

  const infra::crypto::password_hasher hasher(options.argon2);
  domain::register_user command;
  command.user = domain::user_id{infra::new_uuid_v7()};
  command.email = email;
  command.display_name = name;
  command.role = role;
  if (!options.team.empty()) command.team = domain::team_id{options.team};
  command.password_hash = hasher.hash(options.password);

  commands::command_metadata meta;
  meta.actor = domain::user_id{"cli"};
  meta.now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  meta.correlation_id = infra::new_uuid_v7();
  const auto done = commands::execute(handler, domain::user_command{command}, meta);
  if (!done.ok()) {
    const auto& r = done.error();
    throw cli_error("user not created: " + (r.field.empty() ? "" : r.field + " ") + r.reason);
  }
  out << "created user " << command.user.value << " <" << email << "> with role "
      << domain::to_string(role) << (options.team.empty() ? "" : " in team " + options.team)
      << "\n";
}

}  // namespace realmkit::app
