// The analytics projection's writer: folds deal, lead, activity, pipeline and user events into
// fact rows held in memory, and writes the rows a batch changed when the batch flushes. On SQLite
// it also maintains the history analytics (an_win_rates, an_stage_conversion, an_lead_funnel,
// an_activities as sums adjusted by each change; an_stage_durations from every completed stay of
// each stage); on PostgreSQL those are materialized views and the writer only writes facts.
//
// Rows are cached: a row missing from the cache is read from the generation's tables, unless the
// writer wrote every row of the generation itself (a rebuild from position 0), in which case a
// miss means the row does not exist. Caches that grow past a bound are dropped after a flush and
// read back on demand.
#pragma once

#include <memory>

#include "projections/projection.hpp"

namespace realmkit::projections::analytics {

class fact_writer final : public projection_writer {
 public:
  explicit fact_writer(const relation_names& names);
  ~fact_writer() override;

  void apply(const infra::recorded_event& event, apply_context& ctx) override;
  void flush(apply_context& ctx) override;
  void discard() noexcept override;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace realmkit::projections::analytics
