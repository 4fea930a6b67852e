// Connections for the PostgreSQL store: opening one (search_path, timeouts), a small reader pool,
// the translation of libpqxx failures into store errors, and array literals for bulk statements.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "infra/postgres/postgres_event_store.hpp"

namespace realmkit::infra::postgres_detail {

// True for names PostgreSQL treats literally inside double quotes and that leave room for the
// NOTIFY channel prefix: [a-z_][a-z0-9_]{0,46}.
bool is_valid_schema_name(std::string_view schema);
std::string quoted_identifier(std::string_view name);
// The channel this schema's appends NOTIFY with the new head position as payload.
std::string notify_channel(std::string_view schema);
// The URL with any password replaced by "***", fit for error messages and logs.
std::string redacted_url(std::string_view url);

// Opens a connection with the schema on the search_path. `purpose` becomes the
// application_name suffix, visible in pg_stat_activity. Throws store_unavailable with libpq's
// reason when the server cannot be reached.
std::unique_ptr<pqxx::connection> open_connection(const postgres_store_options& options,
                                                  std::string_view purpose);

// Call inside a catch block: rethrows store errors as they are and every libpqxx or other
// failure as store_unavailable naming the operation.
[[noreturn]] void rethrow_as_store_error(std::string_view operation);
// True when the failure in flight left the connection unusable (so it must be discarded).
bool connection_lost(const pqxx::connection& connection);
// Before reusing an idle connection (one that LISTENs to nothing): false when the server has
// closed it meanwhile, which it announces on the socket. Finding out here rather than in a query
// fails no operation, and avoids libpqxx 6.4's error path for a query on a dead connection,
// which leaks the query's result.
bool still_connected(pqxx::connection& connection);

// Reader connections, opened on demand up to a maximum and reused; a lease returns its
// connection when destroyed unless discarded because the connection broke.
class connection_pool {
 public:
  using opener = std::function<std::unique_ptr<pqxx::connection>()>;
  connection_pool(opener open, std::size_t size);

  class lease {
   public:
    lease(connection_pool& pool, std::unique_ptr<pqxx::connection> connection)
        : pool_(&pool), connection_(std::move(connection)) {}
    lease(lease&&) = default;
    lease& operator=(lease&&) = delete;
    ~lease();
    pqxx::connection& connection() { return *connection_; }

   private:
    connection_pool* pool_;
    std::unique_ptr<pqxx::connection> connection_;
  };

  lease acquire();

 private:
  void release(std::unique_ptr<pqxx::connection> connection);

  opener open_;
  const std::size_t size_;
  std::mutex mutex_;  // guards idle_ and open_count_
  std::condition_variable released_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_count_ = 0;  // idle plus leased (plus being opened)
};

// Array literals ('{...}') for parameters cast to text[] / bigint[] / integer[], so a whole batch
// goes to the server as a handful of parameters of one statement.
class text_array_builder {
 public:
  void reserve(std::size_t bytes) { text_.reserve(bytes); }
  void add(std::string_view value);
  std::string finish();

 private:
  std::string text_ = "{";
  bool empty_ = true;
};
std::string int_array(std::span<const std::int64_t> values);

}  // namespace realmkit::infra::postgres_detail
