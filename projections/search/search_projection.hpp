// The full-text search read model over contacts, companies, deals and leads: one document per
// record (title, subtitle, owner and the owner's team for visibility, normalized terms), indexed
// by PostgreSQL's tsvector with a GIN index, or by an SQLite FTS5 table kept in step by triggers.
//
// Relations: rm_search (kind, id, owner_id, owner_team, title, subtitle, name_terms, other_terms,
// indexed, source) plus rm_search_users (user_id, team_id, display_name). On PostgreSQL rm_search
// also has tsv, a stored generated tsvector (names weighted A, the rest C; null when not indexed).
// On SQLite each generation has an FTS5 table "rm_search_fts_g<N>" over rm_search_g<N> (external
// content, rowid = doc_id): it is no relation of its own because FTS5 cannot be queried through a
// view, so queries name the live generation's table (search_query resolves it).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace realmkit::projections::search {

inline constexpr std::string_view kProjectionName = "search";

// The FTS5 table of a generation (SQLite).
std::string fts_table(const relation_names& names);

class search_projection final : public projection {
 public:
  std::string_view name() const override { return kProjectionName; }
  int version() const override { return 1; }
  std::vector<std::string> relations() const override;
  void create(infra::sql::session& db, const relation_names& names) const override;
  void drop(infra::sql::session& db, const relation_names& names) const override;
  bool handles(std::string_view event_type) const override;
  std::unique_ptr<projection_writer> open(const relation_names& names) const override;
  std::string view_sql(infra::sql::dialect dialect, std::string_view relation,
                       const relation_names& names) const override;
};

}  // namespace realmkit::projections::search
