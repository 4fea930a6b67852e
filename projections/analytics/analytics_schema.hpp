// The relations of the analytics projection and their SQL: fact tables written by the projection,
// and the analytics derived from them — materialized views on PostgreSQL (refreshed by
// analytics_refresher), on SQLite plain views (figures over open deals, which an index keeps
// small) or tables the projection maintains (figures over all history). docs/analysts.md
// describes every column.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "infra/sql/sql_database.hpp"

namespace realmkit::projections::analytics {

inline constexpr std::string_view kProjectionName = "analytics";

// Facts, one row per thing that happened or exists.
inline constexpr std::string_view kUsers = "fact_users";
inline constexpr std::string_view kStages = "fact_pipeline_stages";
inline constexpr std::string_view kDeals = "fact_deals";
inline constexpr std::string_view kStays = "fact_stage_intervals";
inline constexpr std::string_view kLeads = "fact_lead_funnel";
inline constexpr std::string_view kActivities = "fact_activities";
// Bookkeeping: the position of the last event that changed a fact, and what the refresher did.
inline constexpr std::string_view kChanges = "fact_changes";
inline constexpr std::string_view kRefreshes = "an_refreshes";
// The analytics.
inline constexpr std::string_view kPipelineStages = "an_pipeline_stages";
inline constexpr std::string_view kForecast = "an_forecast_monthly";
inline constexpr std::string_view kWinRates = "an_win_rates";
inline constexpr std::string_view kStageDurations = "an_stage_durations";
inline constexpr std::string_view kConversion = "an_stage_conversion";
inline constexpr std::string_view kFunnel = "an_lead_funnel";
inline constexpr std::string_view kSlipped = "an_slipped_deals";
inline constexpr std::string_view kActivityCounts = "an_activities";

enum class relation_kind { table, view, materialized_view };

// Every relation, facts first (the analytics are defined over them).
std::vector<std::string> all_relations();
// The analytics relations (an_* except an_refreshes), in the order the refresher refreshes them.
std::span<const std::string_view> analytics_relations();
relation_kind kind_of(infra::sql::dialect dialect, std::string_view relation);

// An additive analytics relation that the projection maintains itself on SQLite: rows are keyed
// by `keys` and hold sums; a row whose `counts` columns are all 0 counts nothing and is deleted.
struct rollup_spec {
  std::string_view relation;
  std::vector<std::string_view> keys;
  std::vector<std::string_view> measures;
  std::vector<std::size_t> counts;  // indexes into measures
};
std::span<const rollup_spec> rollups();
const rollup_spec& rollup(std::string_view relation);

// The columns of a fact table in order, with their PostgreSQL types (for bulk writes).
struct fact_column {
  std::string_view name;
  std::string_view postgres_type;
};
std::vector<fact_column> fact_columns(std::string_view relation);

// Maps a relation's stable name to the (unquoted) name to use in SQL: a generation's physical
// name ("fact_deals_g3"), or the stable view itself, which always shows the live generation.
using name_fn = std::function<std::string(std::string_view)>;
std::string stable_name(std::string_view relation);

// The SELECT that defines an analytics relation over the facts (PostgreSQL: the materialized
// view's query, also run directly when a reader needs fresher numbers; SQLite: the view's query,
// or for a maintained table the query that would compute it).
std::string definition(infra::sql::dialect dialect, std::string_view relation, const name_fn& name);

// Creates and drops one generation's relations (inside a transaction). Dropping looks up what
// each relation actually is, so a generation written by another version drops cleanly.
void create_relations(infra::sql::session& db, const name_fn& name);
void drop_relations(infra::sql::session& db, const name_fn& name);

}  // namespace realmkit::projections::analytics
