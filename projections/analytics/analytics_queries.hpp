// The questions /api/analytics answers, over the analytics relations of the live generation.
// Each relation is read where it is freshest enough: on PostgreSQL the materialized view when its
// last refresh covers what the caller asked for (min_position), else the view's query run over
// the fact tables now; on SQLite the relation itself, which the projection keeps current.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "infra/sql/sql_database.hpp"

namespace realmkit::projections::analytics {

// Filters; each query uses those that apply to it (the routes refuse the others). Dates are
// "YYYY-MM-DD", both ends inclusive.
struct filters {
  std::optional<std::string> pipeline;
  std::optional<std::string> owner;
  std::optional<std::string> team;
  std::optional<std::string> source;  // leads
  std::optional<std::string> kind;    // activities
  std::optional<std::string> status;  // slipped deals: open, won, lost
  std::optional<std::string> from;
  std::optional<std::string> to;
  // Read-your-writes: the numbers must include every event up to this position.
  std::optional<std::int64_t> min_position;
};

// How fresh an answer is.
struct freshness {
  // "materialized": a materialized view as of its last refresh; "live": computed from the facts
  // now; "current": SQLite relations, kept current by the projection.
  std::string source;
  std::int64_t position = 0;  // every event up to here is counted (events after it may be too)
  std::optional<std::string> refreshed_at;  // materialized views: when they were refreshed
};

struct stage_total {
  std::string pipeline_id;
  std::string stage_id;
  std::optional<std::string> stage_name;
  std::optional<std::int64_t> stage_position;  // none for a stage removed from the pipeline
  std::int64_t probability = 0;
  std::string currency;
  std::int64_t deals = 0;
  std::int64_t value_minor = 0;
  std::int64_t weighted_minor = 0;
};

struct forecast_month {
  std::string month;  // "YYYY-MM" of the expected close date
  std::string currency;
  std::int64_t deals = 0;
  std::int64_t value_minor = 0;
  std::int64_t weighted_minor = 0;
};

struct money_total {
  std::string currency;
  std::int64_t amount_minor = 0;
};

enum class win_rate_group { owner, team };

struct win_rate_row {
  std::string quarter;                  // "YYYY-Qn" of the close
  std::optional<std::string> group_id;  // owner or team id; none: owners without a team
  std::int64_t won = 0;
  std::int64_t lost = 0;
  std::optional<double> win_rate;  // won / (won + lost)
  std::vector<money_total> won_value;
};

struct stage_duration {
  std::string pipeline_id;
  std::string stage_id;
  std::optional<std::string> stage_name;
  std::optional<std::int64_t> stage_position;
  std::int64_t stays = 0;
  double avg_seconds = 0;
  std::int64_t p90_seconds = 0;
};

struct stage_conversion {
  std::string pipeline_id;
  std::string stage_id;
  std::optional<std::string> stage_name;
  std::optional<std::int64_t> stage_position;
  std::int64_t entered = 0;
  std::int64_t advanced = 0;
  std::optional<double> rate;  // advanced / entered
};

struct funnel_totals {
  std::int64_t leads = 0;
  std::int64_t contacted = 0;
  std::int64_t qualified = 0;
  std::int64_t disqualified = 0;
  std::int64_t converted = 0;
  std::int64_t with_deal = 0;
  std::int64_t won = 0;
};

struct slipped_deal {
  std::string deal_id;
  std::string pipeline_id;
  std::string owner_id;
  std::optional<std::string> team_id;
  std::string status;
  std::optional<std::string> first_close_date;
  std::optional<std::string> expected_close_date;
  std::int64_t slips = 0;
  std::int64_t slip_days = 0;
};

struct velocity_row {
  std::string currency;
  std::int64_t open_deals = 0;
  std::int64_t won = 0;
  std::int64_t lost = 0;
  std::int64_t won_value_minor = 0;
  std::int64_t won_cycle_seconds = 0;
  std::optional<double> win_rate;
  std::optional<double> avg_won_value_minor;
  std::optional<double> avg_cycle_days;
  // open deals x win rate x average won value / average cycle, in minor units per day.
  std::optional<double> velocity_per_day;
};

struct activity_week {
  std::string week;  // the Monday of the ISO week, "YYYY-MM-DD"
  std::string user_id;
  std::int64_t activities = 0;
  std::int64_t minutes = 0;  // of calls and meetings
  std::int64_t calls = 0;
  std::int64_t emails = 0;
  std::int64_t meetings = 0;
  std::int64_t notes = 0;
  std::int64_t sms = 0;
};

template <class Row>
struct answer {
  std::vector<Row> rows;
  freshness fresh;
};

struct slipped_answer {
  std::vector<slipped_deal> rows;
  std::int64_t total = 0;  // slipped deals matching the filters, beyond the limit too
  freshness fresh;
};

struct funnel_answer {
  funnel_totals totals;
  freshness fresh;
};

// Thrown when the analytics projection has no live generation yet (the projector has not
// started on this database).
class analytics_unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Each runs a few statements on `db` (no transaction needed).
answer<stage_total> pipeline_stages(infra::sql::session& db, const filters& f);
answer<forecast_month> forecast(infra::sql::session& db, const filters& f);
answer<win_rate_row> win_rates(infra::sql::session& db, const filters& f, win_rate_group by);
// Uses an_stage_durations unless owner, team or dates narrow it: the percentile of a subset
// is then computed from that subset's stays.
answer<stage_duration> stage_durations(infra::sql::session& db, const filters& f);
answer<stage_conversion> stage_conversions(infra::sql::session& db, const filters& f);
funnel_answer lead_funnel(infra::sql::session& db, const filters& f);
slipped_answer slipped_deals(infra::sql::session& db, const filters& f, std::int64_t limit);
answer<velocity_row> sales_velocity(infra::sql::session& db, const filters& f);
answer<activity_week> activities_per_week(infra::sql::session& db, const filters& f);

// The analytics projection's live checkpoint.
std::int64_t analytics_position(infra::sql::session& db);

}  // namespace realmkit::projections::analytics
