// A read model as it stood at a past position of the log: the projection's own writer applies
// the log's prefix to a fresh generation in a scratch SQLite database, and the projection's own
// queries read it there. So a board or a forecast "as of" a time is, by construction, what live
// projection showed once it had applied that prefix (a rebuild equals live projection:
// ARCHITECTURE §3, invariant 6), on either store backend.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "infra/event_store.hpp"
#include "infra/sql/sql_database.hpp"
#include "projections/projection.hpp"

namespace realmkit::api::audit {

class past_read_model final {
 public:
  // Creates the projections' relations in a scratch database (removed again by the destructor);
  // nothing is applied until advance_to().
  past_read_model(infra::event_store& store,
                  std::vector<std::shared_ptr<const projections::projection>> projections);
  ~past_read_model();
  past_read_model(const past_read_model&) = delete;
  past_read_model& operator=(const past_read_model&) = delete;

  // Applies the log up to and including `position` (not below the current one). Each
  // projection's checkpoint becomes `position`, as its queries report it.
  void advance_to(std::int64_t position);
  std::int64_t position() const { return position_; }
  // Events applied so far, of those the projections handle.
  std::uint64_t applied() const { return applied_; }

  // The scratch database, for the projections' own queries. Read through the stable views.
  infra::sql::session& session() { return *session_; }

 private:
  struct part;
  infra::event_store& store_;
  std::filesystem::path dir_;
  std::unique_ptr<infra::sql::database> db_;
  std::unique_ptr<infra::sql::session> session_;
  std::vector<part> parts_;
  std::int64_t position_ = 0;
  std::uint64_t applied_ = 0;
};

}  // namespace realmkit::api::audit
