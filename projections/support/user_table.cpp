#include "projections/support/user_table.hpp"

#include "domain/user/user_events.hpp"
#include "infra/event_codec.hpp"

namespace realmkit::projections::support {

namespace sql = infra::sql;
using namespace domain;

namespace {
sql::value optional_text(const std::optional<team_id>& team) {
  return team ? sql::value(team->value) : sql::null();
}
}  // namespace

user_table::user_table(std::string table) : table_(std::move(table)) {
  const auto t = sql::identifier(table_);
  upsert_sql_ = "INSERT INTO " + t +
                " (user_id, team_id, display_name) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO "
                "UPDATE SET team_id = excluded.team_id, display_name = excluded.display_name";
  rename_sql_ = "UPDATE " + t + " SET display_name = $2 WHERE user_id = $1";
  team_sql_ = "UPDATE " + t + " SET team_id = $2 WHERE user_id = $1";
}

void user_table::create(sql::session& db, const std::string& table) {
  db.exec_script("CREATE TABLE " + sql::identifier(table) +
                 " (user_id TEXT PRIMARY KEY, team_id TEXT, display_name TEXT NOT NULL)");
}

bool user_table::handles(std::string_view type) {
  return type == user_registered::kType || type == user_renamed::kType ||
         type == user_team_changed::kType;
}

std::optional<std::string> user_table::apply(const infra::recorded_event& event,
                                             statement_batch& out) {
  if (!handles(event.type)) return std::nullopt;
  const auto decoded = infra::decode_event<user_event>(event);
  std::optional<std::string> moved;
  std::visit(overloaded{
                 [&](const user_registered& e) {
                   out.add(upsert_sql_, {e.user.value, optional_text(e.team), e.display_name});
                   if (loaded_) {
                     users_[e.user.value] = {e.team ? std::optional(e.team->value) : std::nullopt,
                                             e.display_name};
                   }
                 },
                 [&](const user_renamed& e) {
                   out.add(rename_sql_, {e.user.value, e.display_name});
                   if (loaded_) users_[e.user.value].display_name = e.display_name;
                   moved = e.user.value;
                 },
                 [&](const user_team_changed& e) {
                   out.add(team_sql_, {e.user.value, optional_text(e.to)});
                   if (loaded_) {
                     users_[e.user.value].team = e.to ? std::optional(e.to->value) : std::nullopt;
                   }
                   moved = e.user.value;
                 },
                 [](const auto&) {},
             },
             decoded);
  return moved;
}

void user_table::load(sql::session& db) {
  users_.clear();
  for (const auto& r :
       db.query("SELECT user_id, team_id, display_name FROM " + sql::identifier(table_))) {
    users_[r.text(0)] = {r.optional_text(1), r.text(2)};
  }
  loaded_ = true;
}

std::optional<std::string> user_table::team_of(const std::string& user) const {
  const auto it = users_.find(user);
  if (it == users_.end()) return std::nullopt;
  return it->second.team;
}

std::optional<std::string> user_table::name_of(const std::string& user) const {
  const auto it = users_.find(user);
  if (it == users_.end()) return std::nullopt;
  return it->second.display_name;
}

void user_table::forget() noexcept {
  users_.clear();
  loaded_ = false;
}

}  // namespace realmkit::projections::support
