// Refreshing the analytics' materialized views (PostgreSQL): on demand (refresh_analytics, behind
// POST /api/analytics/refresh) and on a schedule (analytics_refresher, a thread that refreshes
// every interval when the facts changed since the last refresh). SQLite has nothing to refresh:
// its analytics are kept current by the projection.
//
// A refresh runs in one REPEATABLE READ transaction: every view is refreshed CONCURRENTLY
// (readers keep reading the previous contents) from one snapshot of the facts, and the
// projection's checkpoint read in that snapshot is exactly the position the new contents reflect.
// It is recorded in an_refreshes, where readers see how fresh the views are.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "infra/metrics.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::projections::analytics {

struct refresh_result {
  // False when nothing was refreshed: SQLite, no live generation yet, nothing changed since the
  // last refresh, or another process is refreshing right now (`reason` says which).
  bool refreshed = false;
  std::string reason;
  std::int64_t generation = 0;
  std::int64_t position = 0;  // what the views reflect now
  std::vector<std::string> views;
  std::chrono::milliseconds took{0};
};

// Refreshes the live generation's materialized views, when the facts changed since their last
// refresh or when `force`. Runs its own transaction on `db` (none may be open).
refresh_result refresh_analytics(infra::sql::session& db, bool force);

// Relations that the analyst role must not read although default privileges grant it SELECT on
// everything the projector creates (credentials): revokes that grant wherever it is found in
// the session's schema. PostgreSQL only; returns how many relations it revoked.
int revoke_private_relations(infra::sql::session& db);

struct refresher_options {
  std::chrono::milliseconds interval{std::chrono::seconds{30}};
  infra::metrics_registry* metrics = nullptr;
};

class analytics_refresher {
 public:
  // The database must outlive the refresher. Nothing runs before start().
  analytics_refresher(infra::sql::database& db, refresher_options options = {});
  ~analytics_refresher();
  analytics_refresher(const analytics_refresher&) = delete;
  analytics_refresher& operator=(const analytics_refresher&) = delete;

  // Starts the thread (PostgreSQL only; on SQLite it does nothing). Idempotent. Every round also
  // runs revoke_private_relations, the first one at once.
  void start();
  // Stops the thread after a refresh in progress. Idempotent.
  void stop();

  // The last scheduled refresh that refreshed something, if any.
  std::optional<refresh_result> last() const;
  // Scheduled refreshes attempted (for tests and metrics), whether or not they refreshed.
  std::uint64_t rounds() const;

 private:
  void run();
  void record(const refresh_result& r);

  infra::sql::database& db_;
  refresher_options options_;
  infra::histogram* seconds_ = nullptr;
  infra::counter* failures_ = nullptr;
  infra::gauge* position_ = nullptr;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  bool stopping_ = false;
  std::optional<refresh_result> last_;
  std::uint64_t rounds_ = 0;
  std::thread thread_;
};

}  // namespace realmkit::projections::analytics
