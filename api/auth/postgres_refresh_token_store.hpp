// Refresh tokens in PostgreSQL (distributed mode), table refresh_tokens of
// migrations/postgres/0002_auth.sql in the store's schema, shared by every API process.
#pragma once

#include <memory>

#include "api/auth/refresh_token_store.hpp"
#include "infra/postgres/postgres_event_store.hpp"

namespace realmkit::api::auth {

// Each operation is one short transaction on a pooled connection. A rotation locks the
// presented token's row (SELECT ... FOR UPDATE), so of two processes presenting the same token at
// once one rotates it and the other, seeing it rotated, revokes the family: a token is never
// exchanged twice. Server failures surface as infra::store_unavailable.
class postgres_refresh_token_store final : public refresh_token_store {
 public:
  // Connects and applies pending migrations to options.schema (like the event store; safe when
  // both do it). Uses options.url, schema, connect_timeout and reader_connections (the pool size).
  explicit postgres_refresh_token_store(infra::postgres_store_options options);
  ~postgres_refresh_token_store() override;

  void insert(const refresh_token_record& record) override;
  rotate_result rotate(std::string_view token_hash, std::string_view successor_hash,
                       timestamp successor_expires_at, timestamp now) override;
  std::optional<refresh_token_record> find(std::string_view token_hash) override;
  std::size_t revoke_family(std::string_view family_id, revoke_reason reason,
                            timestamp now) override;
  std::size_t revoke_user(std::string_view user_id, timestamp now) override;
  std::size_t purge_expired(timestamp cutoff) override;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace realmkit::api::auth
