#include "projections/timeline/timeline_query.hpp"

#include "projections/support/statement_batch.hpp"
#include "projections/timeline/timeline_projection.hpp"

namespace realmkit::projections::timeline {

namespace sql = infra::sql;

namespace {
constexpr std::string_view kCursorTag = "t1";

domain::timestamp from_micros(std::int64_t us) {
  return domain::timestamp(std::chrono::microseconds(us));
}
}  // namespace

std::string encode_timeline_cursor(const timeline_cursor& c) {
  return support::encode_cursor(kCursorTag, {std::to_string(c.at_us), std::to_string(c.position)});
}

std::optional<timeline_cursor> decode_timeline_cursor(std::string_view text) {
  const auto fields = support::decode_cursor(kCursorTag, text, 2);
  if (!fields) return std::nullopt;
  const auto at = support::parse_int((*fields)[0]);
  const auto position = support::parse_int((*fields)[1]);
  if (!at || !position) return std::nullopt;
  return timeline_cursor{*at, *position};
}

timeline_page read_timeline(sql::session& db, const timeline_request& request) {
  timeline_page page;
  page.position = support::live_position(db, kProjectionName);
  std::vector<sql::value> params{request.entity_kind, request.entity_id};
  std::string text =
      "SELECT t.entry, t.type, t.at_us, t.position, t.actor_id, a.display_name, t.item_id, "
      "t.owner_id, o.display_name, t.summary, t.body, t.status, t.due_at_us, t.duration_minutes, "
      "t.priority, t.data, t.version FROM rm_timeline t LEFT JOIN rm_timeline_users a ON "
      "a.user_id = t.actor_id LEFT JOIN rm_timeline_users o ON o.user_id = t.owner_id WHERE "
      "t.entity_kind = $1 AND t.entity_id = $2";
  if (request.only_team) {
    if (*request.only_team) {
      params.emplace_back(**request.only_team);
      text += " AND (t.entry = 'event' OR o.team_id = $" + std::to_string(params.size()) + ")";
    } else {
      text += " AND t.entry = 'event'";
    }
  }
  if (request.after) {
    params.emplace_back(request.after->at_us);
    const auto at = "$" + std::to_string(params.size());
    params.emplace_back(request.after->position);
    const auto position = "$" + std::to_string(params.size());
    text += " AND (t.at_us, t.position) < (" + at + ", " + position + ")";
  }
  params.emplace_back(static_cast<std::int64_t>(request.limit + 1));
  text += " ORDER BY t.at_us DESC, t.position DESC LIMIT $" + std::to_string(params.size());
  for (const auto& r : db.query(text, params)) {
    entry e;
    e.entry = r.text(0);
    e.type = r.text(1);
    e.at = from_micros(r.integer(2));
    e.position = r.integer(3);
    e.actor_id = r.optional_text(4);
    e.actor_name = r.optional_text(5);
    e.item_id = r.optional_text(6);
    e.owner_id = r.optional_text(7);
    e.owner_name = r.optional_text(8);
    e.summary = r.optional_text(9);
    e.body = r.optional_text(10);
    e.status = r.optional_text(11);
    if (const auto due = r.optional_integer(12)) e.due_at = from_micros(*due);
    e.duration_minutes = r.optional_integer(13);
    e.priority = r.optional_text(14);
    e.data = r.optional_text(15);
    e.version = r.optional_integer(16);
    page.entries.push_back(std::move(e));
  }
  if (page.entries.size() > request.limit) {
    page.entries.resize(request.limit);
    const auto& last = page.entries.back();
    page.next_cursor = encode_timeline_cursor({last.at.time_since_epoch().count(), last.position});
  }
  return page;
}

}  // namespace realmkit::projections::timeline
