#include "api/auth/postgres_refresh_token_store.hpp"

#include <pqxx/pqxx>
#include <stdexcept>
#include <string>

#include "infra/postgres/postgres_connection.hpp"

namespace realmkit::api::auth {
namespace {

namespace pg = infra::postgres_detail;

// Times travel as bigint microseconds since the epoch and are stored as timestamptz. Both ways
// are exact: extract() returns numeric, and interval arithmetic is exact below 2^53 µs (the year
// 2255).
constexpr const char* kSelect =
    "SELECT token_hash, family_id, user_id,"
    " (extract(epoch FROM issued_at) * 1000000)::bigint,"
    " (extract(epoch FROM expires_at) * 1000000)::bigint,"
    " (extract(epoch FROM family_expires_at) * 1000000)::bigint,"
    " (extract(epoch FROM revoked_at) * 1000000)::bigint,"
    " revoked_reason, replaced_by"
    " FROM refresh_tokens WHERE token_hash = $1";
constexpr const char* kSelectForUpdate =
    "SELECT token_hash, family_id, user_id,"
    " (extract(epoch FROM issued_at) * 1000000)::bigint,"
    " (extract(epoch FROM expires_at) * 1000000)::bigint,"
    " (extract(epoch FROM family_expires_at) * 1000000)::bigint,"
    " (extract(epoch FROM revoked_at) * 1000000)::bigint,"
    " revoked_reason, replaced_by"
    " FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE";
constexpr const char* kInsert =
    "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at,"
    " family_expires_at) VALUES ($1, $2, $3,"
    " 'epoch'::timestamptz + $4::bigint * interval '1 microsecond',"
    " 'epoch'::timestamptz + $5::bigint * interval '1 microsecond',"
    " 'epoch'::timestamptz + $6::bigint * interval '1 microsecond')";
constexpr const char* kMarkRotated =
    "UPDATE refresh_tokens"
    " SET revoked_at = 'epoch'::timestamptz + $2::bigint * interval '1 microsecond',"
    " revoked_reason = 'rotated', replaced_by = $3"
    " WHERE token_hash = $1";
constexpr const char* kRevokeFamily =
    "UPDATE refresh_tokens"
    " SET revoked_at = 'epoch'::timestamptz + $2::bigint * interval '1 microsecond',"
    " revoked_reason = $3"
    " WHERE family_id = $1 AND revoked_at IS NULL";
constexpr const char* kRevokeUser =
    "UPDATE refresh_tokens"
    " SET revoked_at = 'epoch'::timestamptz + $2::bigint * interval '1 microsecond',"
    " revoked_reason = 'user'"
    " WHERE user_id = $1 AND revoked_at IS NULL";
constexpr const char* kPurge =
    "DELETE FROM refresh_tokens"
    " WHERE family_expires_at < 'epoch'::timestamptz + $1::bigint * interval '1 microsecond'";

std::int64_t micros(timestamp t) {
  return t.time_since_epoch().count();
}
timestamp from_micros(std::int64_t us) {
  return timestamp{std::chrono::microseconds{us}};
}

refresh_token_record read_row(const pqxx::row& row) {
  refresh_token_record r;
  r.token_hash = row[0].as<std::string>();
  r.family_id = row[1].as<std::string>();
  r.user_id = row[2].as<std::string>();
  r.issued_at = from_micros(row[3].as<std::int64_t>());
  r.expires_at = from_micros(row[4].as<std::int64_t>());
  r.family_expires_at = from_micros(row[5].as<std::int64_t>());
  if (!row[6].is_null()) r.revoked_at = from_micros(row[6].as<std::int64_t>());
  if (!row[7].is_null()) {
    r.revoked_reason = revoke_reason_from_string(row[7].as<std::string>());
    if (!r.revoked_reason) {
      throw infra::store_error("refresh_tokens row has an unknown revoked_reason");
    }
  }
  if (!row[8].is_null()) r.replaced_by = row[8].as<std::string>();
  return r;
}

void insert_row(pqxx::work& tx, const refresh_token_record& r) {
  tx.exec_params(kInsert, r.token_hash, r.family_id, r.user_id, micros(r.issued_at),
                 micros(r.expires_at), micros(r.family_expires_at));
}

std::size_t revoke_family_rows(pqxx::work& tx, std::string_view family, revoke_reason reason,
                               timestamp now) {
  const auto result = tx.exec_params(kRevokeFamily, std::string(family), micros(now),
                                     std::string(to_string(reason)));
  return static_cast<std::size_t>(result.affected_rows());
}

}  // namespace

class postgres_refresh_token_store::impl {
 public:
  explicit impl(infra::postgres_store_options options)
      : options_(std::move(options)),
        pool_([this] { return pg::open_connection(options_, "auth"); },
              options_.reader_connections) {
    if (!pg::is_valid_schema_name(options_.schema)) {
      throw std::invalid_argument("invalid PostgreSQL schema name: " + options_.schema);
    }
    infra::migrate_postgres(options_);
  }

