// The users as sign-in needs them, straight from the event store: an index of e-mail addresses
// caught up from the global log on demand, and each user's current facts folded from their own
// stream (so a role change or deactivation counts from the next call). It answers the login's
// account lookup, the refresh's subject lookup and GET /api/auth/me where no users read model is
// wired, and the command line's "is this address taken".
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/auth/auth_types.hpp"
#include "api/auth/login_service.hpp"
#include "api/auth/token_service.hpp"
#include "infra/event_store.hpp"

namespace realmkit::api::auth {

// Everything the directory knows of one user, password hash included: never send it as is.
struct user_record {
  user_profile profile;
  std::string password_hash;  // argon2id PHC string; empty: no password set
};

// Thread safe. Each e-mail lookup first reads the events appended since the previous one (the
// first reads the whole log, once); id lookups read one short stream.
class user_directory final {
 public:
  explicit user_directory(infra::event_store& store);

  // The user with this id; nullopt when no such user was registered.
  std::optional<user_record> find_by_id(std::string_view user_id);
  // The user whose current address this is (normalized: trimmed, lowercased); nullopt when none.
  // Should two users ever hold one address, the first registered answers.
  std::optional<user_record> find_by_email(std::string_view email);
  // Users registered so far (deactivated ones included).
  std::size_t size();

  // The lookups the auth services take, reading through this directory.
  account_lookup accounts();
  subject_lookup subjects();
  profile_lookup profiles();

 private:
  void catch_up_locked();

  infra::event_store& store_;
  std::mutex mutex_;  // guards position_, users_ and by_email_
  std::int64_t position_ = 0;
  std::size_t users_ = 0;
  std::unordered_map<std::string, std::string> by_email_;  // normalized address → user id
};

}  // namespace realmkit::api::auth
