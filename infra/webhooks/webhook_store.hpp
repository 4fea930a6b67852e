// The tables of outgoing webhooks (migrations/*/webhooks.sql) over the event store's database:
// subscriptions with their secrets and their place in the log, deliveries, and every attempt.
// Kept out of the event log on purpose: secrets are rotated and deleted, a log is forever.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "infra/event_store.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::infra::webhooks {

struct subscription {
  std::string id;
  std::string url;
  std::string description;
  std::vector<std::string> event_types;  // patterns (webhook_events.hpp)
  bool active = true;
  // Every event at or below this global position has been examined for this subscription.
  std::int64_t position = 0;
  std::string created_by;
  timestamp created_at{};
  timestamp updated_at{};
  // While set, the secret before the last rotation still signs deliveries, until then.
  std::optional<timestamp> previous_secret_expires_at;
};

enum class delivery_status { pending, delivered, failed };
enum class delivery_reason { event, replay, redelivery };
std::string_view to_string(delivery_status s);
std::string_view to_string(delivery_reason r);
std::optional<delivery_status> delivery_status_from(std::string_view text);

struct delivery {
  std::string id;
  std::string subscription_id;
  std::string event_id;
  std::int64_t event_position = 0;
  std::string event_type;  // as stored, "deal.stage_moved.v1"
  delivery_reason reason = delivery_reason::event;
  std::optional<std::string> redelivery_of;
  delivery_status status = delivery_status::pending;
  int attempts = 0;
  std::optional<timestamp> next_attempt_at;  // while pending
  timestamp created_at{};
  std::optional<timestamp> completed_at;
  std::optional<int> last_status_code;
  std::optional<std::string> last_error;
};

enum class attempt_outcome { delivered, retry, failed };
std::string_view to_string(attempt_outcome o);

struct attempt {
  int number = 0;  // 1 for the first
  timestamp at{};
  std::chrono::microseconds duration{};
  std::optional<int> status_code;    // the receiver's answer, when one came
  std::optional<std::string> error;  // why there was none, or why it counts as a failure
  attempt_outcome outcome = attempt_outcome::failed;
};

// A subscription as the dispatcher follows it.
struct subscription_cursor {
  std::string id;
  std::vector<std::string> event_types;
  std::int64_t position = 0;
  std::int64_t replay_through = 0;  // deliveries of events at or below this are replays
};

// A delivery to enqueue for an event.
struct new_delivery {
  std::string id;
  const recorded_event* event = nullptr;
};

// What a sender needs for one attempt.
struct claimed_delivery {
  infra::webhooks::delivery delivery;
  std::string url;
  std::vector<std::string> secrets;  // the valid ones, newest first
};

template <class T>
struct store_page {
  std::vector<T> items;
  std::optional<std::string> next_cursor;  // the id after which the next page starts
};

class webhook_store {
 public:
  // `db` is the event store's database (its SQLite file or PostgreSQL schema, migrated). Must
  // outlive the store.
  explicit webhook_store(sql::database& db) : db_(db) {}

  // ---- subscriptions ----
  void create(const subscription& s, const std::string& secret);
  std::optional<subscription> find(std::string_view id);
  // Oldest first, after the id `after`.
  store_page<subscription> list(const std::optional<std::string>& after, std::size_t limit);
  // Writes url, description, event_types, active, position and updated_at; false when gone.
  bool update(const subscription& s);
  // The subscription, its deliveries and their attempts; false when it did not exist.
  bool remove(std::string_view id);
  // A new secret; the old one keeps signing until `previous_until` when given. False when gone.
  bool rotate_secret(std::string_view id, const std::string& secret,
                     std::optional<timestamp> previous_until, timestamp now);
  // Moves the subscription back so that every event after `from_position` is examined (and, where
  // it matches, delivered) again; a position ahead of the subscription's changes nothing. The
  // position it now has; nullopt when gone.
  std::optional<std::int64_t> rewind(std::string_view id, std::int64_t from_position,
                                     timestamp now);

  // ---- the dispatcher ----
  std::vector<subscription_cursor> active_cursors();
  // In one transaction: inserts the deliveries (created at `now`, due at once) and moves the
  // subscription from `from` to `to`. False, with nothing written, when the subscription is not
  // at `from` any more (another dispatcher, a replay or a deletion came first).
  bool enqueue(const subscription_cursor& cursor, std::int64_t to,
               std::span<const new_delivery> deliveries, timestamp now);

  // ---- senders ----
  // Up to `max` pending deliveries of active subscriptions that are due at `now` and not held by
  // another sender, each now held until now + lease.
  std::vector<claimed_delivery> claim_due(timestamp now, std::chrono::milliseconds lease,
                                          std::size_t max);
  // Records the attempt and its consequence: delivered, failed, or pending again until `retry_at`
  // (outcome retry). Releases the lease. False when the delivery is gone or not pending.
  bool record_attempt(const std::string& delivery_id, const attempt& a,
                      std::optional<timestamp> retry_at);
  // The earliest time a pending delivery of an active subscription falls due; nullopt when none.
  std::optional<timestamp> next_due();
  // Pending deliveries, for the metrics.
  std::int64_t pending_count();
  // Forgets up to `max` finished deliveries (delivered or failed) completed before `before`, with
  // their attempts; pending ones are never touched. The number forgotten.
  std::size_t prune_finished(timestamp before, std::size_t max);

  // ---- what the API shows ----
  // Newest first, after the id `after`, optionally only of one status.
  store_page<delivery> deliveries(std::string_view subscription_id,
                                  std::optional<delivery_status> status,
                                  const std::optional<std::string>& after, std::size_t limit);
  std::optional<delivery> find_delivery(std::string_view subscription_id,
                                        std::string_view delivery_id);
  std::vector<attempt> attempts_of(std::string_view delivery_id);
  // A new delivery of the same event, due at once; nullopt when the original is gone.
  std::optional<delivery> redeliver(std::string_view subscription_id, std::string_view delivery_id,
                                    const std::string& new_id, timestamp now);

 private:
  sql::database& db_;
};

}  // namespace realmkit::infra::webhooks
