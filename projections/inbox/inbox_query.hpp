// Reading a user's inbox: their open tasks by due time (those without a due time last), and their
// notifications newest first, only those whose time has come.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/common/types.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::projections::inbox {

inline constexpr std::size_t kDefaultItems = 50;
inline constexpr std::size_t kMaxItems = 200;

struct subject_ref {
  std::string kind;
  std::string id;
  std::optional<std::string> title;  // the record's current title (absent: unknown here)
};

struct task_item {
  std::string id;
  std::string title;
  std::string description;
  std::string priority;
  std::optional<domain::timestamp> due_at;
  std::optional<subject_ref> link;
  std::string assignee_id;
  domain::timestamp created_at{};
};

struct notification {
  std::int64_t seq = 0;  // the notification's id
  domain::timestamp at{};
  std::string kind;  // deal.assigned, deal.won, deal.lost, lead.assigned, contact.assigned,
                     // company.assigned, task.assigned, task.due, activity.logged
  subject_ref subject;
  std::optional<std::string> actor_id;
  std::optional<std::string> actor_name;
  std::optional<std::string> detail;  // a lost deal's reason, an activity's summary
};

template <class Item>
struct inbox_page {
  std::vector<Item> items;
  std::optional<std::string> next_cursor;
  std::int64_t position = 0;  // the inbox's checkpoint before the rows were read
};

struct tasks_request {
  std::string user_id;
  std::optional<domain::timestamp> due_before;  // only tasks due before this time
  std::optional<std::string> after;             // a cursor this module gave out (validated)
  std::size_t limit = kDefaultItems;
};

struct notifications_request {
  std::string user_id;
  domain::timestamp now{};  // notifications dated later (a task's due time) are not shown yet
  std::optional<std::string> after;
  std::size_t limit = kDefaultItems;
};

// Whether a cursor text is one these queries gave out.
bool valid_tasks_cursor(std::string_view text);
bool valid_notifications_cursor(std::string_view text);

inbox_page<task_item> read_tasks(infra::sql::session& db, const tasks_request& request);
inbox_page<notification> read_notifications(infra::sql::session& db,
                                            const notifications_request& request);

}  // namespace realmkit::projections::inbox
