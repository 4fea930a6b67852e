#include "projections/analytics/analytics_schema.hpp"

#include <array>
#include <stdexcept>

namespace realmkit::projections::analytics {

namespace sql = infra::sql;

namespace {

// Column types by what they hold; SQLite keeps instants and days as ISO 8601 text, which sorts in
// time order because every value has the same width (infra/json/json_time.hpp).
enum class col { text, integer, instant, day };

struct column {
  std::string_view name;
  col type;
  bool not_null = false;
};

struct table_def {
  std::string_view relation;
  std::vector<column> columns;
  std::vector<std::string_view> primary_key;
  // Secondary indexes: name suffix, then "(columns) [WHERE ...]".
  std::vector<std::pair<std::string_view, std::string_view>> indexes;
};

std::string_view type_name(sql::dialect d, col c) {
  const bool pg = d == sql::dialect::postgres;
  switch (c) {
    case col::text:
      return pg ? "text" : "TEXT";
    case col::integer:
      return pg ? "bigint" : "INTEGER";
    case col::instant:
      return pg ? "timestamptz" : "TEXT";
    case col::day:
      return pg ? "date" : "TEXT";
  }
  return {};
}

const std::vector<table_def>& fact_tables() {
  using enum col;
  static const std::vector<table_def> tables{
      {kUsers, {{"user_id", text, true}, {"team_id", text}}, {"user_id"}, {}},
      {kStages,
       {{"pipeline_id", text, true},
        {"stage_id", text, true},
        {"name", text, true},
        {"position", integer},
        {"probability", integer, true},
        {"removed", integer, true}},
       {"pipeline_id", "stage_id"},
       {}},
      {kDeals,
       {{"deal_id", text, true},
        {"pipeline_id", text, true},
        {"stage_id", text, true},
        {"stage_entered_at", instant, true},
        {"owner_id", text, true},
        {"team_id", text},
        {"currency", text, true},
        {"value_minor", integer, true},
        {"created_at", instant, true},
        {"created_on", day, true},
        {"expected_close_date", day},
        {"expected_close_month", text},
        {"first_close_date", day},
        {"slips", integer, true},
        {"slip_days", integer, true},
        {"status", text, true},
        {"closed_at", instant},
        {"closed_on", day},
        {"closed_quarter", text},
        {"cycle_seconds", integer},
        {"reopened", integer, true},
        {"archived", integer, true},
        {"lead_id", text}},
       {"deal_id"},
       {{"open", "(pipeline_id, stage_id) WHERE status = 'open' AND archived = 0"},
        {"owner", "(owner_id, status)"},
        {"closed", "(closed_on) WHERE closed_on IS NOT NULL"},
        {"slipped", "(expected_close_date) WHERE slips > 0"}}},
      {kStays,
       {{"deal_id", text, true},
        {"seq", integer, true},
        {"pipeline_id", text, true},
        {"stage_id", text, true},
        {"owner_id", text, true},
        {"team_id", text},
        {"entered_at", instant, true},
        {"left_at", instant},
        {"left_on", day},
        {"duration_seconds", integer},
        {"exit", text},
        {"to_stage_id", text},
        {"advanced", integer, true}},
       {"deal_id", "seq"},
       {{"stage", "(pipeline_id, stage_id)"}, {"left", "(left_on) WHERE left_on IS NOT NULL"}}},
      {kLeads,
       {{"lead_id", text, true},
        {"owner_id", text, true},
        {"team_id", text},
        {"source", text, true},
        {"created_at", instant, true},
        {"created_on", day, true},
        {"contacted_at", instant},
        {"qualified_at", instant},
        {"disqualified_at", instant},
        {"converted_at", instant},
        {"status", text, true},
        {"deal_id", text},
        {"deal_status", text},
        {"deal_won", integer, true}},
       {"lead_id"},
       {{"deal", "(deal_id) WHERE deal_id IS NOT NULL"}, {"created", "(created_on)"}}},
      {kActivities,
       {{"activity_id", text, true},
        {"kind", text, true},
        {"user_id", text, true},
        {"team_id", text},
        {"subject_kind", text, true},
        {"subject_id", text, true},
        {"occurred_at", instant, true},
        {"occurred_on", day, true},
        {"occurred_week", day, true},
        {"duration_minutes", integer},
        {"deleted", integer, true}},
       {"activity_id"},
       {{"occurred", "(occurred_on)"}}},
      {kChanges, {{"id", integer, true}, {"position", integer, true}}, {"id"}, {}},
      {kRefreshes,
       {{"view_name", text, true},
        {"position", integer, true},
        {"refreshed_at", instant, true},
        {"took_ms", integer, true}},
       {"view_name"},
       {}},
  };
  return tables;
}

constexpr std::array<std::string_view, 8> kAnalytics{kPipelineStages, kForecast,      kWinRates,
                                                     kStageDurations, kConversion,    kFunnel,
                                                     kSlipped,        kActivityCounts};

// The columns that identify a row of each analytics relation: the unique index a concurrent
// refresh needs on PostgreSQL.
std::vector<std::string_view> unique_key(std::string_view relation) {
  if (relation == kPipelineStages) {
    return {"pipeline_id", "stage_id", "owner_id", "team_id", "currency"};
  }
  if (relation == kForecast)
    return {"close_month", "pipeline_id", "owner_id", "team_id", "currency"};
  if (relation == kWinRates) return {"closed_on", "pipeline_id", "owner_id", "team_id", "currency"};
  if (relation == kStageDurations) return {"pipeline_id", "stage_id"};
  if (relation == kConversion) return {"pipeline_id", "stage_id", "owner_id", "team_id"};
  if (relation == kFunnel) return {"created_on", "owner_id", "team_id", "source"};
  if (relation == kSlipped) return {"deal_id"};
  if (relation == kActivityCounts) return {"occurred_on", "user_id", "team_id", "kind"};
  throw std::invalid_argument("not an analytics relation: " + std::string(relation));
}

std::string joined(const std::vector<std::string_view>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

void create_table(sql::session& db, const table_def& t, const name_fn& name) {
  const auto d = db.dialect();
  const std::string physical = name(t.relation);
  std::string ddl = "CREATE TABLE " + sql::identifier(physical) + " (";
  for (const auto& c : t.columns) {
    ddl += std::string(c.name) + " " + std::string(type_name(d, c.type));
    if (c.not_null) ddl += " NOT NULL";
    ddl += ", ";
  }
  ddl += "PRIMARY KEY (" + joined(t.primary_key) + "))";
  db.exec_script(ddl);
  for (const auto& [suffix, spec] : t.indexes) {
    db.exec_script("CREATE INDEX " + sql::identifier(physical + "_" + std::string(suffix)) +
                   " ON " + sql::identifier(physical) + " " + std::string(spec));
  }
}

// CAST(... AS bigint) on PostgreSQL, where SUM(bigint) is numeric; SQLite sums integers exactly.
std::string big(sql::dialect d, std::string_view expr) {
  if (d == sql::dialect::postgres) return "CAST(" + std::string(expr) + " AS bigint)";
  return std::string(expr);
}

}  // namespace

std::vector<fact_column> fact_columns(std::string_view relation) {
  for (const auto& t : fact_tables()) {
    if (t.relation != relation) continue;
    std::vector<fact_column> out;
    for (const auto& c : t.columns) {
      out.push_back({c.name, type_name(sql::dialect::postgres, c.type)});
    }
    return out;
  }
  throw std::invalid_argument("not a fact table: " + std::string(relation));
}

std::string stable_name(std::string_view relation) {
  return std::string(relation);
}

std::vector<std::string> all_relations() {
  std::vector<std::string> out;
  for (const auto& t : fact_tables()) out.emplace_back(t.relation);
  for (const auto& a : kAnalytics) out.emplace_back(a);
  return out;
}

std::span<const std::string_view> analytics_relations() {
  return kAnalytics;
}

relation_kind kind_of(sql::dialect dialect, std::string_view relation) {
  bool analytic = false;
  for (const auto& a : kAnalytics) analytic = analytic || a == relation;
  if (!analytic) return relation_kind::table;
  if (dialect == sql::dialect::postgres) return relation_kind::materialized_view;
  for (const auto& r : rollups()) {
    if (r.relation == relation) return relation_kind::table;
  }
  return relation == kStageDurations ? relation_kind::table : relation_kind::view;
}

std::span<const rollup_spec> rollups() {
  static const std::vector<rollup_spec> specs{
      {kWinRates,
       {"closed_on", "closed_quarter", "pipeline_id", "owner_id", "team_id", "currency"},
       {"won", "lost", "won_value_minor", "won_cycle_seconds"},
       {0, 1}},
      {kConversion,
       {"pipeline_id", "stage_id", "owner_id", "team_id"},
       {"entered", "advanced"},
       {0}},
      {kFunnel,
       {"created_on", "owner_id", "team_id", "source"},
       {"leads", "contacted", "qualified", "disqualified", "converted", "with_deal", "won"},
       {0}},
      {kActivityCounts,
       {"occurred_on", "occurred_week", "user_id", "team_id", "kind"},
       {"activities", "minutes"},
       {0}},
  };
  return specs;
}

const rollup_spec& rollup(std::string_view relation) {
  for (const auto& r : rollups()) {
    if (r.relation == relation) return r;
  }
  throw std::invalid_argument("not a maintained relation: " + std::string(relation));
}

std::string definition(sql::dialect d, std::string_view relation, const name_fn& name) {
  const auto q = [&](std::string_view r) { return sql::identifier(name(r)); };
  const std::string open_deals = " FROM " + q(kDeals) + " d LEFT JOIN " + q(kStages) +
                                 " s ON s.pipeline_id = d.pipeline_id AND s.stage_id = d.stage_id"
                                 " WHERE d.status = 'open' AND d.archived = 0";
  // A deal's weighted value is floor(value x probability / 100), in minor units.
  const std::string weighted =
      big(d, "SUM(d.value_minor * COALESCE(s.probability, 0) / 100)") + " AS weighted_minor";
  if (relation == kPipelineStages) {
    return "SELECT d.pipeline_id, d.stage_id, d.owner_id, d.team_id, d.currency, "
           "COALESCE(s.probability, 0) AS probability, COUNT(*) AS deals, " +
           big(d, "SUM(d.value_minor)") + " AS value_minor, " + weighted + open_deals +
           " GROUP BY d.pipeline_id, d.stage_id, d.owner_id, d.team_id, d.currency, "
           "COALESCE(s.probability, 0)";
  }
  if (relation == kForecast) {
    return "SELECT d.expected_close_month AS close_month, d.pipeline_id, d.owner_id, d.team_id, "
           "d.currency, COUNT(*) AS deals, " +
           big(d, "SUM(d.value_minor)") + " AS value_minor, " + weighted + open_deals +
           " AND d.expected_close_month IS NOT NULL GROUP BY d.expected_close_month, "
           "d.pipeline_id, d.owner_id, d.team_id, d.currency";
  }
  if (relation == kWinRates) {
    return "SELECT closed_on, closed_quarter, pipeline_id, owner_id, team_id, currency, " +
           big(d, "SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END)") + " AS won, " +
           big(d, "SUM(CASE WHEN status = 'lost' THEN 1 ELSE 0 END)") + " AS lost, " +
           big(d, "SUM(CASE WHEN status = 'won' THEN value_minor ELSE 0 END)") +
           " AS won_value_minor, " +
           big(d, "SUM(CASE WHEN status = 'won' THEN cycle_seconds ELSE 0 END)") +
           " AS won_cycle_seconds FROM " + q(kDeals) +
           " WHERE status IN ('won', 'lost') AND archived = 0"
           " GROUP BY closed_on, closed_quarter, pipeline_id, owner_id, team_id, currency";
  }
  if (relation == kStageDurations) {
    const std::string completed = " FROM " + q(kStays) + " i JOIN " + q(kDeals) +
                                  " d ON d.deal_id = i.deal_id"
                                  " WHERE i.duration_seconds IS NOT NULL AND d.archived = 0";
    if (d == sql::dialect::postgres) {
      // percentile_disc is the nearest-rank percentile: the smallest duration that at least 90%
      // of the stays do not exceed.
      return "SELECT i.pipeline_id, i.stage_id, COUNT(*) AS stays, " +
             big(d, "SUM(i.duration_seconds)") + " AS total_seconds, " +
             big(d, "SUM(i.duration_seconds)") +
             " / COUNT(*) AS avg_seconds, "
             "percentile_disc(0.9) WITHIN GROUP (ORDER BY i.duration_seconds) AS p90_seconds" +
             completed + " GROUP BY i.pipeline_id, i.stage_id";
    }
    return "SELECT pipeline_id, stage_id, COUNT(*) AS stays, SUM(seconds) AS total_seconds, "
           "SUM(seconds) / COUNT(*) AS avg_seconds, "
           "MIN(CASE WHEN 10 * rn >= 9 * n THEN seconds END) AS p90_seconds FROM ("
           "SELECT i.pipeline_id, i.stage_id, i.duration_seconds AS seconds, ROW_NUMBER() OVER "
           "(PARTITION BY i.pipeline_id, i.stage_id ORDER BY i.duration_seconds) AS rn, COUNT(*) "
           "OVER (PARTITION BY i.pipeline_id, i.stage_id) AS n" +
           completed + ") AS ranked GROUP BY pipeline_id, stage_id";
  }
  if (relation == kConversion) {
    return "SELECT i.pipeline_id, i.stage_id, d.owner_id, d.team_id, "
           "COUNT(DISTINCT i.deal_id) AS entered, "
           "COUNT(DISTINCT CASE WHEN i.advanced = 1 THEN i.deal_id END) AS advanced FROM " +
           q(kStays) + " i JOIN " + q(kDeals) +
           " d ON d.deal_id = i.deal_id WHERE d.archived = 0"
           " GROUP BY i.pipeline_id, i.stage_id, d.owner_id, d.team_id";
  }
  if (relation == kFunnel) {
    return "SELECT created_on, owner_id, team_id, source, COUNT(*) AS leads, "
           "COUNT(contacted_at) AS contacted, COUNT(qualified_at) AS qualified, " +
           big(d, "SUM(CASE WHEN status = 'disqualified' THEN 1 ELSE 0 END)") +
           " AS disqualified, " + big(d, "SUM(CASE WHEN status = 'converted' THEN 1 ELSE 0 END)") +
           " AS converted, COUNT(deal_id) AS with_deal, " + big(d, "SUM(deal_won)") +
           " AS won FROM " + q(kLeads) + " GROUP BY created_on, owner_id, team_id, source";
  }
  if (relation == kSlipped) {
    return "SELECT deal_id, pipeline_id, owner_id, team_id, status, first_close_date, "
           "expected_close_date, slips, slip_days FROM " +
           q(kDeals) + " WHERE slips > 0 AND archived = 0";
  }
  if (relation == kActivityCounts) {
    return "SELECT occurred_on, occurred_week, user_id, team_id, kind, COUNT(*) AS activities, " +
           big(d, "SUM(COALESCE(duration_minutes, 0))") + " AS minutes FROM " + q(kActivities) +
           " WHERE deleted = 0 GROUP BY occurred_on, occurred_week, user_id, team_id, kind";
  }
  throw std::invalid_argument("no definition for relation " + std::string(relation));
}

void create_relations(sql::session& db, const name_fn& name) {
  const auto d = db.dialect();
  for (const auto& t : fact_tables()) create_table(db, t, name);
  for (const auto& relation : kAnalytics) {
    const std::string physical = name(relation);
    const std::string quoted = sql::identifier(physical);
    switch (kind_of(d, relation)) {
      case relation_kind::materialized_view:
        db.exec_script("CREATE MATERIALIZED VIEW " + quoted + " AS " +
                       definition(d, relation, name));
        // REFRESH ... CONCURRENTLY needs a unique index over plain columns covering every row;
        // owners may have no team, so NULLs must count as equal.
        db.exec_script("CREATE UNIQUE INDEX " + sql::identifier(physical + "_key") + " ON " +
                       quoted + " (" + joined(unique_key(relation)) + ") NULLS NOT DISTINCT");
        break;
      case relation_kind::view:
        db.exec_script("CREATE VIEW " + quoted + " AS " + definition(d, relation, name));
        break;
      case relation_kind::table:
        if (relation == kStageDurations) {
          db.exec_script("CREATE TABLE " + quoted +
                         " (pipeline_id TEXT NOT NULL, stage_id TEXT NOT NULL, stays INTEGER NOT "
                         "NULL, total_seconds INTEGER NOT NULL, avg_seconds INTEGER NOT NULL, "
                         "p90_seconds INTEGER NOT NULL, PRIMARY KEY (pipeline_id, stage_id))");
        } else {
          const auto& spec = rollup(relation);
          std::string ddl = "CREATE TABLE " + quoted + " (";
          for (const auto& k : spec.keys) ddl += std::string(k) + " TEXT, ";
          for (std::size_t i = 0; i < spec.measures.size(); ++i) {
            ddl += std::string(spec.measures[i]) + " INTEGER NOT NULL";
            if (i + 1 < spec.measures.size()) ddl += ", ";
          }
          db.exec_script(ddl + ")");
          db.exec_script("CREATE INDEX " + sql::identifier(physical + "_key") + " ON " + quoted +
                         " (" + joined(spec.keys) + ")");
        }
        break;
    }
  }
}

void drop_relations(sql::session& db, const name_fn& name) {
  auto relations = all_relations();
  // Analytics first: on PostgreSQL they depend on the facts.
  for (auto it = relations.rbegin(); it != relations.rend(); ++it) {
    const std::string physical = name(*it);
    const sql::value params[] = {physical};
    std::string kind;
    if (db.dialect() == sql::dialect::postgres) {
      const auto rows = db.query(
          "SELECT relkind::text FROM pg_class WHERE relname = $1 AND relnamespace = "
          "current_schema()::regnamespace",
          params);
      if (rows.empty()) continue;
      const auto k = rows.front().text(0);
      kind = k == "m" ? "MATERIALIZED VIEW" : k == "v" ? "VIEW" : "TABLE";
    } else {
      const auto rows = db.query(
          "SELECT type FROM sqlite_master WHERE name = $1 AND type IN ('table', 'view')", params);
      if (rows.empty()) continue;
      kind = rows.front().text(0) == "view" ? "VIEW" : "TABLE";
    }
    db.exec_script("DROP " + kind + " IF EXISTS " + sql::identifier(physical));
  }
}

}  // namespace realmkit::projections::analytics
