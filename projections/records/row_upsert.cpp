#include "projections/records/row_upsert.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::records {
namespace {

namespace sql = infra::sql;
using support::append_json_string;

// Rows per PostgreSQL statement: large enough that per-statement costs vanish, small enough to
// keep the JSON text a few megabytes.
constexpr std::size_t kRowsPerStatement = 2'000;

std::string_view recordset_type(column_type type) {
  switch (type) {
    case column_type::key:
    case column_type::text:
      return "text";
    case column_type::integer:
      return "bigint";
    case column_type::boolean:
      return "boolean";
    case column_type::day:
      return "date";
    case column_type::json:
      return "jsonb";
  }
  return "text";
}

void append_json_value(std::string& out, const sql::value& v, column_type type) {
  if (std::holds_alternative<std::monostate>(v)) {
    out += "null";
  } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
    if (type == column_type::boolean) {
      out += *n ? "true" : "false";
    } else {
      char digits[24];
      out.append(digits, std::to_chars(digits, digits + sizeof digits, *n).ptr);
    }
  } else if (type == column_type::json) {
    out += std::get<std::string>(v);  // already a JSON text: nested as it is
  } else {
    append_json_string(out, std::get<std::string>(v));
  }
}

}  // namespace

row_upsert::row_upsert(const record_relation& relation, const std::string& table,
                       std::string_view primary_key)
    : relation_(relation), table_(table) {
  for (std::size_t i = 0; i < relation.columns.size(); ++i) {
    const auto name = relation.columns[i].name;
    if (name == primary_key) key_ = i;
    // A record's key and creation never change: their indexes are never touched by an update.
    if (name == primary_key || name == "created_at") continue;
    for (const auto& index : relation.indexes) {
      if (std::find(index.begin(), index.end(), name) != index.end()) indexed_ |= 1ull << i;
    }
  }
  std::string columns, params, updates, definitions;
  int n = 0;
  for (const auto& c : relation.columns) {
    const auto name = sql::identifier(c.name);
    if (n) {
      columns += ", ";
      params += ", ";
      definitions += ", ";
    }
    columns += name;
    params += "$" + std::to_string(++n);
    definitions += name + " " + std::string(recordset_type(c.type));
    if (c.name == primary_key) continue;
    if (!updates.empty()) updates += ", ";
    updates += name + " = excluded." + name;
  }
  const std::string target = "INSERT INTO " + sql::identifier(table) + " (" + columns + ") ";
  const std::string conflict =
      " ON CONFLICT (" + sql::identifier(primary_key) + ") DO UPDATE SET " + updates;
  upsert_ = target + "VALUES (" + params + ")" + conflict;
  bulk_upsert_ = target + "SELECT " + columns + " FROM json_to_recordset($1::json) AS x(" +
                 definitions + ")" + conflict;
}

const std::string& row_upsert::update_sql(std::uint64_t changed) {
  auto it = updates_.find(changed);
  if (it != updates_.end()) return it->second;
  std::string sets;
  for (std::size_t i = 0; i < relation_.columns.size(); ++i) {
    const auto& c = relation_.columns[i];
    if (i == key_ || c.name == "created_at") continue;
    if ((indexed_ >> i & 1) && !(changed >> i & 1)) continue;
    if (!sets.empty()) sets += ", ";
    sets += sql::identifier(c.name) + " = $" + std::to_string(i + 1);
  }
  // Every column keeps its $N, so one row's values fit every shape; the highest, doc, is always
  // set, and SQLite accepts values for numbers a statement does not mention.
  return updates_
      .emplace(changed, "UPDATE " + sql::identifier(table_) + " SET " + sets + " WHERE " +
                            sql::identifier(relation_.columns[key_].name) + " = $" +
                            std::to_string(key_ + 1))
      .first->second;
}

void row_upsert::write(sql::session& db, std::span<const change> changes) {
  if (changes.empty()) return;
  if (relation_.columns.size() > 64) throw std::logic_error("records: too many columns");
  if (db.dialect() == sql::dialect::postgres) return write_json(db, changes);
  std::vector<std::vector<sql::value>> inserts;
  std::map<std::uint64_t, std::vector<std::vector<sql::value>>> updates;
  for (const auto& c : changes) {
    if (c.was == change::before::none) {
      inserts.push_back(*c.row);
      continue;
    }
    std::uint64_t changed = indexed_;
    if (c.was == change::before::known) {
      changed = 0;
      for (std::size_t i = 0; i < c.row->size(); ++i) {
        if ((indexed_ >> i & 1) && (*c.row)[i] != (*c.written)[i]) changed |= 1ull << i;
      }
    }
    updates[changed].push_back(*c.row);
  }
  // Upserts, not inserts: a row the writer believed new may exist after all (it never does
  // when the generation's rows all went through this writer, which is what it believes then).
  db.execute_many(upsert_, inserts);
  for (const auto& [changed, rows] : updates) db.execute_many(update_sql(changed), rows);
}

void row_upsert::write_json(sql::session& db, std::span<const change> changes) const {
  for (std::size_t from = 0; from < changes.size(); from += kRowsPerStatement) {
    const auto chunk = changes.subspan(from, std::min(kRowsPerStatement, changes.size() - from));
    std::string json = "[";
    for (const auto& c : chunk) {
      if (json.size() > 1) json += ',';
      json += '{';
      for (std::size_t i = 0; i < relation_.columns.size(); ++i) {
        if (i) json += ',';
        append_json_string(json, relation_.columns[i].name);
        json += ':';
        append_json_value(json, c.row->at(i), relation_.columns[i].type);
      }
      json += '}';
    }
    json += ']';
    const sql::value params[] = {std::move(json)};
    db.execute(bulk_upsert_, params);
  }
}

}  // namespace realmkit::projections::records
