// `realmkit user create`: bootstraps a user (the first admin) from the command line, through the
// same command path as the API, with the password hashed by argon2id here.
#pragma once

#include <iosfwd>
#include <stdexcept>
#include <string>

#include "infra/crypto/password_hasher.hpp"
#include "infra/store_factory.hpp"

namespace realmkit::app {

// A refusal of the command line's input: printed as it is, exit status 1, nothing written.
class cli_error final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct user_create_options {
  std::string email;
  std::string password;  // or, with password_stdin, the first line of standard input
  bool password_stdin = false;
  std::string role;  // admin, manager, sales_rep, analyst, auditor
  std::string team;  // a team id; empty: no team
  std::string name;  // display name; empty: the address's local part
  infra::crypto::argon2id_params argon2 = infra::crypto::kDefaultArgon2id;
};

// Validates everything before touching the store (role, password policy, address, team id), then
// refuses an address another user holds or a team that does not exist, then registers the user.
// Prints the new user's id on `out`. Throws cli_error for bad input.
void create_user(const infra::store_config& store, user_create_options options, std::istream& in,
                 std::ostream& out);

}  // namespace realmkit::app
