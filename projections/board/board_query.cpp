#include "projections/board/board_query.hpp"

#include <algorithm>
#include <map>

#include "projections/board/board_projection.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::board {

namespace sql = infra::sql;

namespace {
constexpr std::string_view kCursorTag = "b1";
}  // namespace

std::string encode_board_cursor(const board_cursor& c) {
  return support::encode_cursor(kCursorTag, {c.stage_id, std::to_string(c.entered_us), c.deal_id});
}

std::optional<board_cursor> decode_board_cursor(std::string_view text) {
  const auto fields = support::decode_cursor(kCursorTag, text, 3);
  if (!fields) return std::nullopt;
  const auto entered = support::parse_int((*fields)[1]);
  if (!entered || (*fields)[0].empty() || (*fields)[2].empty()) return std::nullopt;
  return board_cursor{(*fields)[0], *entered, (*fields)[2]};
}

std::int64_t weighted_amount(std::int64_t total, int probability) {
  const std::int64_t q = total / 100;
  const std::int64_t r = total % 100;  // carries the sign of total
  const std::int64_t rest = r * probability;
  return q * probability + (rest + (rest >= 0 ? 50 : -50)) / 100;
}

std::optional<board_view> read_board(sql::session& db, const board_request& request) {
  board_view out;
  out.pipeline_id = request.pipeline_id;
  {
    const sql::value params[] = {request.pipeline_id};
    const auto rows = db.query(
        "SELECT p.name, p.archived, s.stage_id, s.name, s.probability FROM rm_board_pipelines p "
        "LEFT JOIN rm_board_stages s ON s.pipeline_id = p.pipeline_id WHERE p.pipeline_id = $1 "
        "ORDER BY s.position",
        params);
    if (rows.empty()) return std::nullopt;
    out.name = rows.front().text(0);
    out.archived = rows.front().integer(1) != 0;
    const std::optional<std::string> only_stage =
        request.after ? std::optional(request.after->stage_id) : request.stage;
    for (const auto& r : rows) {
      if (r.is_null(2)) continue;
      if (only_stage && r.text(2) != *only_stage) continue;
      column c;
      c.id = r.text(2);
      c.name = r.text(3);
      c.probability = static_cast<int>(r.integer(4));
      out.stages.push_back(std::move(c));
    }
  }

  // Who the caller may see, intersected with the team they asked for.
  std::optional<std::string> team = request.team;
  bool none_visible = false;
  if (request.only_team) {
    if (!*request.only_team || (team && *team != **request.only_team)) {
      none_visible = true;
    } else {
      team = **request.only_team;
    }
  }

  // One statement, hence one snapshot: the checkpoint, the totals and every stage's page.
  std::vector<sql::value> params;
  auto param = [&](sql::value v) {
    params.push_back(std::move(v));
    return "$" + std::to_string(params.size());
  };
  std::string text =
      "SELECT 0, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), "
      "CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), "
      "CAST(NULL AS TEXT), position, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT) FROM "
      "projection_generations WHERE projection = '" +
      std::string(kProjectionName) + "' AND state = 'live'";
  if (!none_visible && !out.stages.empty()) {
    params.push_back(request.pipeline_id);  // $1
    std::string totals_filter, cards_filter;
    if (team) {
      const auto p = param(*team);
      totals_filter += " AND u.team_id = " + p;
      cards_filter += " AND d.owner_team = " + p;
    }
    if (request.owner) {
      const auto p = param(*request.owner);
      totals_filter += " AND t.owner_id = " + p;
      cards_filter += " AND d.owner_id = " + p;
    }
    if (out.stages.size() == 1) {
      totals_filter += " AND t.stage_id = " + param(out.stages.front().id);
    }
    if (request.after) {
      const auto entered = param(request.after->entered_us);
      const auto id = param(request.after->deal_id);
      cards_filter += " AND (d.stage_entered_us, d.deal_id) > (" + entered + ", " + id + ")";
    }
    if (team || request.owner) {
      // Scoped: the owners' totals, added up per stage and currency.
      text +=
          " UNION ALL SELECT 1, t.stage_id, t.currency, NULL, NULL, NULL, NULL, NULL, NULL, "
          "NULL, CAST(SUM(t.deals) AS BIGINT), CAST(SUM(t.total) AS BIGINT), CAST(NULL AS "
          "BIGINT) FROM rm_board_totals t";
      if (team) text += " JOIN rm_board_users u ON u.user_id = t.owner_id";
      text += " WHERE t.pipeline_id = $1" + totals_filter + " GROUP BY t.stage_id, t.currency";
    } else {
      text +=
          " UNION ALL SELECT 1, t.stage_id, t.currency, NULL, NULL, NULL, NULL, NULL, NULL, "
          "NULL, t.deals, t.total, CAST(NULL AS BIGINT) FROM rm_board_stage_totals t WHERE "
          "t.pipeline_id = $1" +
          totals_filter;
    }
    const auto limit = param(static_cast<std::int64_t>(request.limit + 1));
    for (std::size_t i = 0; i < out.stages.size(); ++i) {
      const auto stage = param(out.stages[i].id);
      text +=
          " UNION ALL SELECT * FROM (SELECT 2, d.stage_id, d.deal_id, d.title, d.currency, "
          "d.owner_id, d.owner_name, d.company_id, d.company_name, d.expected_close_date, "
          "d.amount_minor, d.stage_entered_us, d.version FROM rm_board_deals d WHERE "
          "d.pipeline_id = $1 AND d.stage_id = " +
          stage + " AND d.on_board = 1" + cards_filter +
          " ORDER BY d.stage_entered_us, d.deal_id LIMIT " + limit + ") AS s" + std::to_string(i);
    }
  }

  std::map<std::string, column*> by_id;
  for (auto& c : out.stages) by_id[c.id] = &c;
  std::map<std::string, std::vector<card>> pages;
  for (auto& c : out.stages) pages[c.id].reserve(request.limit + 1);
  const auto rows = db.query(text, params);
  for (const auto& r : rows) {
    const auto part = r.integer(0);
    if (part == 0) {
      out.position = r.integer(10);
      continue;
    }
    const auto it = by_id.find(r.text(1));
    if (it == by_id.end()) continue;
    if (part == 1) {
      const auto count = r.integer(10);
      if (count == 0) continue;
      it->second->count += count;
      it->second->total.push_back({r.integer(11), r.text(2)});
      continue;
    }
    card k;
    k.id = r.text(2);
    k.title = r.text(3);
    k.value = {r.integer(10), r.text(4)};
    k.owner_id = r.text(5);
    k.owner_name = r.optional_text(6);
    k.company_id = r.optional_text(7);
    k.company_name = r.optional_text(8);
    k.expected_close_date = r.optional_text(9);
    k.stage_entered_at = domain::timestamp(std::chrono::microseconds(r.integer(11)));
    k.version = r.integer(12);
    pages[it->first].push_back(std::move(k));
  }
  for (auto& c : out.stages) {
    std::sort(c.total.begin(), c.total.end(), [](const domain::money& a, const domain::money& b) {
      return a.currency < b.currency;
    });
    for (const auto& t : c.total) {
      c.weighted.push_back({weighted_amount(t.amount_minor, c.probability), t.currency});
    }
    auto& page = pages[c.id];
    std::sort(page.begin(), page.end(), [](const card& a, const card& b) {
      return std::tie(a.stage_entered_at, a.id) < std::tie(b.stage_entered_at, b.id);
    });
    if (page.size() > request.limit) {
      page.resize(request.limit);
      const auto& last = page.back();
      c.next_cursor =
          encode_board_cursor({c.id, last.stage_entered_at.time_since_epoch().count(), last.id});
    }
    c.deals = std::move(page);
  }
  return out;
}

}  // namespace realmkit::projections::board
