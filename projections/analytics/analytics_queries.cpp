#include "projections/analytics/analytics_queries.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "projections/analytics/analytics_schema.hpp"

namespace realmkit::projections::analytics {

namespace sql = infra::sql;

namespace {

constexpr double kSecondsPerDay = 86'400.0;

// A WHERE clause built from the filters that are set, with its parameters.
class where_clause {
 public:
  void equals(std::string_view column, const std::optional<std::string>& v) {
    if (v) add(std::string(column) + " = ", *v);
  }
  void at_least(std::string_view column, const std::optional<std::string>& v) {
    if (v) add(std::string(column) + " >= ", *v);
  }
  void at_most(std::string_view column, const std::optional<std::string>& v) {
    if (v) add(std::string(column) + " <= ", *v);
  }
  void raw(std::string condition) { conditions_.push_back(std::move(condition)); }
  std::string next_param() const { return "$" + std::to_string(params_.size() + 1); }
  void param(sql::value v) { params_.push_back(std::move(v)); }

  std::string text() const {
    std::string out;
    for (const auto& c : conditions_) out += (out.empty() ? " WHERE " : " AND ") + c;
    return out;
  }
  const std::vector<sql::value>& params() const { return params_; }

 private:
  void add(std::string condition, const std::string& v) {
    params_.emplace_back(v);
    conditions_.push_back(condition + "$" + std::to_string(params_.size()));
  }
  std::vector<std::string> conditions_;
  std::vector<sql::value> params_;
};

std::string instant_column(sql::dialect d, std::string_view column) {
  if (d == sql::dialect::postgres) {
    return "to_char(" + std::string(column) +
           " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
  }
  return std::string(column);
}

std::string day_column(sql::dialect d, std::string_view column) {
  if (d == sql::dialect::postgres) return "to_char(" + std::string(column) + ", 'YYYY-MM-DD')";
  return std::string(column);
}

std::int64_t int_or_zero(const sql::row& r, std::size_t i) {
  return r.optional_integer(i).value_or(0);
}

// Where to read an analytics relation from, and how fresh that is.
struct source {
  std::string from;  // FROM clause text, aliased "src"
  freshness fresh;
};

source pick(sql::session& db, std::string_view relation, const filters& f) {
  const auto position = analytics_position(db);
  if (db.dialect() == sql::dialect::sqlite) {
    return {sql::identifier(relation) + " AS src", {"current", position, std::nullopt}};
  }
  const sql::value key[] = {std::string(relation)};
  const auto rows = db.query("SELECT position, " + instant_column(db.dialect(), "refreshed_at") +
                                 " FROM " + sql::identifier(kRefreshes) + " WHERE view_name = $1",
                             key);
  // A view never refreshed in this generation holds what it held when the generation was made.
  if (!rows.empty() && (!f.min_position || rows[0].integer(0) >= *f.min_position)) {
    return {sql::identifier(relation) + " AS src",
            {"materialized", rows[0].integer(0), rows[0].optional_text(1)}};
  }
  return {"(" + definition(db.dialect(), relation, stable_name) + ") AS src",
          {"live", position, std::nullopt}};
}

freshness older(const freshness& a, const freshness& b) {
  return a.position <= b.position ? a : b;
}

struct stage_info {
  std::string name;
  std::optional<std::int64_t> position;
  std::int64_t probability = 0;
};
using stage_map = std::map<std::pair<std::string, std::string>, stage_info>;

stage_map stages(sql::session& db, const std::optional<std::string>& pipeline) {
  where_clause w;
  w.equals("pipeline_id", pipeline);
  stage_map out;
  for (const auto& r : db.query("SELECT pipeline_id, stage_id, name, position, probability FROM " +
                                    sql::identifier(kStages) + w.text(),
                                w.params())) {
    out[{r.text(0), r.text(1)}] = {r.text(2), r.optional_integer(3), r.integer(4)};
  }
  return out;
}

// Pipelines, then stages in their order (removed stages last), then the rest of the key.
template <class Row>
void sort_by_stage(std::vector<Row>& rows) {
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    const auto pa = a.stage_position.value_or(INT64_MAX);
    const auto pb = b.stage_position.value_or(INT64_MAX);
    return std::tie(a.pipeline_id, pa, a.stage_id) < std::tie(b.pipeline_id, pb, b.stage_id);
  });
}

template <class Row>
void name_stages(std::vector<Row>& rows, const stage_map& info) {
  for (auto& row : rows) {
    const auto it = info.find({row.pipeline_id, row.stage_id});
    if (it == info.end()) continue;
    row.stage_name = it->second.name;
    row.stage_position = it->second.position;
  }
}

