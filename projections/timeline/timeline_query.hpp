// Reading an entity's timeline, newest first, a page at a time; items (activities, tasks) the
// caller may not see are left out before paging, like every list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/common/types.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::projections::timeline {

inline constexpr std::size_t kDefaultEntries = 50;
inline constexpr std::size_t kMaxEntries = 200;

struct entry {
  std::string entry;  // event, activity, task
  std::string type;   // the event's kind, the activity's type, "task"
  domain::timestamp at{};
  std::int64_t position = 0;
  std::optional<std::string> actor_id;
  std::optional<std::string> actor_name;
  // activities and tasks
  std::optional<std::string> item_id;
  std::optional<std::string> owner_id;
  std::optional<std::string> owner_name;
  std::optional<std::string> summary;
  std::optional<std::string> body;
  std::optional<std::string> status;
  std::optional<domain::timestamp> due_at;
  std::optional<std::int64_t> duration_minutes;
  std::optional<std::string> priority;
  // events
  std::optional<std::string> data;  // the event's data, a JSON object text
  std::optional<std::int64_t> version;
};

struct timeline_cursor {
  std::int64_t at_us = 0;
  std::int64_t position = 0;
};
std::string encode_timeline_cursor(const timeline_cursor& c);
std::optional<timeline_cursor> decode_timeline_cursor(std::string_view text);

struct timeline_request {
  std::string entity_kind;  // contact, company, deal, lead
  std::string entity_id;
  // The caller's record scope for items: unset sees every team's; set, only this team's (none:
  // no items, the entity's own events only).
  std::optional<std::optional<std::string>> only_team;
  std::optional<timeline_cursor> after;
  std::size_t limit = kDefaultEntries;
};

struct timeline_page {
  std::vector<entry> entries;
  std::optional<std::string> next_cursor;
  std::int64_t position = 0;  // the timeline's checkpoint before the rows were read
};

timeline_page read_timeline(infra::sql::session& db, const timeline_request& request);

}  // namespace realmkit::projections::timeline
