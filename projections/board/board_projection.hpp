// The pipeline board read model: per pipeline its stages, per stage the open, non-archived deals
// (cards) in the order they entered the stage, and per stage, owner and currency the count and
// total value of those cards, so a board of any size is answered from a few index range reads.
//
// Relations (docs/crm-api.md, "Read models"):
//   rm_board_pipelines    (pipeline_id, name, archived)
//   rm_board_stages       (pipeline_id, stage_id, position, name, probability)
//   rm_board_deals        (deal_id, pipeline_id, stage_id, title, amount_minor, currency,
//                          owner_id, owner_team, owner_name, company_id, company_name,
//                          expected_close_date, stage_entered_us, version, status, archived,
//                          on_board) — every deal; on_board = open and not archived; the owner's
//                          team and name and the company's name are copied in, so a card reads
//                          without a join
//   rm_board_totals       (pipeline_id, stage_id, owner_id, currency, deals, total) — cards on
//                          the board per owner, for boards scoped to a team or an owner
//   rm_board_stage_totals (pipeline_id, stage_id, currency, deals, total) — the same per stage
//   rm_board_users        (user_id, team_id, display_name)
//   rm_board_companies    (company_id, name)
// Weighted values are not stored: a stage's probability applies to its total when read.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace realmkit::projections::board {

inline constexpr std::string_view kProjectionName = "board";

class board_projection final : public projection {
 public:
  std::string_view name() const override { return kProjectionName; }
  int version() const override { return 1; }
  std::vector<std::string> relations() const override;
  void create(infra::sql::session& db, const relation_names& names) const override;
  bool handles(std::string_view event_type) const override;
  std::unique_ptr<projection_writer> open(const relation_names& names) const override;
};

}  // namespace realmkit::projections::board
