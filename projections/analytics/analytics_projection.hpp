// The analytics projection: fact tables of deals, stage stays, leads and activities, and the
// analytics over them (analytics_schema.hpp), for the /api/analytics routes and for analysts'
// own SQL (docs/analysts.md).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace realmkit::projections::analytics {

class analytics_projection final : public projection {
 public:
  std::string_view name() const override;
  int version() const override;
  std::vector<std::string> relations() const override;
  void create(infra::sql::session& db, const relation_names& names) const override;
  void drop(infra::sql::session& db, const relation_names& names) const override;
  bool handles(std::string_view event_type) const override;
  std::unique_ptr<projection_writer> open(const relation_names& names) const override;
};

std::shared_ptr<const projection> make_analytics_projection();

}  // namespace realmkit::projections::analytics
