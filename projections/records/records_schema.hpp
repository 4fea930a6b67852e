// The relations of the "records" read model, described once for the writer that fills them, the
// queries that read them (api/crm/sql_directory) and analysts (docs/analysts.md):
//
//   rm_users, rm_teams, rm_companies, rm_contacts, rm_leads, rm_pipelines, rm_deals,
//   rm_activities, rm_tasks — one row per record that exists:
//     id (the aggregate id), version (of its stream), position (global position of the last
//     event applied), created_at / updated_at (microseconds since the epoch, when its first and
//     last events were recorded), name_key (the folded name lists sort on), the columns lists
//     filter on and analysts group by (below), and doc (the record's whole state as JSON, the
//     shape of the aggregate state's describe(); rm_users.doc has no password hash).
//   rm_user_credentials (user_id, email, email_position, password_hash) — kept apart so that the
//     analysts' read-only role can be refused it.
//
// Ids, names and keys compare byte by byte on both backends (COLLATE "C" on PostgreSQL), as the
// keyset cursors of crm_queries need; booleans are 0/1 on SQLite and boolean on PostgreSQL.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "infra/sql/sql_database.hpp"
#include "projections/projection.hpp"

namespace realmkit::projections::records {

inline constexpr std::string_view kProjectionName = "records";

inline constexpr std::string_view kUsers = "rm_users";
inline constexpr std::string_view kTeams = "rm_teams";
inline constexpr std::string_view kCompanies = "rm_companies";
inline constexpr std::string_view kContacts = "rm_contacts";
inline constexpr std::string_view kLeads = "rm_leads";
inline constexpr std::string_view kPipelines = "rm_pipelines";
inline constexpr std::string_view kDeals = "rm_deals";
inline constexpr std::string_view kActivities = "rm_activities";
inline constexpr std::string_view kTasks = "rm_tasks";
inline constexpr std::string_view kCredentials = "rm_user_credentials";

enum class column_type {
  key,      // text compared byte by byte: ids, name keys, e-mail addresses
  text,     // free text and enum names
  integer,  // 64-bit; instants are microseconds since the epoch
  boolean,
  day,   // a calendar date, YYYY-MM-DD
  json,  // the record's state (jsonb on PostgreSQL)
};

struct column {
  std::string_view name;
  column_type type;
  bool nullable = false;
};

// One record relation: its columns in table order (the common ones first, doc last) and the
// column lists of its secondary indexes.
struct record_relation {
  std::string_view name;
  std::vector<column> columns;
  std::vector<std::vector<std::string_view>> indexes;

  bool has(std::string_view column_name) const;
};

// The nine record relations, in the order above, and the credentials relation.
const std::vector<record_relation>& record_relations();
const record_relation& relation_named(std::string_view name);
const record_relation& credentials_relation();

// The SQL type of a column on a backend.
std::string_view sql_type(infra::sql::dialect dialect, column_type type);

// Creates one generation of every relation with its indexes.
void create_relations(infra::sql::session& db, const relation_names& names);

}  // namespace realmkit::projections::records
