// `realmkit demo`: a demo organisation seeded through the command path (so every record has
// its events, as if people had typed it): users of every role in two teams, a sales pipeline,
// companies, contacts, leads, deals across the stages, activities and tasks. Ids are derived from
// fixed names, so a second run finds everything in place and writes nothing.
#pragma once

#include <iosfwd>
#include <string>

#include "infra/crypto/password_hasher.hpp"
#include "infra/event_store.hpp"

namespace realmkit::app {

struct demo_options {
  // Every new demo user's password; empty: a random one per user, printed once.
  std::string password;
  infra::crypto::argon2id_params argon2 = infra::crypto::kDefaultArgon2id;
};

struct demo_summary {
  int created = 0;   // records created by this run
  int existing = 0;  // records found in place
};

// Seeds what is missing and prints the users' credentials (new users only: passwords are not
// stored anywhere but as hashes). Throws cli_error (app/user_command.hpp) for a password that
// breaks the policy, std::runtime_error when a command is refused.
demo_summary seed_demo(infra::event_store& store, const demo_options& options, std::ostream& out);

// A UUID (version 8, RFC 9562) derived from a name: the same name always gives the same id.
std::string demo_id(std::string_view name);

}  // namespace realmkit::app