  ~impl() {
    if (!options_.drop_schema_on_close) return;
    try {
      auto lease = pool_.acquire();
      pqxx::nontransaction tx(lease.connection());
      tx.exec("DROP SCHEMA IF EXISTS " + pg::quoted_identifier(options_.schema) + " CASCADE");
    } catch (const std::exception&) {
      // Test cleanup only: a leftover schema is harmless (names are random).
    }
  }

  // Runs `body` in a transaction on a pooled connection and commits it. A duplicate token hash
  // becomes std::invalid_argument like in the other stores; every other failure a store error.
  template <class F>
  auto in_transaction(std::string_view operation, F&& body) {
    try {
      auto lease = pool_.acquire();
      pqxx::work tx(lease.connection(), "refresh_tokens");
      auto result = body(tx);
      tx.commit();
      return result;
    } catch (const pqxx::unique_violation&) {
      throw std::invalid_argument("refresh token hash already stored");
    } catch (const pqxx::check_violation& e) {
      throw std::invalid_argument(std::string("refresh token refused: ") + e.what());
    } catch (const std::invalid_argument&) {
      throw;
    } catch (...) {
      pg::rethrow_as_store_error("refresh tokens: " + std::string(operation));
    }
  }

 private:
  infra::postgres_store_options options_;
  pg::connection_pool pool_;
};

postgres_refresh_token_store::postgres_refresh_token_store(infra::postgres_store_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

postgres_refresh_token_store::~postgres_refresh_token_store() = default;

void postgres_refresh_token_store::insert(const refresh_token_record& record) {
  impl_->in_transaction("insert", [&](pqxx::work& tx) {
    insert_row(tx, record);
    return 0;
  });
}

rotate_result postgres_refresh_token_store::rotate(std::string_view token_hash,
                                                   std::string_view successor_hash,
                                                   timestamp successor_expires_at, timestamp now) {
  return impl_->in_transaction("rotate", [&](pqxx::work& tx) {
    const auto rows = tx.exec_params(kSelectForUpdate, std::string(token_hash));
    if (rows.empty()) return rotate_result{rotate_status::not_found, std::nullopt};
    const refresh_token_record current = read_row(rows[0]);
    const rotate_status status = classify(current, now);
    if (status == rotate_status::reused) {
      revoke_family_rows(tx, current.family_id, revoke_reason::reuse, now);
      return rotate_result{status, current};
    }
    if (status != rotate_status::rotated) return rotate_result{status, current};
    refresh_token_record next{std::string(successor_hash),
                              current.family_id,
                              current.user_id,
                              now,
                              successor_expiry(current, successor_expires_at),
                              current.family_expires_at,
                              std::nullopt,
                              std::nullopt,
                              std::nullopt};
    tx.exec_params(kMarkRotated, std::string(token_hash), micros(now), next.token_hash);
    insert_row(tx, next);
    return rotate_result{rotate_status::rotated, next};
  });
}

std::optional<refresh_token_record> postgres_refresh_token_store::find(
    std::string_view token_hash) {
  return impl_->in_transaction("find", [&](pqxx::work& tx) {
    const auto rows = tx.exec_params(kSelect, std::string(token_hash));
    return rows.empty() ? std::nullopt : std::optional(read_row(rows[0]));
  });
}

std::size_t postgres_refresh_token_store::revoke_family(std::string_view family_id,
                                                        revoke_reason reason, timestamp now) {
  return impl_->in_transaction("revoke family", [&](pqxx::work& tx) {
    return revoke_family_rows(tx, family_id, reason, now);
  });
}

std::size_t postgres_refresh_token_store::revoke_user(std::string_view user_id, timestamp now) {
  return impl_->in_transaction("revoke user", [&](pqxx::work& tx) {
    const auto result = tx.exec_params(kRevokeUser, std::string(user_id), micros(now));
    return static_cast<std::size_t>(result.affected_rows());
  });
}

std::size_t postgres_refresh_token_store::purge_expired(timestamp cutoff) {
  return impl_->in_transaction("purge", [&](pqxx::work& tx) {
    const auto result = tx.exec_params(kPurge, micros(cutoff));
    return static_cast<std::size_t>(result.affected_rows());
  });
}

}  // namespace realmkit::api::auth
