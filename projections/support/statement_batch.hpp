// What the read models of projections/{board,search,timeline,inbox} share: a buffer of ordered
// write statements, bulk key sets as one parameter, and small text helpers (cursors, JSON).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infra/event_store.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::projections::support {

// Write statements buffered by a writer's apply and run by its flush, in the order added. On
// PostgreSQL each distinct statement is prepared once per run and executed with literal
// arguments, everything in scripts of about a megabyte, so a batch of interleaved events of
// different kinds costs a few round trips and one plan per statement, not a round trip per
// event. On SQLite consecutive uses of a statement step one prepared statement. Statements that
// read the relations they write (INSERT ... SELECT, UPDATE ... WHERE) see every earlier one.
class statement_batch {
 public:
  void add(std::string_view sql, std::vector<infra::sql::value> params);
  // Runs everything in order inside the caller's transaction, then forgets it.
  void run(infra::sql::session& db);
  void clear() noexcept { runs_.clear(); }
  bool empty() const { return runs_.empty(); }

 private:
  struct run_of {
    std::string sql;
    std::vector<std::vector<infra::sql::value>> rows;
  };
  std::vector<run_of> runs_;
};

// A JSON array of strings, for a set of keys sent as one parameter (see key_set).
std::string json_array(const std::vector<std::string>& items);
// The subquery that expands parameter $n, a json_array text, into a one-column set of texts:
// `column IN (<key_set>)` on either backend.
std::string key_set(infra::sql::dialect dialect, int parameter);

// Writes `text` as a JSON string literal (quotes included) onto `out`.
void append_json_string(std::string& out, std::string_view text);

// Opaque cursors: fields joined by '\n' (none may contain one), base64url without padding, behind
// a version tag ("<tag>.<payload>"). decode gives nullopt for anything encode did not write with
// that tag and field count.
std::string encode_cursor(std::string_view tag, const std::vector<std::string>& fields);
std::optional<std::vector<std::string>> decode_cursor(std::string_view tag, std::string_view text,
                                                      std::size_t fields);

// A decimal integer, all of the text; nullopt otherwise.
std::optional<std::int64_t> parse_int(std::string_view text);

// The current live checkpoint of a projection as the catalog has it (0 when it has no live
// generation yet): a lower bound of what a read that follows sees.
std::int64_t live_position(infra::sql::session& db, std::string_view projection);

// Microseconds since the epoch of an event's time.
inline std::int64_t micros(infra::timestamp t) {
  return t.time_since_epoch().count();
}

}  // namespace realmkit::projections::support
