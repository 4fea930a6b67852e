#include "api/auth/token_service.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "infra/crypto/encoding.hpp"
#include "infra/crypto/mac.hpp"
#include "infra/crypto/random.hpp"
#include "infra/ids.hpp"

namespace realmkit::api::auth {
namespace {

namespace crypto = infra::crypto;

constexpr std::size_t kRefreshTokenBytes = 32;   // 256 bits
constexpr std::size_t kRefreshTokenLength = 43;  // its unpadded base64url length
constexpr std::size_t kTokenIdBytes = 16;

jwt_verify_options verify_options(const token_options& o) {
  return {o.issuer, o.audience, o.leeway};
}

}  // namespace

std::string_view to_string(refresh_status status) {
  switch (status) {
    case refresh_status::ok:
      return "ok";
    case refresh_status::invalid:
      return "invalid";
    case refresh_status::expired:
      return "expired";
    case refresh_status::revoked:
      return "revoked";
    case refresh_status::reused:
      return "reused";
    case refresh_status::user_gone:
      return "user_gone";
  }
  return {};
}

token_service::token_service(jwt_keyset keys, token_options options, refresh_token_store& store,
                             clock_fn clock, revocation_list* revocations)
    : options_(std::move(options)),
      verifier_(std::move(keys), verify_options(options_), clock),
      store_(store),
      clock_(clock ? std::move(clock) : system_clock()),
      revocations_(revocations) {
  using std::chrono::seconds;
  if (options_.access_ttl <= seconds{0} || options_.refresh_ttl <= seconds{0} ||
      options_.session_lifetime <= seconds{0}) {
    throw std::invalid_argument("token lifetimes must be positive");
  }
  if (options_.refresh_ttl > options_.session_lifetime) {
    throw std::invalid_argument("the refresh token lifetime must not exceed the session lifetime");
  }
}

std::string token_service::access_token_for(const subject& who, timestamp now,
                                            const std::string& family_id) const {
  jwt_claims claims;
  claims.issuer = options_.issuer;
  claims.subject = who.user_id;
  claims.audience = {options_.audience};
  claims.issued_at = std::chrono::floor<std::chrono::seconds>(now);
  claims.expires_at = claims.issued_at + options_.access_ttl;
  claims.token_id = crypto::random_token(kTokenIdBytes);
  claims.role = who.role;
  claims.team_id = who.team_id;
  claims.session_id = family_id;
  return sign_jwt(claims, verifier_.keys().signing_key());
}

std::optional<std::string> token_service::hash_of(std::string_view refresh_token) const {
  // Anything that is not 32 bytes of base64url was never issued: answered without the store.
  if (refresh_token.size() != kRefreshTokenLength || !crypto::is_base64url(refresh_token)) {
    return std::nullopt;
  }
  return crypto::sha256_hex(refresh_token);
}

token_pair token_service::issue(const subject& who) {
  if (who.user_id.empty()) throw std::invalid_argument("token subject without a user id");
  const timestamp now = clock_();
  const std::string refresh = crypto::random_token(kRefreshTokenBytes);
  refresh_token_record record;
  record.token_hash = crypto::sha256_hex(refresh);
  record.family_id = infra::new_uuid_v7();
  record.user_id = who.user_id;
  record.issued_at = now;
  record.family_expires_at = now + options_.session_lifetime;
  record.expires_at = now + options_.refresh_ttl;
  store_.insert(record);
  return {access_token_for(who, now, record.family_id), refresh, options_.access_ttl,
          record.expires_at, record.family_id};
}

refresh_result token_service::refresh(std::string_view refresh_token,
                                      const subject_lookup& current) {
  const auto hash = hash_of(refresh_token);
  if (!hash) return {refresh_status::invalid, std::nullopt, {}};
  const timestamp now = clock_();
  refresh_result result;

  // The user's current facts are looked up before the rotation: should the lookup fail (the
  // read model is down), the presented token is still live and the client may simply retry.
  std::optional<subject> who;
  if (const auto found = store_.find(*hash); !found) {
    return result;  // invalid
  } else if (classify(*found, now) == rotate_status::rotated) {
    result.user_id = found->user_id;
    who = current ? current(found->user_id) : std::nullopt;
    if (!who || who->user_id != found->user_id) {
      store_.revoke_family(found->family_id, revoke_reason::user, now);
      result.status = refresh_status::user_gone;
      return result;
    }
  }

  // Decided atomically by the store, whatever the look-up above saw: a concurrent use of the same
  // token may have rotated it meanwhile.
  const std::string successor = crypto::random_token(kRefreshTokenBytes);
  const auto rotated =
      store_.rotate(*hash, crypto::sha256_hex(successor), now + options_.refresh_ttl, now);
  if (rotated.record) result.user_id = rotated.record->user_id;
  switch (rotated.status) {
    case rotate_status::not_found:
      result.status = refresh_status::invalid;
      return result;
    case rotate_status::expired:
      result.status = refresh_status::expired;
      return result;
    case rotate_status::revoked:
      result.status = refresh_status::revoked;
      return result;
    case rotate_status::reused:
      result.status = refresh_status::reused;
      return result;
    case rotate_status::rotated:
      break;
  }
  const refresh_token_record& next = *rotated.record;
  if (!who) {
    // Only when the token turned live between the look-up and the rotation, which a store
    // cannot do; refuse rather than issue an access token without current facts.
    store_.revoke_family(next.family_id, revoke_reason::user, now);
    result.status = refresh_status::user_gone;
    return result;
  }
  result.status = refresh_status::ok;
  result.tokens = token_pair{access_token_for(*who, now, next.family_id), successor,
                             options_.access_ttl, next.expires_at, next.family_id};
  return result;
}

authentication token_service::authenticate(std::string_view access_token) const {
  auto verified = verifier_.verify(access_token);
  authentication result;
  result.error = verified.error;
  result.detail = std::move(verified.detail);
  if (!result.ok()) return result;
  const jwt_claims& c = verified.claims;
  if (revocations_) {
    // Asked only now: a forged or expired token never costs a round trip to the list.
    revocation_status status = revocation_status::unknown;
    try {
      status = revocations_->check(c.session_id.value_or(std::string()), c.subject, c.issued_at);
    } catch (const std::exception& e) {
      // The contract says check() does not throw; should one still, fail closed all the same.
      result.detail = std::string("the revocation check failed: ") + e.what();
    }
    switch (status) {
      case revocation_status::not_revoked:
        break;
      case revocation_status::revoked:
        result.error = jwt_error::revoked;
        result.detail = "the session was logged out or the user's tokens were revoked";
        return result;
      case revocation_status::unknown:
        result.error = jwt_error::revocation_unknown;
        if (result.detail.empty()) result.detail = "the revocation list is unavailable";
        return result;
    }
  }
  result.who = principal{c.subject,
                         c.role,
                         c.team_id,
                         c.token_id,
                         std::chrono::time_point_cast<std::chrono::microseconds>(c.expires_at),
                         c.session_id};
  return result;
}

std::chrono::seconds token_service::revocation_ttl() const {
  return options_.access_ttl + options_.leeway;
}

bool token_service::logout(std::string_view refresh_token) {
  const auto hash = hash_of(refresh_token);
  if (!hash) return false;
  const auto record = store_.find(*hash);
  if (!record) return false;
  // The store first: whatever happens to the revocation list, the session ends here.
  store_.revoke_family(record->family_id, revoke_reason::logout, clock_());
  if (revocations_) {
    try {
      revocations_->revoke_session(record->family_id, revocation_ttl());
    } catch (const std::exception& e) {
      spdlog::warn(
          "logout of a session of user {}: the revocation list did not take it ({}); its access "
          "tokens stay valid until they expire, within {} s",
          record->user_id, e.what(), revocation_ttl().count());
    }
  }
  return true;
}

std::size_t token_service::revoke_user(std::string_view user_id) {
  const timestamp now = clock_();
  const auto ended = store_.revoke_user(user_id, now);
  if (revocations_) {
    try {
      revocations_->revoke_user(user_id, std::chrono::floor<std::chrono::seconds>(now),
                                revocation_ttl());
    } catch (const std::exception& e) {
      // The sessions ended above all the same; failing the password change or deactivation
      // that called this would not make the access tokens any shorter.
      spdlog::warn(
          "revoking user {}: the revocation list did not take it ({}); their access tokens stay "
          "valid until they expire, within {} s",
          user_id, e.what(), revocation_ttl().count());
    }
  }
  return ended;
}

std::size_t token_service::purge_expired(std::chrono::seconds keep) {
  return store_.purge_expired(clock_() - keep);
}

}  // namespace realmkit::api::auth