std::optional<std::string> month_of(const std::optional<std::string>& day) {
  if (!day) return std::nullopt;
  return day->substr(0, 7);
}

std::optional<double> ratio(std::int64_t part, std::int64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

std::int64_t analytics_position(sql::session& db) {
  const sql::value key[] = {std::string(kProjectionName)};
  const auto rows = db.query(
      "SELECT position FROM projection_generations WHERE projection = $1 AND state = 'live'", key);
  if (rows.empty()) {
    throw analytics_unavailable("the analytics read model has not been created yet");
  }
  return rows[0].integer(0);
}

answer<stage_total> pipeline_stages(sql::session& db, const filters& f) {
  const auto src = pick(db, kPipelineStages, f);
  where_clause w;
  w.equals("pipeline_id", f.pipeline);
  w.equals("owner_id", f.owner);
  w.equals("team_id", f.team);
  answer<stage_total> out;
  out.fresh = src.fresh;
  for (const auto& r :
       db.query("SELECT pipeline_id, stage_id, currency, SUM(deals), SUM(value_minor), "
                "SUM(weighted_minor) FROM " +
                    src.from + w.text() + " GROUP BY pipeline_id, stage_id, currency",
                w.params())) {
    stage_total t;
    t.pipeline_id = r.text(0);
    t.stage_id = r.text(1);
    t.currency = r.text(2);
    t.deals = r.integer(3);
    t.value_minor = r.integer(4);
    t.weighted_minor = r.integer(5);
    out.rows.push_back(std::move(t));
  }
  const auto info = stages(db, f.pipeline);
  name_stages(out.rows, info);
  for (auto& row : out.rows) {
    if (const auto it = info.find({row.pipeline_id, row.stage_id}); it != info.end()) {
      row.probability = it->second.probability;
    }
  }
  std::stable_sort(out.rows.begin(), out.rows.end(),
                   [](const auto& a, const auto& b) { return a.currency < b.currency; });
  sort_by_stage(out.rows);
  return out;
}

answer<forecast_month> forecast(sql::session& db, const filters& f) {
  const auto src = pick(db, kForecast, f);
  where_clause w;
  w.equals("pipeline_id", f.pipeline);
  w.equals("owner_id", f.owner);
  w.equals("team_id", f.team);
  w.at_least("close_month", month_of(f.from));
  w.at_most("close_month", month_of(f.to));
  answer<forecast_month> out;
  out.fresh = src.fresh;
  for (const auto& r : db.query("SELECT close_month, currency, SUM(deals), SUM(value_minor), "
                                "SUM(weighted_minor) FROM " +
                                    src.from + w.text() +
                                    " GROUP BY close_month, currency ORDER BY close_month, "
                                    "currency",
                                w.params())) {
    out.rows.push_back({r.text(0), r.text(1), r.integer(2), r.integer(3), r.integer(4)});
  }
  return out;
}

answer<win_rate_row> win_rates(sql::session& db, const filters& f, win_rate_group by) {
  const auto src = pick(db, kWinRates, f);
  where_clause w;
  w.equals("pipeline_id", f.pipeline);
  w.equals("owner_id", f.owner);
  w.equals("team_id", f.team);
  w.at_least("closed_on", f.from);
  w.at_most("closed_on", f.to);
  const std::string group = by == win_rate_group::owner ? "owner_id" : "team_id";
  std::map<std::pair<std::string, std::optional<std::string>>, win_rate_row> rows;
  for (const auto& r :
       db.query("SELECT closed_quarter, " + group +
                    ", currency, SUM(won), SUM(lost), SUM(won_value_minor) FROM " + src.from +
                    w.text() + " GROUP BY closed_quarter, " + group + ", currency",
                w.params())) {
    auto& row = rows[{r.text(0), r.optional_text(1)}];
    row.quarter = r.text(0);
    row.group_id = r.optional_text(1);
    row.won += r.integer(3);
    row.lost += r.integer(4);
    if (const auto value = r.integer(5); value != 0 || r.integer(3) != 0) {
      row.won_value.push_back({r.text(2), value});
    }
  }
  answer<win_rate_row> out;
  out.fresh = src.fresh;
  for (auto& [key, row] : rows) {
    row.win_rate = ratio(row.won, row.won + row.lost);
    std::sort(row.won_value.begin(), row.won_value.end(),
              [](const auto& a, const auto& b) { return a.currency < b.currency; });
    out.rows.push_back(std::move(row));
  }
  return out;
}

answer<stage_duration> stage_durations(sql::session& db, const filters& f) {
  answer<stage_duration> out;
  if (!f.owner && !f.team && !f.from && !f.to) {
    const auto src = pick(db, kStageDurations, f);
    where_clause w;
    w.equals("pipeline_id", f.pipeline);
    out.fresh = src.fresh;
    for (const auto& r : db.query("SELECT pipeline_id, stage_id, stays, total_seconds, "
                                  "p90_seconds FROM " +
                                      src.from + w.text(),
                                  w.params())) {
      stage_duration d;
      d.pipeline_id = r.text(0);
      d.stage_id = r.text(1);
      d.stays = r.integer(2);
      d.avg_seconds = static_cast<double>(r.integer(3)) / static_cast<double>(d.stays);
      d.p90_seconds = r.integer(4);
      out.rows.push_back(std::move(d));
    }
  } else {
    // A percentile does not add up across groups, so a subset is computed from its own stays.
    out.fresh = {"live", analytics_position(db), std::nullopt};
    where_clause w;
    w.raw("i.duration_seconds IS NOT NULL");
    w.raw("d.archived = 0");
    w.equals("i.pipeline_id", f.pipeline);
    w.equals("i.owner_id", f.owner);
    w.equals("i.team_id", f.team);
    w.at_least("i.left_on", f.from);
    w.at_most("i.left_on", f.to);
    std::vector<std::int64_t> seconds;
    auto finish = [&](stage_duration& d) {
      if (seconds.empty()) return;
      std::int64_t total = 0;
      for (auto s : seconds) total += s;
      d.stays = static_cast<std::int64_t>(seconds.size());
      d.avg_seconds = static_cast<double>(total) / static_cast<double>(d.stays);
      // Nearest rank (the ceil(0.9 n)-th smallest), as in an_stage_durations.
      d.p90_seconds = seconds[static_cast<std::size_t>((9 * d.stays + 9) / 10 - 1)];
      out.rows.push_back(d);
      seconds.clear();
    };
    stage_duration current;
    for (const auto& r :
         db.query("SELECT i.pipeline_id, i.stage_id, i.duration_seconds FROM " +
                      sql::identifier(kStays) + " i JOIN " + sql::identifier(kDeals) +
                      " d ON d.deal_id = i.deal_id" + w.text() +
                      " ORDER BY i.pipeline_id, i.stage_id, i.duration_seconds",
                  w.params())) {
      if (r.text(0) != current.pipeline_id || r.text(1) != current.stage_id) {
        finish(current);
        current = stage_duration{};
        current.pipeline_id = r.text(0);
        current.stage_id = r.text(1);
      }
      seconds.push_back(r.integer(2));
    }
    finish(current);
  }
  name_stages(out.rows, stages(db, f.pipeline));
  sort_by_stage(out.rows);
  return out;
}

answer<stage_conversion> stage_conversions(sql::session& db, const filters& f) {
  const auto src = pick(db, kConversion, f);
  where_clause w;
  w.equals("pipeline_id", f.pipeline);
  w.equals("owner_id", f.owner);
  w.equals("team_id", f.team);
  answer<stage_conversion> out;
  out.fresh = src.fresh;
  for (const auto& r : db.query("SELECT pipeline_id, stage_id, SUM(entered), SUM(advanced) FROM " +
                                    src.from + w.text() + " GROUP BY pipeline_id, stage_id",
                                w.params())) {
    stage_conversion c;
    c.pipeline_id = r.text(0);
    c.stage_id = r.text(1);
    c.entered = r.integer(2);
    c.advanced = r.integer(3);
    c.rate = ratio(c.advanced, c.entered);
    out.rows.push_back(std::move(c));
  }
  name_stages(out.rows, stages(db, f.pipeline));
  sort_by_stage(out.rows);
  return out;
}

funnel_answer lead_funnel(sql::session& db, const filters& f) {
  const auto src = pick(db, kFunnel, f);
  where_clause w;
  w.equals("owner_id", f.owner);
  w.equals("team_id", f.team);
  w.equals("source", f.source);
  w.at_least("created_on", f.from);
  w.at_most("created_on", f.to);
  funnel_answer out;
  out.fresh = src.fresh;
  const auto rows = db.query(
      "SELECT SUM(leads), SUM(contacted), SUM(qualified), SUM(disqualified), SUM(converted), "
      "SUM(with_deal), SUM(won) FROM " +
          src.from + w.text(),
      w.params());
  if (!rows.empty()) {
    const auto& r = rows[0];
    out.totals = {int_or_zero(r, 0), int_or_zero(r, 1), int_or_zero(r, 2), int_or_zero(r, 3),
                  int_or_zero(r, 4), int_or_zero(r, 5), int_or_zero(r, 6)};
  }
  return out;
}

slipped_answer slipped_deals(sql::session& db, const filters& f, std::int64_t limit) {
  const auto src = pick(db, kSlipped, f);
  where_clause w;
  w.equals("pipeline_id", f.pipeline);
  w.equals("owner_id", f.owner);
  w.equals("team_id", f.team);
  w.equals("status", f.status);
  w.at_least("expected_close_date", f.from);
  w.at_most("expected_close_date", f.to);
  slipped_answer out;
  out.fresh = src.fresh;
  const auto d = db.dialect();
  auto params = w.params();
  params.emplace_back(limit);
  for (const auto& r :
       db.query("SELECT deal_id, pipeline_id, owner_id, team_id, status, " +
                    day_column(d, "first_close_date") + ", " +
                    day_column(d, "expected_close_date") + ", slips, slip_days FROM " + src.from +
                    w.text() + " ORDER BY slips DESC, slip_days DESC, deal_id LIMIT $" +
                    std::to_string(params.size()),
                params)) {
    out.rows.push_back({r.text(0), r.text(1), r.text(2), r.optional_text(3), r.text(4),
                        r.optional_text(5), r.optional_text(6), r.integer(7), r.integer(8)});
  }
  out.total = db.query("SELECT COUNT(*) FROM " + src.from + w.text(), w.params())[0].integer(0);
  return out;
}

answer<velocity_row> sales_velocity(sql::session& db, const filters& f) {
  std::map<std::string, velocity_row> rows;
  const auto open_src = pick(db, kPipelineStages, f);
  {
    where_clause w;
    w.equals("pipeline_id", f.pipeline);
    w.equals("owner_id", f.owner);
    w.equals("team_id", f.team);
    for (const auto& r : db.query(
             "SELECT currency, SUM(deals) FROM " + open_src.from + w.text() + " GROUP BY currency",
             w.params())) {
      rows[r.text(0)].open_deals = r.integer(1);
    }
  }
  const auto closed_src = pick(db, kWinRates, f);
  {
    where_clause w;
    w.equals("pipeline_id", f.pipeline);
    w.equals("owner_id", f.owner);
    w.equals("team_id", f.team);
    w.at_least("closed_on", f.from);
    w.at_most("closed_on", f.to);
    for (const auto& r : db.query("SELECT currency, SUM(won), SUM(lost), SUM(won_value_minor), "
                                  "SUM(won_cycle_seconds) FROM " +
                                      closed_src.from + w.text() + " GROUP BY currency",
                                  w.params())) {
      auto& row = rows[r.text(0)];
      row.won = r.integer(1);
      row.lost = r.integer(2);
      row.won_value_minor = r.integer(3);
      row.won_cycle_seconds = r.integer(4);
    }
  }
  answer<velocity_row> out;
  out.fresh = older(open_src.fresh, closed_src.fresh);
  for (auto& [currency, row] : rows) {
    row.currency = currency;
    row.win_rate = ratio(row.won, row.won + row.lost);
    if (row.won > 0) {
      row.avg_won_value_minor =
          static_cast<double>(row.won_value_minor) / static_cast<double>(row.won);
      row.avg_cycle_days = static_cast<double>(row.won_cycle_seconds) /
                           static_cast<double>(row.won) / kSecondsPerDay;
      if (*row.avg_cycle_days > 0) {
        row.velocity_per_day = static_cast<double>(row.open_deals) * *row.win_rate *
                               *row.avg_won_value_minor / *row.avg_cycle_days;
      }
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

answer<activity_week> activities_per_week(sql::session& db, const filters& f) {
  const auto src = pick(db, kActivityCounts, f);
  where_clause w;
  w.equals("user_id", f.owner);
  w.equals("team_id", f.team);
  w.equals("kind", f.kind);
  w.at_least("occurred_on", f.from);
  w.at_most("occurred_on", f.to);
  std::map<std::pair<std::string, std::string>, activity_week> rows;
  const auto d = db.dialect();
  for (const auto& r : db.query("SELECT " + day_column(d, "occurred_week") +
                                    ", user_id, kind, SUM(activities), SUM(minutes) FROM " +
                                    src.from + w.text() + " GROUP BY occurred_week, user_id, kind",
                                w.params())) {
    auto& row = rows[{r.text(0), r.text(1)}];
    row.week = r.text(0);
    row.user_id = r.text(1);
    const auto kind = r.text(2);
    const auto count = r.integer(3);
    row.activities += count;
    row.minutes += r.integer(4);
    if (kind == "call") row.calls += count;
    if (kind == "email") row.emails += count;
    if (kind == "meeting") row.meetings += count;
    if (kind == "note") row.notes += count;
    if (kind == "sms") row.sms += count;
  }
  answer<activity_week> out;
  out.fresh = src.fresh;
  for (auto& [key, row] : rows) out.rows.push_back(std::move(row));
  return out;
}

}  // namespace realmkit::projections::analytics
