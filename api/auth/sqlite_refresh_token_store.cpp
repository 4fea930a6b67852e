#include "api/auth/sqlite_refresh_token_store.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <system_error>

#include "infra/event_store.hpp"
#include "infra/migrations.hpp"
#include "infra/sqlite/sqlite_connection.hpp"
#include "infra/sqlite/sqlite_migrations.hpp"

namespace realmkit::api::auth {
namespace {

using infra::sqlite::column_type;
using infra::sqlite::connection;
using infra::sqlite::query;
using infra::sqlite::transaction;

constexpr std::string_view kInsert =
    "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at,"
    " family_expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr std::string_view kSelect =
    "SELECT token_hash, family_id, user_id, issued_at, expires_at, family_expires_at,"
    " revoked_at, revoked_reason, replaced_by FROM refresh_tokens WHERE token_hash = ?1";
constexpr std::string_view kMarkRotated =
    "UPDATE refresh_tokens SET revoked_at = ?2, revoked_reason = 'rotated', replaced_by = ?3"
    " WHERE token_hash = ?1";
constexpr std::string_view kRevokeFamily =
    "UPDATE refresh_tokens SET revoked_at = ?2, revoked_reason = ?3"
    " WHERE family_id = ?1 AND revoked_at IS NULL";
constexpr std::string_view kRevokeUser =
    "UPDATE refresh_tokens SET revoked_at = ?2, revoked_reason = 'user'"
    " WHERE user_id = ?1 AND revoked_at IS NULL";
constexpr std::string_view kPurge = "DELETE FROM refresh_tokens WHERE family_expires_at < ?1";

std::int64_t micros(timestamp t) {
  return t.time_since_epoch().count();
}
timestamp from_micros(std::int64_t us) {
  return timestamp{std::chrono::microseconds{us}};
}

refresh_token_record read_row(const query& q) {
  refresh_token_record r;
  r.token_hash = q.text(0);
  r.family_id = q.text(1);
  r.user_id = q.text(2);
  r.issued_at = from_micros(q.integer(3));
  r.expires_at = from_micros(q.integer(4));
  r.family_expires_at = from_micros(q.integer(5));
  if (q.type(6) != column_type::null) r.revoked_at = from_micros(q.integer(6));
  if (q.type(7) != column_type::null) {
    r.revoked_reason = revoke_reason_from_string(q.text(7));
    if (!r.revoked_reason) {
      throw infra::store_error("refresh_tokens row has an unknown revoked_reason");
    }
  }
  if (q.type(8) != column_type::null) r.replaced_by = std::string(q.text(8));
  return r;
}

std::optional<refresh_token_record> select(connection& db, std::string_view hash) {
  auto q = db.prepare(kSelect);
  q.bind(1, hash);
  if (!q.step()) return std::nullopt;
  return read_row(q);
}

void insert_row(connection& db, const refresh_token_record& r) {
  db.prepare(kInsert)
      .bind(1, r.token_hash)
      .bind(2, r.family_id)
      .bind(3, r.user_id)
      .bind(4, micros(r.issued_at))
      .bind(5, micros(r.expires_at))
      .bind(6, micros(r.family_expires_at))
      .run();
}

std::size_t revoke_family_rows(connection& db, std::string_view family, revoke_reason reason,
                               timestamp now) {
  db.prepare(kRevokeFamily).bind(1, family).bind(2, micros(now)).bind(3, to_string(reason)).run();
  return static_cast<std::size_t>(db.changes());
}

// Runs `body`, translating SQLite failures into the store errors the API maps to 503/500, and
// a duplicate token hash into std::invalid_argument like the other stores.
template <class F>
auto translated(std::string_view operation, F&& body) {
  try {
    return body();
  } catch (const infra::sqlite::error& e) {
    if (e.extended_code() == SQLITE_CONSTRAINT_PRIMARYKEY) {
      throw std::invalid_argument("refresh token hash already stored");
    }
    if (e.constraint_violation()) throw std::invalid_argument(e.what());
    if (e.transient()) {
      throw infra::store_unavailable("refresh tokens: " + std::string(operation) + ": " + e.what());
    }
    throw infra::store_error("refresh tokens: " + std::string(operation) + ": " + e.what());
  }
}

}  // namespace

sqlite_refresh_token_store::sqlite_refresh_token_store(sqlite_refresh_token_store_options options) {
  if (options.path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(options.path.parent_path(), ec);
    if (ec) {
      throw infra::store_unavailable("cannot create " + options.path.parent_path().string() + ": " +
                                     ec.message());
    }
  }
  translated("open", [&] {
    db_ = std::make_unique<connection>(options.path, connection::mode::read_write_create);
    db_->exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout.count()));
    if (db_->pragma_text("PRAGMA journal_mode = WAL") != "wal") {
      throw infra::store_error("cannot put " + options.path.string() + " in WAL mode");
    }
    // A logout or a revocation that a power loss undid would bring a dead session back.
    db_->exec("PRAGMA synchronous = FULL");
    const auto known = infra::migrations_for(infra::backend::sqlite);
    if (options.migrate_on_open) {
      infra::sqlite::apply_migrations(*db_, known);
    } else {
      infra::sqlite::check_schema_known(*db_, known);
      // Without this check a database nobody migrated would fail on the first login instead.
      for (const auto& m : known) {
        if (m.name.ends_with("_auth") && infra::sqlite::applied_schema_version(*db_) < m.version) {
          throw infra::store_error("database " + options.path.string() +
                                   " lacks the refresh_tokens table (migration " +
                                   std::string(m.name) + "): run realmkit migrate");
        }
      }
    }
    return 0;
  });
}

