// /api/analytics: the analytics reports over the analytics projection (docs/analysts.md), and
// POST /api/analytics/refresh, which refreshes PostgreSQL's materialized views at once.
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "api/crm/route_groups.hpp"
#include "api/crm/route_support.hpp"
#include "domain/activity/activity_events.hpp"
#include "domain/lead/lead_events.hpp"
#include "infra/json/json_time.hpp"
#include "infra/sql/sql_database.hpp"
#include "projections/analytics/analytics_queries.hpp"
#include "projections/analytics/analytics_refresher.hpp"
#include "projections/analytics/analytics_schema.hpp"
#include "projections/projector.hpp"

namespace realmkit::api::crm {
namespace {

namespace an = projections::analytics;
using perm = auth::permission;

constexpr std::int64_t kDefaultSlippedLimit = 100;
constexpr std::int64_t kMaxSlippedLimit = 1000;

// Every answer names the schema of its items loosely: the reports differ, docs/analysts.md has
// each one's columns.
constexpr const char* kReportSchema =
    R"({"type":"object","required":["position","source"],"properties":{)"
    R"("position":{"type":"integer"},"source":{"type":"string","enum":["materialized","live","current"]},)"
    R"("refreshed_at":{"type":["string","null"]},"items":{"type":"array"}}})";
constexpr const char* kRefreshSchema =
    R"({"type":"object","required":["refreshed","position"],"properties":{)"
    R"("refreshed":{"type":"boolean"},"reason":{"type":"string"},"generation":{"type":"integer"},)"
    R"("position":{"type":"integer"},"views":{"type":"array","items":{"type":"string"}},)"
    R"("took_ms":{"type":"integer"}}})";

std::optional<std::int64_t> parse_int(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// A report's query: the filters it accepts, read and checked; anything else is refused naming it.
struct report_query {
  an::filters filters;
  an::win_rate_group by = an::win_rate_group::owner;
  std::int64_t limit = kDefaultSlippedLimit;
};

report_query read_query(const request_scope& scope, const std::vector<std::string_view>& known) {
  report_query q;
  auto& f = q.filters;
  for (const auto& [name, value] : scope.request().query) {
    bool allowed = name == "min_position";
    for (auto k : known) allowed = allowed || k == name;
    if (!allowed) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(name, "is not a filter of this report (it takes " + list + ", min_position)");
    }
    auto id = [&](std::optional<std::string>& out) {
      if (auto r = domain::rules::check_id(name, value)) fail(name, r->reason);
      out = value;
    };
    if (name == "min_position") {
      const auto p = parse_int(value);
      if (!p) fail(name, "must be a non-negative integer");
      f.min_position = p;
    } else if (name == "pipeline") {
      id(f.pipeline);
    } else if (name == "owner") {
      id(f.owner);
    } else if (name == "team") {
      id(f.team);
    } else if (name == "from" || name == "to") {
      if (!infra::parse_date(value)) fail(name, "must be a calendar date, e.g. 2026-11-27");
      (name == "from" ? f.from : f.to) = value;
    } else if (name == "source") {
      domain::lead_source s{};
      if (!from_string(value, s)) fail(name, "is not a lead source");
      f.source = value;
    } else if (name == "kind") {
      domain::activity_type t{};
      if (!from_string(value, t)) fail(name, "must be call, email, meeting, note or sms");
      f.kind = value;
    } else if (name == "status") {
      if (value != "open" && value != "won" && value != "lost") {
        fail(name, "must be open, won or lost");
      }
      f.status = value;
    } else if (name == "by") {
      if (value != "owner" && value != "team") fail(name, "must be owner or team");
      q.by = value == "owner" ? an::win_rate_group::owner : an::win_rate_group::team;
    } else if (name == "limit") {
      const auto n = parse_int(value);
      if (!n || *n < 1 || *n > kMaxSlippedLimit) {
        fail(name, "must be between 1 and " + std::to_string(kMaxSlippedLimit));
      }
      q.limit = *n;
    }
  }
  if (f.from && f.to && *f.to < *f.from) fail("to", "must not be before from");
  // Team-scoped roles (managers) see the figures of their own team only.
  if (const auto only = scope.only_team()) {
    if (!*only) forbid("a team-scoped role sees its team's analytics, and the caller has no team");
    if (f.team && *f.team != **only)
      forbid("the caller sees only their own team's figures", "team");
    f.team = **only;
  }
  return q;
}

// Waits until the analytics projection has applied min_position (503 after max_wait).
// Waits until the analytics projection has applied min_position (503 after max_wait). Without a
// projector in this process, the catalog's checkpoint is looked at once.
void await_analytics(const request_scope& scope, const an::filters& f, infra::sql::database& db) {
  if (!f.min_position) return;
  const auto& services = scope.services();
  const auto wait = services.max_wait;
  bool reached = false;
  if (services.projector) {
    const std::string names[] = {std::string(an::kProjectionName)};
    reached = services.projector->wait_for(*f.min_position, wait, names);
  } else {
    auto session = db.acquire();
    reached = an::analytics_position(*session) >= *f.min_position;
  }
  if (!reached) {
    throw problem_error(
        make_problem(problem_kind::unavailable, "the analytics have not reached position " +
                                                    std::to_string(*f.min_position) + " within " +
                                                    std::to_string(wait.count()) + " ms; retry"));
  }
}

void number(json_out& out, double v) {
  if (!std::isfinite(v)) {
    out.null();
    return;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", v);
  out.raw(text);
}

void optional_number(json_out& out, const std::optional<double>& v) {
  if (v) {
    number(out, *v);
  } else {
    out.null();
  }
}

void optional_integer(json_out& out, const std::optional<std::int64_t>& v) {
  if (v) {
    out.integer(*v);
  } else {
    out.null();
  }
}

void envelope(json_out& out, const an::freshness& fresh) {
  out.key("position").integer(fresh.position);
  out.key("source").string(fresh.source);
  out.key("refreshed_at").optional_string(fresh.refreshed_at);
}

void stage_fields(json_out& out, const std::string& pipeline, const std::string& stage,
                  const std::optional<std::string>& name, const std::optional<std::int64_t>& pos) {
  out.key("pipeline_id").string(pipeline);
  out.key("stage_id").string(stage);
  out.key("stage_name").optional_string(name);
  out.key("stage_position");
  optional_integer(out, pos);
}

using report = std::function<void(json_out&, infra::sql::session&, const report_query&)>;

http_response with_session(const request_scope& scope, const report_query& q, const report& run) {
  auto* db = scope.services().read_db;
  if (!db) {
    throw problem_error(
        make_problem(problem_kind::unavailable, "this process serves no analytics"));
  }
  try {
    // Waiting first: no connection is held while the projection catches up.
    await_analytics(scope, q.filters, *db);
    auto session = db->acquire();
    json_out out;
    out.begin_object();
    run(out, *session, q);
    out.end_object();
    return http_response::json(200, out.take());
  } catch (const an::analytics_unavailable& e) {
    throw problem_error(make_problem(problem_kind::unavailable, e.what()));
  } catch (const infra::sql::error& e) {
    if (!e.transient()) throw;
    throw problem_error(
        make_problem(problem_kind::unavailable, "the read-model database is unavailable; retry"));
  }
}

// A report route: permission analytics:view, its filters read and checked, min_position waited
// for, the report run on a pooled read session. Blocking: it runs on the worker pool, never on an
// I/O thread.
void add_report(router& routes, crm_services& services, std::string path, std::string name,
                std::string summary, std::vector<std::string_view> filters, report run) {
  route r;
  r.method = "GET";
  r.pattern = "/api/analytics/" + path;
  r.name = "analytics." + name;
  r.permission = std::string(auth::to_string(perm::analytics_view));
  r.summary = std::move(summary);
  r.blocking = true;
  r.response_schema = kReportSchema;
  r.handle = [&services, filters = std::move(filters),
              run = std::move(run)](const http_request& request) {
    request_scope scope(services, request);
    // The guard checks the permission too; checking here keeps the route safe behind any guard.
    if (!auth::has_permission(scope.caller().role, perm::analytics_view)) {
      forbid("the role " + std::string(to_string(scope.caller().role)) + " lacks analytics:view");
    }
    return with_session(scope, read_query(scope, filters), run);
  };
  routes.add(std::move(r));
}

void write_pipeline(json_out& out, infra::sql::session& db, const report_query& q) {
  const auto a = an::pipeline_stages(db, q.filters);
  envelope(out, a.fresh);
  out.key("items").begin_array();
  for (const auto& r : a.rows) {
    out.begin_object();
    stage_fields(out, r.pipeline_id, r.stage_id, r.stage_name, r.stage_position);
    out.key("probability").integer(r.probability);
    out.key("currency").string(r.currency);
    out.key("deals").integer(r.deals);
    out.key("value_minor").integer(r.value_minor);
    out.key("weighted_minor").integer(r.weighted_minor);
    out.end_object();
  }
  out.end_array();
}

void write_forecast(json_out& out, infra::sql::session& db, const report_query& q) {
  const auto a = an::forecast(db, q.filters);
  envelope(out, a.fresh);
  out.key("items").begin_array();
  for (const auto& r : a.rows) {
    out.begin_object();
    out.key("month").string(r.month);
    out.key("currency").string(r.currency);
    out.key("deals").integer(r.deals);
    out.key("value_minor").integer(r.value_minor);
    out.key("weighted_minor").integer(r.weighted_minor);
    out.end_object();
  }
  out.end_array();
}

void write_win_rates(json_out& out, infra::sql::session& db, const report_query& q) {
  const auto a = an::win_rates(db, q.filters, q.by);
  envelope(out, a.fresh);
  out.key("by").string(q.by == an::win_rate_group::owner ? "owner" : "team");
  out.key("items").begin_array();
  for (const auto& r : a.rows) {
    out.begin_object();
    out.key("quarter").string(r.quarter);
    out.key(q.by == an::win_rate_group::owner ? "owner_id" : "team_id").optional_string(r.group_id);
    out.key("won").integer(r.won);
    out.key("lost").integer(r.lost);
    out.key("win_rate");
    optional_number(out, r.win_rate);
    out.key("won_value").begin_array();
    for (const auto& m : r.won_value) {
      out.begin_object();
      out.key("currency").string(m.currency);
      out.key("amount_minor").integer(m.amount_minor);
      out.end_object();
    }
    out.end_array();
    out.end_object();
  }
  out.end_array();
}

void write_durations(json_out& out, infra::sql::session& db, const report_query& q) {
  const auto a = an::stage_durations(db, q.filters);
  envelope(out, a.fresh);
  out.key("items").begin_array();
  for (const auto& r : a.rows) {
    out.begin_object();
    stage_fields(out, r.pipeline_id, r.stage_id, r.stage_name, r.stage_position);
    out.key("stays").integer(r.stays);
    out.key("avg_seconds");
    number(out, r.avg_seconds);
    out.key("p90_seconds").integer(r.p90_seconds);
    out.end_object();
  }
  out.end_array();
}

void write_conversion(json_out& out, infra::sql::session& db, const report_query& q) {
  const auto a = an::stage_conversions(db, q.filters);
  envelope(out, a.fresh);
  out.key("items").begin_array();
  for (const auto& r : a.rows) {
    out.begin_object();
    stage_fields(out, r.pipeline_id, r.stage_id, r.stage_name, r.stage_position);
    out.key("entered").integer(r.entered);
    out.key("advanced").integer(r.advanced);
    out.key("rate");
    optional_number(out, r.rate);
    out.end_object();
  }
  out.end_array();
}

void write_funnel(json_out& out, infra::sql::session& db, const report_query& q) {
  const auto a = an::lead_funnel(db, q.filters);
  envelope(out, a.fresh);
  const auto& t = a.totals;
  out.key("leads").integer(t.leads);
  out.key("contacted").integer(t.contacted);
  out.key("qualified").integer(t.qualified);
  out.key("disqualified").integer(t.disqualified);
  out.key("converted").integer(t.converted);
  out.key("with_deal").integer(t.with_deal);
  out.key("won").integer(t.won);
  // The funnel's steps, each with its share of the step before.
  const std::pair<std::string_view, std::int64_t> steps[] = {
      {"lead", t.leads}, {"qualified", t.qualified}, {"deal", t.with_deal}, {"won", t.won}};
  out.key("items").begin_array();
  for (std::size_t i = 0; i < std::size(steps); ++i) {
    out.begin_object();
    out.key("step").string(steps[i].first);
    out.key("count").integer(steps[i].second);
    out.key("rate");
    if (i == 0 || steps[i - 1].second == 0) {
      out.null();
    } else {
      number(out, static_cast<double>(steps[i].second) / static_cast<double>(steps[i - 1].second));
    }
    out.end_object();
  }
  out.end_array();
}

void write_slipped(json_out& out, infra::sql::session& db, const report_query& q) {
  const auto a = an::slipped_deals(db, q.filters, q.limit);
  envelope(out, a.fresh);
  out.key("total").integer(a.total);
  out.key("items").begin_array();
  for (const auto& r : a.rows) {
    out.begin_object();
    out.key("deal_id").string(r.deal_id);
    out.key("pipeline_id").string(r.pipeline_id);
    out.key("owner_id").string(r.owner_id);
    out.key("team_id").optional_string(r.team_id);
    out.key("status").string(r.status);
    out.key("first_close_date").optional_string(r.first_close_date);
    out.key("expected_close_date").optional_string(r.expected_close_date);
    out.key("slips").integer(r.slips);
    out.key("slip_days").integer(r.slip_days);
    out.end_object();
  }
  out.end_array();
}

void write_velocity(json_out& out, infra::sql::session& db, const report_query& q) {
  const auto a = an::sales_velocity(db, q.filters);
  envelope(out, a.fresh);
  out.key("items").begin_array();
  for (const auto& r : a.rows) {
    out.begin_object();
    out.key("currency").string(r.currency);
    out.key("open_deals").integer(r.open_deals);
    out.key("won").integer(r.won);
    out.key("lost").integer(r.lost);
    out.key("win_rate");
    optional_number(out, r.win_rate);
    out.key("avg_won_value_minor");
    optional_number(out, r.avg_won_value_minor);
    out.key("avg_cycle_days");
    optional_number(out, r.avg_cycle_days);
    out.key("velocity_minor_per_day");
    optional_number(out, r.velocity_per_day);
    out.end_object();
  }
  out.end_array();
}

void write_activities(json_out& out, infra::sql::session& db, const report_query& q) {
  const auto a = an::activities_per_week(db, q.filters);
  envelope(out, a.fresh);
  out.key("items").begin_array();
  for (const auto& r : a.rows) {
    out.begin_object();
    out.key("week").string(r.week);
    out.key("user_id").string(r.user_id);
    out.key("activities").integer(r.activities);
    out.key("minutes").integer(r.minutes);
    out.key("calls").integer(r.calls);
    out.key("emails").integer(r.emails);
    out.key("meetings").integer(r.meetings);
    out.key("notes").integer(r.notes);
    out.key("sms").integer(r.sms);
    out.end_object();
  }
  out.end_array();
}

http_response refresh(request_scope& scope) {
  if (!scope.request().body.empty()) {
    // A body would suggest options this route does not have.
    if (const auto body = optional_body_of(scope.request())) body->root().allow_only({});
  }
  if (!scope.request().query.empty()) {
    fail(scope.request().query.front().first, "this route takes no parameters");
  }
  auto* db = scope.services().read_db;
  if (!db) {
    throw problem_error(
        make_problem(problem_kind::unavailable, "this process serves no analytics"));
  }
  auto session = db->open_session();
  an::revoke_private_relations(*session);
  const auto r = an::refresh_analytics(*session, true);
  json_out out;
  out.begin_object();
  out.key("refreshed").boolean(r.refreshed);
  out.key("reason").string(r.reason);
  out.key("generation").integer(r.generation);
  out.key("position").integer(r.position);
  out.key("views").begin_array();
  for (const auto& v : r.views) out.string(v);
  out.end_array();
  out.key("took_ms").integer(r.took.count());
  out.end_object();
  return http_response::json(200, out.take());
}

}  // namespace

void add_analytics_routes(router& routes, crm_services& services) {
  add_report(routes, services, "pipeline", "pipeline",
             "Open deals per stage: count, value and weighted value (filters: pipeline, owner, "
             "team)",
             {"pipeline", "owner", "team"}, write_pipeline);
  add_report(routes, services, "forecast", "forecast",
             "Weighted forecast per expected-close month (filters: pipeline, owner, team, from, "
             "to)",
             {"pipeline", "owner", "team", "from", "to"}, write_forecast);
  add_report(routes, services, "win-rates", "win_rates",
             "Won and lost deals and win rate per quarter, by=owner or by=team (filters: "
             "pipeline, owner, team, from, to)",
             {"by", "pipeline", "owner", "team", "from", "to"}, write_win_rates);
  add_report(routes, services, "stage-durations", "stage_durations",
             "Average and 90th percentile time spent in each stage (filters: pipeline, owner, "
             "team, from, to)",
             {"pipeline", "owner", "team", "from", "to"}, write_durations);
  add_report(routes, services, "stage-conversion", "stage_conversion",
             "Deals that entered each stage and that moved on to a later stage or were won "
             "(filters: pipeline, owner, team)",
             {"pipeline", "owner", "team"}, write_conversion);
  add_report(routes, services, "funnel", "funnel",
             "The funnel lead, qualified, deal, won (filters: owner, team, source, from, to)",
             {"owner", "team", "source", "from", "to"}, write_funnel);
  add_report(routes, services, "slipped-deals", "slipped_deals",
             "Deals whose expected close date was pushed later (filters: pipeline, owner, team, "
             "status, from, to, limit)",
             {"pipeline", "owner", "team", "status", "from", "to", "limit"}, write_slipped);
  add_report(routes, services, "sales-velocity", "sales_velocity",
             "Sales velocity per currency: open deals x win rate x average won value / average "
             "cycle (filters: pipeline, owner, team, from, to)",
             {"pipeline", "owner", "team", "from", "to"}, write_velocity);
  add_report(routes, services, "activities", "activities",
             "Activities per user per week (filters: owner, team, kind, from, to)",
             {"owner", "team", "kind", "from", "to"}, write_activities);
  route r;
  r.method = "POST";
  r.pattern = "/api/analytics/refresh";
  r.name = "analytics.refresh";
  r.permission = std::string(auth::to_string(perm::admin_access));
  r.summary = "Refresh the analytics' materialized views now (PostgreSQL; SQLite has none)";
  r.blocking = true;
  r.response_schema = kRefreshSchema;
  r.handle = [&services](const http_request& request) {
    request_scope scope(services, request);
    if (!auth::has_permission(scope.caller().role, perm::admin_access)) {
      forbid("the role " + std::string(to_string(scope.caller().role)) + " lacks admin:access");
    }
    return refresh(scope);
  };
  routes.add(std::move(r));
}

}  // namespace realmkit::api::crm
