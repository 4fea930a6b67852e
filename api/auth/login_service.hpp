// POST /api/auth/login without the HTTP: e-mail and password in, a session's tokens out, with
// the lockout, timing equalization and transparent rehashing that make it safe to expose.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "api/auth/login_lockout.hpp"
#include "api/auth/token_service.hpp"
#include "infra/crypto/password_hasher.hpp"

namespace realmkit::api::auth {

// What the login needs to know about a user, from the users read model or the user stream.
struct login_account {
  std::string user_id;
  std::string password_hash;  // argon2id PHC string; empty: no password set, cannot log in
  domain::user_role role = domain::user_role::sales_rep;
  std::optional<std::string> team_id;
  bool active = true;
};

// Finds the account with this normalized e-mail address (trimmed, ASCII-lowercased).
using account_lookup = std::function<std::optional<login_account>(std::string_view email)>;

enum class login_status {
  ok,
  invalid_credentials,  // unknown e-mail, wrong password, no password, deactivated: one answer
  locked_out,           // too many failures for this e-mail; retry_after says how long
};
std::string_view to_string(login_status status);

struct login_result {
  login_status status = login_status::invalid_credentials;
  std::optional<token_pair> tokens;     // when ok
  std::string user_id;                  // when ok, for the audit log
  std::chrono::seconds retry_after{0};  // when locked_out
  // When ok and the stored hash was made with other argon2id parameters: the password hashed
  // with the current ones. The caller records it (change_user_password) so hashes upgrade as
  // users log in.
  std::optional<std::string> new_password_hash;
};

// Thread safe. Each call costs one argon2id verification (about 63 ms of one core), also for an
// unknown account, except while the e-mail is locked out.
class login_service {
 public:
  login_service(const infra::crypto::password_hasher& hasher, token_service& tokens,
                login_lockout& lockout, account_lookup lookup);

  login_result login(std::string_view email, std::string_view password);

 private:
  const infra::crypto::password_hasher& hasher_;
  token_service& tokens_;
  login_lockout& lockout_;
  account_lookup lookup_;
};

}  // namespace realmkit::api::auth