sqlite_refresh_token_store::~sqlite_refresh_token_store() = default;

void sqlite_refresh_token_store::insert(const refresh_token_record& record) {
  std::lock_guard lock(mutex_);
  translated("insert", [&] {
    insert_row(*db_, record);
    return 0;
  });
}

rotate_result sqlite_refresh_token_store::rotate(std::string_view token_hash,
                                                 std::string_view successor_hash,
                                                 timestamp successor_expires_at, timestamp now) {
  std::lock_guard lock(mutex_);
  return translated("rotate", [&] {
    transaction tx(*db_, "BEGIN IMMEDIATE");
    auto current = select(*db_, token_hash);
    if (!current) return rotate_result{rotate_status::not_found, std::nullopt};
    const rotate_status status = classify(*current, now);
    if (status == rotate_status::reused) {
      revoke_family_rows(*db_, current->family_id, revoke_reason::reuse, now);
      tx.commit();
      return rotate_result{status, current};
    }
    if (status != rotate_status::rotated) return rotate_result{status, current};
    refresh_token_record next{std::string(successor_hash),
                              current->family_id,
                              current->user_id,
                              now,
                              successor_expiry(*current, successor_expires_at),
                              current->family_expires_at,
                              std::nullopt,
                              std::nullopt,
                              std::nullopt};
    db_->prepare(kMarkRotated)
        .bind(1, token_hash)
        .bind(2, micros(now))
        .bind(3, successor_hash)
        .run();
    insert_row(*db_, next);
    tx.commit();
    return rotate_result{rotate_status::rotated, next};
  });
}

std::optional<refresh_token_record> sqlite_refresh_token_store::find(std::string_view token_hash) {
  std::lock_guard lock(mutex_);
  return translated("find", [&] { return select(*db_, token_hash); });
}

std::size_t sqlite_refresh_token_store::revoke_family(std::string_view family_id,
                                                      revoke_reason reason, timestamp now) {
  std::lock_guard lock(mutex_);
  return translated("revoke family",
                    [&] { return revoke_family_rows(*db_, family_id, reason, now); });
}

std::size_t sqlite_refresh_token_store::revoke_user(std::string_view user_id, timestamp now) {
  std::lock_guard lock(mutex_);
  return translated("revoke user", [&] {
    db_->prepare(kRevokeUser).bind(1, user_id).bind(2, micros(now)).run();
    return static_cast<std::size_t>(db_->changes());
  });
}

std::size_t sqlite_refresh_token_store::purge_expired(timestamp cutoff) {
  std::lock_guard lock(mutex_);
  return translated("purge", [&] {
    db_->prepare(kPurge).bind(1, micros(cutoff)).run();
    return static_cast<std::size_t>(db_->changes());
  });
}

}  // namespace realmkit::api::auth
