#include "projections/projection.hpp"

#include "infra/sql/sql_database.hpp"

namespace realmkit::projections {

std::string relation_names::operator()(std::string_view relation) const {
  std::string out(relation);
  out += "_g";
  out += std::to_string(generation_);
  return out;
}

void projection::drop(infra::sql::session& db, const relation_names& names) const {
  for (const auto& relation : relations()) {
    db.exec_script("DROP TABLE IF EXISTS " + infra::sql::identifier(names(relation)));
  }
}

std::string projection::view_sql(infra::sql::dialect, std::string_view relation,
                                 const relation_names& names) const {
  return "SELECT * FROM " + infra::sql::identifier(names(relation));
}

}  // namespace realmkit::projections
