#include "api/auth/user_directory.hpp"

#include "domain/user/user_state.hpp"
#include "infra/event_codec.hpp"

namespace realmkit::api::auth {
namespace {

constexpr std::size_t kCatchUpBatch = 10'000;

std::string stream_of(std::string_view user_id) {
  return std::string(domain::user_aggregate::kCategory) + "-" + std::string(user_id);
}

}  // namespace

user_directory::user_directory(infra::event_store& store) : store_(store) {}

std::optional<user_record> user_directory::find_by_id(std::string_view user_id) {
  if (user_id.empty()) return std::nullopt;
  domain::user_state state;
  for (const auto& recorded : store_.read_stream(stream_of(user_id))) {
    state = domain::evolve(std::move(state), infra::decode_event<domain::user_event>(recorded));
  }
  if (!state.exists) return std::nullopt;
  user_record r;
  r.profile.user_id = state.id.value;
  r.profile.email = state.email;
  r.profile.display_name = state.display_name;
  r.profile.role = state.role;
  if (state.team) r.profile.team_id = state.team->value;
  r.profile.active = state.active;
  r.password_hash = state.password_hash;
  return r;
}

std::optional<user_record> user_directory::find_by_email(std::string_view email) {
  const auto key = domain::rules::normalized_email(email);
  std::string id;
  {
    std::lock_guard lock(mutex_);
    catch_up_locked();
    const auto it = by_email_.find(key);
    if (it == by_email_.end()) return std::nullopt;
    id = it->second;
  }
  auto found = find_by_id(id);
  // The stream may be ahead of the index (a change of address since): trust the stream.
  if (found && found->profile.email != key) return std::nullopt;
  return found;
}

std::size_t user_directory::size() {
  std::lock_guard lock(mutex_);
  catch_up_locked();
  return users_;
}

void user_directory::catch_up_locked() {
  for (;;) {
    const auto events = store_.read_all(position_, kCatchUpBatch);
    for (const auto& recorded : events) {
      position_ = recorded.global_position;
      if (!recorded.type.starts_with("user.registered.") &&
          !recorded.type.starts_with("user.email_changed.")) {
        continue;
      }
      const auto event = infra::decode_event<domain::user_event>(recorded);
      if (const auto* registered = std::get_if<domain::user_registered>(&event)) {
        ++users_;
        by_email_.try_emplace(registered->email, registered->user.value);
      } else if (const auto* changed = std::get_if<domain::user_email_changed>(&event)) {
        if (const auto it = by_email_.find(changed->from);
            it != by_email_.end() && it->second == changed->user.value) {
          by_email_.erase(it);
        }
        by_email_.try_emplace(changed->to, changed->user.value);
      }
    }
    if (events.size() < kCatchUpBatch) return;
  }
}

account_lookup user_directory::accounts() {
  return [this](std::string_view email) -> std::optional<login_account> {
    auto found = find_by_email(email);
    if (!found) return std::nullopt;
    return login_account{found->profile.user_id, std::move(found->password_hash),
                         found->profile.role, found->profile.team_id, found->profile.active};
  };
}

subject_lookup user_directory::subjects() {
  return [this](std::string_view user_id) -> std::optional<subject> {
    const auto found = find_by_id(user_id);
    if (!found || !found->profile.active) return std::nullopt;
    return subject{found->profile.user_id, found->profile.role, found->profile.team_id};
  };
}

profile_lookup user_directory::profiles() {
  return [this](std::string_view user_id) -> std::optional<user_profile> {
    auto found = find_by_id(user_id);
    if (!found) return std::nullopt;
    return std::move(found->profile);
  };
}

}  // namespace realmkit::api::auth
