// Writes rows of a records relation, inserting new ones and replacing existing ones by key, in
// bulk. On SQLite, prepared statements run per row (in-process, so that is the fast path), and a
// row known to exist is updated in the columns that changed only among those that are indexed,
// so that an event touches the indexes it changes (a deal's stage, every record's updated_at),
// not all of them. On PostgreSQL, which writes every index entry again on any update of an
// indexed column anyway, a few upserts each carry thousands of rows as one JSON parameter
// (json_to_recordset), so the server parses and plans once per chunk instead of once per row.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "infra/sql/sql_database.hpp"
#include "projections/records/records_schema.hpp"

namespace realmkit::projections::records {

class row_upsert {
 public:
  // `table`: the physical name of the relation's generation, unquoted.
  row_upsert(const record_relation& relation, const std::string& table,
             std::string_view primary_key);

  // A row to write: the relation's columns in order (booleans as 0/1, days as YYYY-MM-DD, JSON
  // columns as JSON text), and what the relation holds for its key: nothing (a new row), the
  // values last written (same layout; only the indexed columns are compared), or unknown.
  struct change {
    const std::vector<infra::sql::value>* row = nullptr;
    enum class before { none, known, unknown } was = before::none;
    const std::vector<infra::sql::value>* written = nullptr;  // with was == known
  };

  void write(infra::sql::session& db, std::span<const change> changes);

 private:
  void write_json(infra::sql::session& db, std::span<const change> changes) const;
  // The UPDATE for rows whose indexed columns in `changed` (a bit per column) differ.
  const std::string& update_sql(std::uint64_t changed);

  const record_relation& relation_;
  std::string table_;
  std::size_t key_ = 0;        // the primary key's column
  std::uint64_t indexed_ = 0;  // columns in a secondary index that an update may change
  std::string upsert_;         // one row: $1..$N
  std::string bulk_upsert_;    // PostgreSQL: rows as a JSON array in $1
  std::map<std::uint64_t, std::string> updates_;  // SQLite, by changed indexed columns
};

}  // namespace realmkit::projections::records
