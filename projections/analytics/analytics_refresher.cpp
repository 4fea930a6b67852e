#include "projections/analytics/analytics_refresher.hpp"

#include <spdlog/spdlog.h>

#include "infra/json/json_time.hpp"
#include "projections/analytics/analytics_schema.hpp"
#include "projections/catalog.hpp"

namespace realmkit::projections::analytics {

namespace sql = infra::sql;
using steady = std::chrono::steady_clock;

namespace {

// The first key of the two-part advisory lock that lets one refresher per schema work at a time
// ("RKAN"); the second is the schema's hash.
constexpr std::int64_t kRefreshLockClass = 0x524B414E;

std::chrono::milliseconds since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
}

// Read models holding secrets (password hashes); their generations are "<name>_g<N>".
constexpr std::string_view kPrivateRelations[] = {"rm_user_credentials"};

}  // namespace

int revoke_private_relations(sql::session& db) {
  if (db.dialect() != sql::dialect::postgres) return 0;
  int revoked = 0;
  for (const auto& name : kPrivateRelations) {
    const sql::value params[] = {std::string(name), "^" + std::string(name) + "_g[0-9]+$"};
    const auto rows = db.query(
        "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.rolname = 'realmkit_analyst' "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'v', 'm', "
        "'p') AND (c.relname = $1 OR c.relname ~ $2) AND has_table_privilege(r.oid, c.oid, "
        "'SELECT')",
        params);
    for (const auto& r : rows) {
      db.exec_script("REVOKE ALL ON " + sql::identifier(r.text(0)) + " FROM realmkit_analyst");
      ++revoked;
    }
  }
  return revoked;
}

refresh_result refresh_analytics(sql::session& db, bool force) {
  refresh_result out;
  if (db.dialect() != sql::dialect::postgres) {
    out.reason = "the SQLite analytics are kept current by the projection";
    return out;
  }
  const auto started = steady::now();
  sql::transaction txn(db);
  // One snapshot for every view and for the checkpoint that says what they reflect.
  db.exec_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  const sql::value lock[] = {kRefreshLockClass};
  if (db.query("SELECT pg_try_advisory_xact_lock(CAST($1 AS integer), hashtext(current_schema()))",
               lock)[0]
          .integer(0) == 0) {
    out.reason = "another process is refreshing the analytics";
    return out;
  }
  const auto live = live_generation(db, kProjectionName);
  if (!live) {
    out.reason = "the analytics read model has not been created yet";
    return out;
  }
  out.generation = live->generation;
  out.position = live->position;
  const relation_names names(live->generation);
  const auto table = [&](std::string_view r) { return sql::identifier(names(r)); };
  const auto views = analytics_relations();
  if (!force) {
    const auto changed = db.query("SELECT position FROM " + table(kChanges) + " WHERE id = 1");
    const auto refreshed = db.query("SELECT COUNT(*), MIN(position) FROM " + table(kRefreshes));
    const bool all_refreshed = refreshed[0].integer(0) == static_cast<std::int64_t>(views.size());
    const auto oldest = refreshed[0].optional_integer(1).value_or(0);
    if (all_refreshed && (changed.empty() || oldest >= changed[0].integer(0))) {
      out.reason = "the facts have not changed since the last refresh";
      out.position = oldest;
      return out;
    }
  }
  const auto now = infra::format_timestamp(domain::timestamp{std::chrono::microseconds{now_us()}});
  for (const auto& view : views) {
    const auto view_started = steady::now();
    db.exec_script("REFRESH MATERIALIZED VIEW CONCURRENTLY " + table(view));
    const sql::value params[] = {std::string(view), out.position, now.value_or(""),
                                 static_cast<std::int64_t>(since(view_started).count())};
    db.execute("INSERT INTO " + table(kRefreshes) +
                   " (view_name, position, refreshed_at, took_ms) VALUES ($1, $2, $3, $4) ON "
                   "CONFLICT (view_name) DO UPDATE SET position = excluded.position, "
                   "refreshed_at = excluded.refreshed_at, took_ms = excluded.took_ms",
               params);
    out.views.emplace_back(view);
  }
  txn.commit();
  out.refreshed = true;
  out.took = since(started);
  return out;
}

analytics_refresher::analytics_refresher(sql::database& db, refresher_options options)
    : db_(db), options_(options) {
  if (auto* m = options_.metrics) {
    seconds_ = &m->histogram_for("realmkit_analytics_refresh_seconds",
                                 "Time to refresh the analytics' materialized views",
                                 infra::latency_buckets());
    failures_ = &m->counter_for("realmkit_analytics_refresh_failures_total",
                                "Scheduled refreshes of the analytics that failed");
    position_ = &m->gauge_for("realmkit_analytics_refreshed_position",
                              "Global position the analytics' materialized views reflect");
  }
}

analytics_refresher::~analytics_refresher() {
  stop();
}

void analytics_refresher::start() {
  if (db_.dialect() != sql::dialect::postgres) return;
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void analytics_refresher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<refresh_result> analytics_refresher::last() const {
  std::lock_guard lock(mutex_);
  return last_;
}

std::uint64_t analytics_refresher::rounds() const {
  std::lock_guard lock(mutex_);
  return rounds_;
}

void analytics_refresher::record(const refresh_result& r) {
  std::lock_guard lock(mutex_);
  ++rounds_;
  if (r.refreshed) last_ = r;
}

void analytics_refresher::run() {
  std::unique_ptr<sql::session> session;
  bool first = true;
  while (true) {
    if (!first) {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, options_.interval, [&] { return stopping_; })) return;
    }
    first = false;
    try {
      if (!session) session = db_.open_session();
      if (const int n = revoke_private_relations(*session); n > 0) {
        spdlog::info("analytics: revoked the analyst role's access to {} private relations", n);
      }
      const auto r = refresh_analytics(*session, false);
      if (r.refreshed) {
        spdlog::debug("analytics: refreshed {} views at position {} in {} ms", r.views.size(),
                      r.position, r.took.count());
        if (seconds_) seconds_->observe(static_cast<double>(r.took.count()) / 1000.0);
        if (position_) position_->set(static_cast<double>(r.position));
      }
      record(r);
    } catch (const std::exception& e) {
      // A rebuild may have dropped the generation under the refresh, or the database is away:
      // the next round tries again.
      spdlog::warn("analytics: scheduled refresh failed: {}", e.what());
      if (failures_) failures_->inc();
      session.reset();
      record(refresh_result{false, e.what(), 0, 0, {}, {}});
    }
  }
}

}  // namespace realmkit::projections::analytics
