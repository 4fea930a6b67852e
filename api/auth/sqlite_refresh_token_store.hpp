// Refresh tokens in the embedded SQLite database (usually the event store's file), table
// refresh_tokens of migrations/sqlite/0002_auth.sql.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>

#include "api/auth/refresh_token_store.hpp"

namespace realmkit::infra::sqlite {
class connection;
}

namespace realmkit::api::auth {

struct sqlite_refresh_token_store_options {
  std::filesystem::path path = "data/realmkit.db";  // parent directories are created
  // Apply pending migrations when opening (safe alongside the event store doing the same).
  bool migrate_on_open = true;
  std::chrono::milliseconds busy_timeout{10'000};
};

// One connection, used by one caller at a time: token operations are rare next to requests (a
// login, a refresh every few minutes per user). Writes take the write lock up front
// (BEGIN IMMEDIATE), so a rotation's read and write see no other writer in between, across
// processes too. SQLite failures surface as infra::store_unavailable (busy, I/O) or
// infra::store_error.
class sqlite_refresh_token_store final : public refresh_token_store {
 public:
  explicit sqlite_refresh_token_store(sqlite_refresh_token_store_options options);
  ~sqlite_refresh_token_store() override;

  void insert(const refresh_token_record& record) override;
  rotate_result rotate(std::string_view token_hash, std::string_view successor_hash,
                       timestamp successor_expires_at, timestamp now) override;
  std::optional<refresh_token_record> find(std::string_view token_hash) override;
  std::size_t revoke_family(std::string_view family_id, revoke_reason reason,
                            timestamp now) override;
  std::size_t revoke_user(std::string_view user_id, timestamp now) override;
  std::size_t purge_expired(timestamp cutoff) override;

 private:
  std::mutex mutex_;  // guards db_: a SQLite connection serves one thread at a time
  std::unique_ptr<infra::sqlite::connection> db_;
};

}  // namespace realmkit::api::auth
