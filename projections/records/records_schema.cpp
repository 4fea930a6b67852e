#include "projections/records/records_schema.hpp"

#include <stdexcept>

namespace realmkit::projections::records {
namespace {

using enum column_type;

std::vector<column> with_common(std::vector<column> extra) {
  std::vector<column> out{{"id", key},
                          {"version", integer},
                          {"position", integer},
                          {"created_at", integer},
                          {"updated_at", integer},
                          {"name_key", key}};
  out.insert(out.end(), extra.begin(), extra.end());
  out.push_back({"doc", json});
  return out;
}

// Every list can sort on creation, update and name, and pages through (key, id).
std::vector<std::vector<std::string_view>> with_sorts(
    std::vector<std::vector<std::string_view>> extra) {
  std::vector<std::vector<std::string_view>> out{
      {"created_at", "id"}, {"updated_at", "id"}, {"name_key", "id"}};
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::vector<record_relation> make_relations() {
  std::vector<record_relation> out;
  out.push_back({kUsers,
                 with_common({{"email", key},
                              {"role", text},
                              {"team", key, true},
                              {"active", boolean},
                              {"status", text}}),
                 with_sorts({{"team", "created_at", "id"}, {"status", "created_at", "id"}})});
  out.push_back(
      {kTeams, with_common({{"archived", boolean}, {"manager", key, true}}), with_sorts({})});
  out.push_back({kCompanies, with_common({{"owner", key}, {"archived", boolean}, {"domain", text}}),
                 with_sorts({{"owner", "created_at", "id"}})});
  out.push_back({kContacts,
                 with_common({{"owner", key},
                              {"archived", boolean},
                              {"merged_into", key, true},
                              {"company", key, true}}),
                 with_sorts({{"owner", "created_at", "id"}})});
  out.push_back(
      {kLeads,
       with_common({{"owner", key}, {"status", text}, {"source", text}, {"score", integer, true}}),
       with_sorts({{"owner", "created_at", "id"}, {"status", "created_at", "id"}})});
  out.push_back({kPipelines, with_common({{"archived", boolean}}), with_sorts({})});
  out.push_back({kDeals,
                 with_common({{"owner", key},
                              {"status", text},
                              {"archived", boolean},
                              {"pipeline", key},
                              {"stage", key},
                              {"amount_minor", integer},
                              {"currency", text},
                              {"expected_close_date", day, true},
                              {"closed_at", integer, true},
                              {"company", key, true}}),
                 with_sorts({{"owner", "created_at", "id"},
                             {"status", "created_at", "id"},
                             {"pipeline", "created_at", "id"},
                             {"stage", "created_at", "id"}})});
  out.push_back({kActivities,
                 with_common({{"owner", key},
                              {"type", text},
                              {"subject_kind", text},
                              {"subject_id", key},
                              {"occurred_at", integer},
                              {"deleted", boolean}}),
                 with_sorts({{"owner", "created_at", "id"},
                             {"subject_id", "subject_kind", "created_at", "id"}})});
  out.push_back({kTasks,
                 with_common({{"owner", key},
                              {"status", text},
                              {"subject_kind", text, true},
                              {"subject_id", key, true},
                              {"due_at", integer, true},
                              {"priority", text},
                              {"deleted", boolean}}),
                 with_sorts({{"owner", "created_at", "id"},
                             {"status", "created_at", "id"},
                             {"subject_id", "subject_kind", "created_at", "id"}})});
  return out;
}

void create_table(infra::sql::session& db, const std::string& table,
                  const std::vector<column>& columns, std::string_view primary_key) {
  const auto dialect = db.dialect();
  std::string sql = "CREATE TABLE " + infra::sql::identifier(table) + " (";
  for (const auto& c : columns) {
    sql += infra::sql::identifier(c.name);
    sql += ' ';
    sql += sql_type(dialect, c.type);
    if (c.name == primary_key) {
      sql += " PRIMARY KEY";
    } else if (!c.nullable) {
      sql += " NOT NULL";
    }
    sql += ", ";
  }
  sql.resize(sql.size() - 2);
  sql += ')';
  db.exec_script(sql);
}

void create_index(infra::sql::session& db, const std::string& table,
                  const std::vector<std::string_view>& columns) {
  // Index names share one namespace per schema on PostgreSQL: the table's name keeps them apart,
  // and the first column keeps a table's indexes apart (no two of them start alike).
  const std::string name = table + "_by_" + std::string(columns.front());
  std::string list;
  for (const auto& c : columns) {
    if (!list.empty()) list += ", ";
    list += infra::sql::identifier(c);
  }
  db.exec_script("CREATE INDEX " + infra::sql::identifier(name) + " ON " +
                 infra::sql::identifier(table) + " (" + list + ")");
}

}  // namespace

bool record_relation::has(std::string_view column_name) const {
  for (const auto& c : columns) {
    if (c.name == column_name) return true;
  }
  return false;
}

const std::vector<record_relation>& record_relations() {
  static const std::vector<record_relation> relations = make_relations();
  return relations;
}

const record_relation& relation_named(std::string_view name) {
  for (const auto& r : record_relations()) {
    if (r.name == name) return r;
  }
  if (name == kCredentials) return credentials_relation();
  throw std::invalid_argument("records: no relation is named " + std::string(name));
}

const record_relation& credentials_relation() {
  static const record_relation credentials{
      kCredentials,
      {{"user_id", key}, {"email", key}, {"email_position", integer}, {"password_hash", text}},
      {{"email"}}};
  return credentials;
}

std::string_view sql_type(infra::sql::dialect dialect, column_type type) {
  const bool pg = dialect == infra::sql::dialect::postgres;
  switch (type) {
    case key:
      return pg ? "text COLLATE \"C\"" : "TEXT";
    case text:
      return pg ? "text" : "TEXT";
    case integer:
      return pg ? "bigint" : "INTEGER";
    case boolean:
      return pg ? "boolean" : "INTEGER";
    case day:
      return pg ? "date" : "TEXT";
    case json:
      return pg ? "jsonb" : "TEXT";
  }
  return {};
}

void create_relations(infra::sql::session& db, const relation_names& names) {
  auto create = [&](const record_relation& r, std::string_view primary_key) {
    const auto table = names(r.name);
    create_table(db, table, r.columns, primary_key);
    for (const auto& index : r.indexes) create_index(db, table, index);
  };
  for (const auto& r : record_relations()) create(r, "id");
  create(credentials_relation(), "user_id");
}

}  // namespace realmkit::projections::records
