#include "api/auth/login_service.hpp"

#include <stdexcept>

#include "domain/common/types.hpp"

namespace realmkit::api::auth {
namespace {

// RFC 5321 allows 254 characters in a usable address; anything longer cannot be an account, and
// is not worth remembering in the lockout table.
constexpr std::size_t kMaxEmailLength = 254;

}  // namespace

std::string_view to_string(login_status status) {
  switch (status) {
    case login_status::ok:
      return "ok";
    case login_status::invalid_credentials:
      return "invalid_credentials";
    case login_status::locked_out:
      return "locked_out";
  }
  return {};
}

login_service::login_service(const infra::crypto::password_hasher& hasher, token_service& tokens,
                             login_lockout& lockout, account_lookup lookup)
    : hasher_(hasher), tokens_(tokens), lockout_(lockout), lookup_(std::move(lookup)) {
  if (!lookup_) throw std::invalid_argument("login service without an account lookup");
}

login_result login_service::login(std::string_view email, std::string_view password) {
  login_result result;
  const std::string account = domain::rules::normalized_email(email);
  if (account.empty() || account.size() > kMaxEmailLength) {
    hasher_.verify_dummy(password);
    return result;
  }
  if (const auto locked = lockout_.locked_for(account); locked.count() > 0) {
    // Refused before any password check, so a locked account cannot be probed further; the
    // lock itself is the same for registered and unknown addresses.
    result.status = login_status::locked_out;
    result.retry_after = locked;
    return result;
  }
  const auto found = lookup_(account);
  bool ok = false;
  if (found && !found->password_hash.empty()) {
    // Verified even for a deactivated user, so that case costs the same time as the others.
    ok = hasher_.verify(found->password_hash, password) && found->active;
  } else {
    hasher_.verify_dummy(password);
  }
  if (!ok) {
    lockout_.record_failure(account);
    return result;
  }
  lockout_.record_success(account);
  if (hasher_.needs_rehash(found->password_hash)) {
    result.new_password_hash = hasher_.hash(password);
  }
  result.status = login_status::ok;
  result.user_id = found->user_id;
  result.tokens = tokens_.issue(subject{found->user_id, found->role, found->team_id});
  return result;
}

}  // namespace realmkit::api::auth
