// The users a read model needs for team visibility and display (id, team, display name), kept
// from the user events in the read model's own relation, so that each projection is complete on
// its own and rebuilds without waiting for another.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "infra/event_store.hpp"
#include "infra/sql/sql_database.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::support {

struct user_row {
  std::optional<std::string> team;
  std::string display_name;
};

class user_table {
 public:
  // `table`: the physical name of this generation's relation, unquoted.
  explicit user_table(std::string table);

  // Creates the relation: user_id (key), team_id (null: no team), display_name.
  static void create(infra::sql::session& db, const std::string& table);
  // The user events it applies.
  static bool handles(std::string_view event_type);

  // Applies a user event: buffers its write into `out` and, when the map is kept, updates it.
  // Returns the user whose team or display name changed, for the read model to update the rows
  // that carry them.
  std::optional<std::string> apply(const infra::recorded_event& event, statement_batch& out);

  // Writers that need teams in memory keep the whole map: load() reads it once (not needed when
  // the generation started empty, then apply() fills it).
  void load(infra::sql::session& db);
  bool loaded() const { return loaded_; }
  void mark_loaded() { loaded_ = true; }
  std::optional<std::string> team_of(const std::string& user) const;
  std::optional<std::string> name_of(const std::string& user) const;
  void forget() noexcept;

 private:
  std::string table_;
  std::string upsert_sql_, rename_sql_, team_sql_;
  std::unordered_map<std::string, user_row> users_;
  bool loaded_ = false;
};

}  // namespace realmkit::projections::support
