#include "infra/webhooks/webhook_store.hpp"

#include <algorithm>

namespace realmkit::infra::webhooks {
namespace {

using sql::value;

std::int64_t micros(timestamp t) {
  return t.time_since_epoch().count();
}

timestamp at(std::int64_t us) {
  return timestamp(std::chrono::microseconds(us));
}

std::string join(const std::vector<std::string>& patterns) {
  std::string out;
  for (const auto& p : patterns) {
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

value optional_text(const std::optional<std::string>& s) {
  return s ? value(*s) : sql::null();
}

value optional_int(const std::optional<int>& n) {
  return n ? value(std::int64_t{*n}) : sql::null();
}

value optional_time(const std::optional<timestamp>& t) {
  return t ? value(micros(*t)) : sql::null();
}

// ---- named statements ----

constexpr const char* kSubscriptionColumns =
    "id, url, description, event_types, active, position, created_by, created_at, updated_at, "
    "previous_secret_expires_at";

subscription subscription_of(const sql::row& r) {
  subscription s;
  s.id = r.text(0);
  s.url = r.text(1);
  s.description = r.text(2);
  s.event_types = split(r.text(3));
  s.active = r.integer(4) != 0;
  s.position = r.integer(5);
  s.created_by = r.text(6);
  s.created_at = at(r.integer(7));
  s.updated_at = at(r.integer(8));
  if (auto until = r.optional_integer(9)) s.previous_secret_expires_at = at(*until);
  return s;
}

constexpr const char* kDeliveryColumns =
    "id, subscription_id, event_id, event_position, event_type, reason, redelivery_of, status, "
    "attempts, next_attempt_at, created_at, completed_at, last_status_code, last_error";

delivery delivery_of(const sql::row& r) {
  delivery d;
  d.id = r.text(0);
  d.subscription_id = r.text(1);
  d.event_id = r.text(2);
  d.event_position = r.integer(3);
  d.event_type = r.text(4);
  const auto reason = r.text(5);
  d.reason = reason == "replay"       ? delivery_reason::replay
             : reason == "redelivery" ? delivery_reason::redelivery
                                      : delivery_reason::event;
  d.redelivery_of = r.optional_text(6);
  d.status = delivery_status_from(r.text(7)).value_or(delivery_status::pending);
  d.attempts = static_cast<int>(r.integer(8));
  if (auto due = r.optional_integer(9)) d.next_attempt_at = at(*due);
  d.created_at = at(r.integer(10));
  if (auto done = r.optional_integer(11)) d.completed_at = at(*done);
  if (auto code = r.optional_integer(12)) d.last_status_code = static_cast<int>(*code);
  d.last_error = r.optional_text(13);
  return d;
}

const std::string kSelectSubscription =
    std::string("SELECT ") + kSubscriptionColumns + " FROM webhook_subscriptions WHERE id = $1";
const std::string kSelectDelivery = std::string("SELECT ") + kDeliveryColumns +
                                    " FROM webhook_deliveries WHERE subscription_id = $1 AND "
                                    "id = $2";
constexpr const char* kInsertDelivery =
    "INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_position, event_type, "
    "reason, redelivery_of, status, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, "
    "$4, $5, $6, $7, 'pending', 0, $8, $8)";

// The valid secrets of a subscription row (secret, previous_secret, its expiry), newest first.
std::vector<std::string> valid_secrets(const sql::row& r, std::size_t first, timestamp now) {
  std::vector<std::string> out{r.text(first)};
  if (const auto previous = r.optional_text(first + 1)) {
    if (const auto until = r.optional_integer(first + 2); until && *until > micros(now)) {
      out.push_back(*previous);
    }
  }
  return out;
}

}  // namespace

std::string_view to_string(delivery_status s) {
  switch (s) {
    case delivery_status::pending:
      return "pending";
    case delivery_status::delivered:
      return "delivered";
    case delivery_status::failed:
      return "failed";
  }
  return {};
}

std::string_view to_string(delivery_reason r) {
  switch (r) {
    case delivery_reason::event:
      return "event";
    case delivery_reason::replay:
      return "replay";
    case delivery_reason::redelivery:
      return "redelivery";
  }
  return {};
}

std::string_view to_string(attempt_outcome o) {
  switch (o) {
    case attempt_outcome::delivered:
      return "delivered";
    case attempt_outcome::retry:
      return "retry";
    case attempt_outcome::failed:
      return "failed";
  }
  return {};
}

std::optional<delivery_status> delivery_status_from(std::string_view text) {
  for (const auto s :
       {delivery_status::pending, delivery_status::delivered, delivery_status::failed}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

// ---- subscriptions ----

void webhook_store::create(const subscription& s, const std::string& secret) {
  auto db = db_.acquire();
  const value params[] = {
      s.id,   s.url,      s.description, join(s.event_types),  sql::boolean(s.active),
      secret, s.position, s.created_by,  micros(s.created_at), micros(s.updated_at)};
  db->execute(
      "INSERT INTO webhook_subscriptions (id, url, description, event_types, active, secret, "
      "position, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
      "$10)",
      params);
}

std::optional<subscription> webhook_store::find(std::string_view id) {
  auto db = db_.acquire();
  const value params[] = {std::string(id)};
  const auto rows = db->query(kSelectSubscription, params);
  if (rows.empty()) return std::nullopt;
  return subscription_of(rows[0]);
}

store_page<subscription> webhook_store::list(const std::optional<std::string>& after,
                                             std::size_t limit) {
  auto db = db_.acquire();
  const value params[] = {after.value_or(std::string()), static_cast<std::int64_t>(limit + 1)};
  const auto rows = db->query(std::string("SELECT ") + kSubscriptionColumns +
                                  " FROM webhook_subscriptions WHERE id > $1 ORDER BY id LIMIT $2",
                              params);
  store_page<subscription> page;
  for (const auto& r : rows) {
    if (page.items.size() == limit) {
      page.next_cursor = page.items.back().id;
      break;
    }
    page.items.push_back(subscription_of(r));
  }
  return page;
}

bool webhook_store::update(const subscription& s) {
  auto db = db_.acquire();
  const value params[] = {s.id,
                          s.url,
                          s.description,
                          join(s.event_types),
                          sql::boolean(s.active),
                          s.position,
                          micros(s.updated_at)};
  return db->execute(
             "UPDATE webhook_subscriptions SET url = $2, description = $3, event_types = $4, "
             "active = $5, position = $6, updated_at = $7 WHERE id = $1",
             params) == 1;
}

bool webhook_store::remove(std::string_view id) {
  auto db = db_.acquire();
  sql::transaction tx(*db);
  const value params[] = {std::string(id)};
  db->execute(
      "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries "
      "WHERE subscription_id = $1)",
      params);
  db->execute("DELETE FROM webhook_deliveries WHERE subscription_id = $1", params);
  const bool existed = db->execute("DELETE FROM webhook_subscriptions WHERE id = $1", params) == 1;
  tx.commit();
  return existed;
}

std::size_t webhook_store::prune_finished(timestamp before, std::size_t max) {
  auto db = db_.acquire();
  sql::transaction tx(*db);
  const value limits[] = {micros(before), static_cast<std::int64_t>(max)};
  // The oldest first, through the index on completed_at, a batch at a time: the transaction stays
  // short while senders record attempts beside it. The ids are named, not selected again, so the
  // attempts deleted are exactly those of the deliveries deleted.
  std::vector<value> ids;
  std::string list;
  for (const auto& r : db->query("SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND "
                                 "completed_at < $1 ORDER BY completed_at, id LIMIT $2",
                                 limits)) {
    ids.emplace_back(std::string(r.text(0)));
    list += (list.empty() ? "$" : ", $") + std::to_string(ids.size());
  }
  if (ids.empty()) return 0;
  db->execute("DELETE FROM webhook_attempts WHERE delivery_id IN (" + list + ")", ids);
  const auto n = db->execute("DELETE FROM webhook_deliveries WHERE id IN (" + list + ")", ids);
  tx.commit();
  return static_cast<std::size_t>(n);
}

bool webhook_store::rotate_secret(std::string_view id, const std::string& secret,
                                  std::optional<timestamp> previous_until, timestamp now) {
  auto db = db_.acquire();
  const value params[] = {std::string(id), secret, sql::boolean(previous_until.has_value()),
                          optional_time(previous_until), micros(now)};
  // The old secret is kept only while it is to go on signing; otherwise it is gone at once.
  return db->execute(
             "UPDATE webhook_subscriptions SET previous_secret = CASE WHEN $3 = 1 THEN secret "
             "ELSE NULL END, previous_secret_expires_at = $4, secret = $2, updated_at = $5 "
             "WHERE id = $1",
             params) == 1;
}

std::optional<std::int64_t> webhook_store::rewind(std::string_view id, std::int64_t from_position,
                                                  timestamp now) {
  auto db = db_.acquire();
  sql::transaction tx(*db);
  const value by_id[] = {std::string(id)};
  const auto rows =
      db->query("SELECT position, replay_through FROM webhook_subscriptions WHERE id = $1", by_id);
  if (rows.empty()) return std::nullopt;
  const auto position = rows[0].integer(0);
  if (from_position >= position) return position;
  const value params[] = {std::string(id), from_position, std::max(position, rows[0].integer(1)),
                          micros(now)};
  db->execute(
      "UPDATE webhook_subscriptions SET position = $2, replay_through = $3, updated_at = $4 "
      "WHERE id = $1",
      params);
  tx.commit();
  return from_position;
}

// ---- the dispatcher ----

std::vector<subscription_cursor> webhook_store::active_cursors() {
  auto db = db_.acquire();
  const auto rows = db->query(
      "SELECT id, event_types, position, replay_through FROM webhook_subscriptions WHERE active "
      "ORDER BY position, id");
  std::vector<subscription_cursor> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.push_back({r.text(0), split(r.text(1)), r.integer(2), r.integer(3)});
  }
  return out;
}

bool webhook_store::enqueue(const subscription_cursor& cursor, std::int64_t to,
                            std::span<const new_delivery> deliveries, timestamp now) {
  auto db = db_.acquire();
  sql::transaction tx(*db);
  const value move[] = {cursor.id, cursor.position, to};
  if (db->execute("UPDATE webhook_subscriptions SET position = $3 WHERE id = $1 AND position = $2 "
                  "AND active",
                  move) != 1) {
    return false;  // rolled back: someone else moved it, or it was switched off or deleted
  }
  if (!deliveries.empty()) {
    std::vector<std::vector<value>> rows;
    rows.reserve(deliveries.size());
    for (const auto& d : deliveries) {
      const bool replay = d.event->global_position <= cursor.replay_through;
      rows.push_back({d.id, cursor.id, d.event->event_id, d.event->global_position, d.event->type,
                      std::string(replay ? "replay" : "event"), sql::null(), micros(now)});
    }
    db->execute_many(kInsertDelivery, rows);
  }
  tx.commit();
  return true;
}

// ---- senders ----

std::vector<claimed_delivery> webhook_store::claim_due(timestamp now,
                                                       std::chrono::milliseconds lease,
                                                       std::size_t max) {
  auto db = db_.acquire();
  const value due[] = {micros(now), static_cast<std::int64_t>(max)};
  const auto candidates = db->query(
      "SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = "
      "d.subscription_id WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND "
      "(d.lease_until IS NULL OR d.lease_until <= $1) AND s.active ORDER BY d.next_attempt_at, "
      "d.id LIMIT $2",
      due);
  std::vector<claimed_delivery> out;
  const auto until =
      micros(now) + std::chrono::duration_cast<std::chrono::microseconds>(lease).count();
  for (const auto& c : candidates) {
    const value hold[] = {c.text(0), until, micros(now)};
    // Another sender may have taken it since the look: whoever moves the lease first has it.
    if (db->execute("UPDATE webhook_deliveries SET lease_until = $2 WHERE id = $1 AND status = "
                    "'pending' AND (lease_until IS NULL OR lease_until <= $3)",
                    hold) != 1) {
      continue;
    }
    const value by_id[] = {c.text(0)};
    const auto rows = db->query(
        std::string("SELECT ") +
            "d.id, d.subscription_id, d.event_id, d.event_position, d.event_type, d.reason, "
            "d.redelivery_of, d.status, d.attempts, d.next_attempt_at, d.created_at, "
            "d.completed_at, d.last_status_code, d.last_error, s.url, s.secret, "
            "s.previous_secret, s.previous_secret_expires_at FROM webhook_deliveries d JOIN "
            "webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id = $1",
        by_id);
    if (rows.empty()) continue;
    out.push_back({delivery_of(rows[0]), rows[0].text(14), valid_secrets(rows[0], 15, now)});
  }
  return out;
}

bool webhook_store::record_attempt(const std::string& delivery_id, const attempt& a,
                                   std::optional<timestamp> retry_at) {
  auto db = db_.acquire();
  sql::transaction tx(*db);
  // A retry without a time to retry at would never fall due: it counts as failed.
  const bool pending = a.outcome == attempt_outcome::retry && retry_at.has_value();
  const std::string status = pending                                   ? "pending"
                             : a.outcome == attempt_outcome::delivered ? "delivered"
                                                                       : "failed";
  const value update[] = {delivery_id,
                          std::int64_t{a.number},
                          status,
                          pending ? value(micros(*retry_at)) : sql::null(),
                          pending ? sql::null() : value(micros(a.at + a.duration)),
                          optional_int(a.status_code),
                          optional_text(a.error)};
  if (db->execute("UPDATE webhook_deliveries SET attempts = $2, status = $3, next_attempt_at = $4, "
                  "lease_until = NULL, completed_at = $5, last_status_code = $6, last_error = $7 "
                  "WHERE id = $1 AND status = 'pending' AND attempts = $2 - 1",
                  update) != 1) {
    return false;
  }
  const value insert[] = {delivery_id,
                          std::int64_t{a.number},
                          micros(a.at),
                          static_cast<std::int64_t>(a.duration.count()),
                          optional_int(a.status_code),
                          optional_text(a.error),
                          std::string(to_string(a.outcome))};
  db->execute(
      "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, duration_us, "
      "status_code, error, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      insert);
  tx.commit();
  return true;
}

std::optional<timestamp> webhook_store::next_due() {
  auto db = db_.acquire();
  const auto rows = db->query(
      "SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d JOIN webhook_subscriptions s ON "
      "s.id = d.subscription_id WHERE d.status = 'pending' AND s.active");
  if (rows.empty() || rows[0].is_null(0)) return std::nullopt;
  return at(rows[0].integer(0));
}

std::int64_t webhook_store::pending_count() {
  auto db = db_.acquire();
  return db->query("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")[0].integer(
      0);
}

// ---- what the API shows ----

store_page<delivery> webhook_store::deliveries(std::string_view subscription_id,
                                               std::optional<delivery_status> status,
                                               const std::optional<std::string>& after,
                                               std::size_t limit) {
  auto db = db_.acquire();
  // Newest first: ids are UUIDv7, which sort by creation time. The cursor is the last id shown;
  // "~" sorts after every id, so the first page starts below it.
  const value params[] = {std::string(subscription_id), after.value_or(std::string("~")),
                          status ? value(std::string(to_string(*status))) : sql::null(),
                          static_cast<std::int64_t>(limit + 1)};
  const auto rows =
      db->query(std::string("SELECT ") + kDeliveryColumns +
                    " FROM webhook_deliveries WHERE subscription_id = $1 AND id < "
                    "$2 AND (CAST($3 AS TEXT) IS NULL OR status = $3) ORDER BY id DESC LIMIT $4",
                params);
  store_page<delivery> page;
  for (const auto& r : rows) {
    if (page.items.size() == limit) {
      page.next_cursor = page.items.back().id;
      break;
    }
    page.items.push_back(delivery_of(r));
  }
  return page;
}

std::optional<delivery> webhook_store::find_delivery(std::string_view subscription_id,
                                                     std::string_view delivery_id) {
  auto db = db_.acquire();
  const value params[] = {std::string(subscription_id), std::string(delivery_id)};
  const auto rows = db->query(kSelectDelivery, params);
  if (rows.empty()) return std::nullopt;
  return delivery_of(rows[0]);
}

std::vector<attempt> webhook_store::attempts_of(std::string_view delivery_id) {
  auto db = db_.acquire();
  const value params[] = {std::string(delivery_id)};
  const auto rows = db->query(
      "SELECT attempt, attempted_at, duration_us, status_code, error, outcome FROM "
      "webhook_attempts WHERE delivery_id = $1 ORDER BY attempt",
      params);
  std::vector<attempt> out;
  for (const auto& r : rows) {
    attempt a;
    a.number = static_cast<int>(r.integer(0));
    a.at = at(r.integer(1));
    a.duration = std::chrono::microseconds(r.integer(2));
    if (auto code = r.optional_integer(3)) a.status_code = static_cast<int>(*code);
    a.error = r.optional_text(4);
    const auto outcome = r.text(5);
    a.outcome = outcome == "delivered" ? attempt_outcome::delivered
                : outcome == "retry"   ? attempt_outcome::retry
                                       : attempt_outcome::failed;
    out.push_back(std::move(a));
  }
  return out;
}

std::optional<delivery> webhook_store::redeliver(std::string_view subscription_id,
                                                 std::string_view delivery_id,
                                                 const std::string& new_id, timestamp now) {
  const auto original = find_delivery(subscription_id, delivery_id);
  if (!original) return std::nullopt;
  auto db = db_.acquire();
  const value params[] = {new_id,
                          original->subscription_id,
                          original->event_id,
                          original->event_position,
                          original->event_type,
                          std::string("redelivery"),
                          original->id,
                          micros(now)};
  db->execute(kInsertDelivery, params);
  return find_delivery(subscription_id, new_id);
}

}  // namespace realmkit::infra::webhooks
