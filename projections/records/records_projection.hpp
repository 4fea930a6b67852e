// The "records" read model: every CRM record (users, teams, companies, contacts, leads,
// pipelines, deals, activities, tasks) as one row with its state, and the columns that lists
// filter and sort on (projections/records/records_schema.hpp). api/crm/sql_directory answers the
// CRM routes' reads from it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"
#include "projections/records/records_schema.hpp"
#include "projections/records/records_writer.hpp"

namespace realmkit::projections::records {

class records_projection final : public projection {
 public:
  explicit records_projection(records_options options = {}) : options_(options) {}

  std::string_view name() const override { return kProjectionName; }
  // 2: contact and lead states record erasure (and a contact its merged duplicates).
  int version() const override { return 2; }
  std::vector<std::string> relations() const override;
  // The credentials: password hashes are for logging in, never for analysts.
  std::vector<std::string> private_relations() const override;
  void create(infra::sql::session& db, const relation_names& names) const override;
  bool handles(std::string_view event_type) const override;
  std::unique_ptr<projection_writer> open(const relation_names& names) const override;

 private:
  records_options options_;
};

}  // namespace realmkit::projections::records
