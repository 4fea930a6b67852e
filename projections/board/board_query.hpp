// Reading the pipeline board: the stages of a pipeline in order, per stage the count and the
// totals of the cards the caller may see (per currency: amounts of different currencies are never
// added up), the stage's weighted value, and a page of cards in the order they entered the stage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/common/types.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::projections::board {

inline constexpr std::size_t kDefaultCardsPerStage = 50;
inline constexpr std::size_t kMaxCardsPerStage = 200;

struct card {
  std::string id;
  std::string title;
  domain::money value;
  std::string owner_id;
  std::optional<std::string> owner_name;
  std::optional<std::string> company_id;
  std::optional<std::string> company_name;
  std::optional<std::string> expected_close_date;  // YYYY-MM-DD
  domain::timestamp stage_entered_at{};
  std::int64_t version = 0;  // the deal stream's version: what a move sends as expected_version
};

struct column {
  std::string id;
  std::string name;
  int probability = 0;
  std::int64_t count = 0;                  // cards the caller may see in the stage
  std::vector<domain::money> total;        // per currency, by currency code
  std::vector<domain::money> weighted;     // total × probability / 100, rounded half up
  std::vector<card> deals;                 // a page of cards
  std::optional<std::string> next_cursor;  // the stage's next page, when there is one
};

struct board_view {
  std::string pipeline_id;
  std::string name;
  bool archived = false;
  std::vector<column> stages;
  std::int64_t position = 0;  // the board's checkpoint the rows were read at
};

// Where a stage's page ends.
struct board_cursor {
  std::string stage_id;
  std::int64_t entered_us = 0;
  std::string deal_id;
};
std::string encode_board_cursor(const board_cursor& c);
std::optional<board_cursor> decode_board_cursor(std::string_view text);

struct board_request {
  std::string pipeline_id;
  std::optional<std::string> owner;  // only this owner's cards
  std::optional<std::string> team;   // only cards of owners in this team
  // The caller's record scope: unset sees every team; set, only this team (none: no cards).
  std::optional<std::optional<std::string>> only_team;
  std::optional<std::string> stage;   // only this stage (paging one stage)
  std::optional<board_cursor> after;  // the page after this card (its stage alone)
  std::size_t limit = kDefaultCardsPerStage;
};

// The board, or nullopt when the pipeline does not exist. Counts, totals, cards and position come
// from one statement, so they agree with each other.
std::optional<board_view> read_board(infra::sql::session& db, const board_request& request);

// total × probability / 100 rounded half up, without overflowing for any int64 total.
std::int64_t weighted_amount(std::int64_t total, int probability);

}  // namespace realmkit::projections::board
