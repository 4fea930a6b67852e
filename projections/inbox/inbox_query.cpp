#include "projections/inbox/inbox_query.hpp"

#include "projections/inbox/inbox_projection.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::inbox {

namespace sql = infra::sql;

namespace {

constexpr std::string_view kTasksTag = "i1";
constexpr std::string_view kNotificationsTag = "n1";

domain::timestamp from_micros(std::int64_t us) {
  return domain::timestamp(std::chrono::microseconds(us));
}

// A cursor of two fields: an integer and a text (tasks: due_sort, task id) or two integers
// (notifications: at, seq).
struct key {
  std::int64_t first = 0;
  std::string second;
};

std::optional<key> decode(std::string_view tag, std::string_view text, bool integer_second) {
  const auto fields = support::decode_cursor(tag, text, 2);
  if (!fields) return std::nullopt;
  const auto first = support::parse_int((*fields)[0]);
  if (!first || (*fields)[1].empty()) return std::nullopt;
  if (integer_second && !support::parse_int((*fields)[1])) return std::nullopt;
  return key{*first, (*fields)[1]};
}

std::optional<subject_ref> subject_of(const sql::row& r, std::size_t kind, std::size_t prefix) {
  if (r.is_null(kind)) return std::nullopt;
  subject_ref s{r.text(kind), r.text(kind + 1), std::nullopt};
  if (!r.is_null(prefix + 1)) {
    auto title = r.text(prefix);
    if (!title.empty()) title += ' ';
    title += r.text(prefix + 1);
    s.title = std::move(title);
  }
  return s;
}

}  // namespace

bool valid_tasks_cursor(std::string_view text) {
  return decode(kTasksTag, text, false).has_value();
}

bool valid_notifications_cursor(std::string_view text) {
  return decode(kNotificationsTag, text, true).has_value();
}

inbox_page<task_item> read_tasks(sql::session& db, const tasks_request& request) {
  inbox_page<task_item> page;
  page.position = support::live_position(db, kProjectionName);
  std::vector<sql::value> params{request.user_id};
  std::string text =
      "SELECT t.task_id, t.title, t.description, t.priority, t.due_at_us, t.link_kind, "
      "t.link_id, s.title_prefix, s.title, t.assignee_id, t.created_us, t.due_sort FROM "
      "rm_inbox_tasks t LEFT JOIN rm_inbox_subjects s ON s.kind = t.link_kind AND s.id = "
      "t.link_id WHERE t.assignee_id = $1 AND t.status = 'open' AND t.deleted = 0";
  if (request.due_before) {
    params.emplace_back(support::micros(*request.due_before));
    text += " AND t.due_sort < $" + std::to_string(params.size());
  }
  if (request.after) {
    const auto after = decode(kTasksTag, *request.after, false);
    if (!after) throw std::invalid_argument("not a tasks cursor");
    params.emplace_back(after->first);
    const auto due = "$" + std::to_string(params.size());
    params.emplace_back(after->second);
    text += " AND (t.due_sort, t.task_id) > (" + due + ", $" + std::to_string(params.size()) + ")";
  }
  params.emplace_back(static_cast<std::int64_t>(request.limit + 1));
  text += " ORDER BY t.due_sort, t.task_id LIMIT $" + std::to_string(params.size());
  std::int64_t last_sort = 0;
  for (const auto& r : db.query(text, params)) {
    if (page.items.size() == request.limit) {
      const auto& last = page.items.back();
      page.next_cursor = support::encode_cursor(kTasksTag, {std::to_string(last_sort), last.id});
      break;
    }
    task_item t;
    t.id = r.text(0);
    t.title = r.text(1);
    t.description = r.text(2);
    t.priority = r.text(3);
    if (const auto due = r.optional_integer(4)) t.due_at = from_micros(*due);
    t.link = subject_of(r, 5, 7);
    t.assignee_id = r.text(9);
    t.created_at = from_micros(r.integer(10));
    last_sort = r.integer(11);
    page.items.push_back(std::move(t));
  }
  return page;
}

inbox_page<notification> read_notifications(sql::session& db,
                                            const notifications_request& request) {
  inbox_page<notification> page;
  page.position = support::live_position(db, kProjectionName);
  std::vector<sql::value> params{request.user_id, support::micros(request.now)};
  std::string text =
      "SELECT n.seq, n.at_us, n.kind, n.subject_kind, n.subject_id, s.title_prefix, s.title, "
      "n.actor_id, u.display_name, n.detail FROM rm_inbox_notifications n LEFT JOIN "
      "rm_inbox_subjects s ON s.kind = n.subject_kind AND s.id = n.subject_id LEFT JOIN "
      "rm_inbox_users u ON u.user_id = n.actor_id WHERE n.user_id = $1 AND n.at_us <= $2";
  if (request.after) {
    const auto after = decode(kNotificationsTag, *request.after, true);
    if (!after) throw std::invalid_argument("not a notifications cursor");
    params.emplace_back(after->first);
    const auto at = "$" + std::to_string(params.size());
    params.emplace_back(*support::parse_int(after->second));
    text += " AND (n.at_us, n.seq) < (" + at + ", $" + std::to_string(params.size()) + ")";
  }
  params.emplace_back(static_cast<std::int64_t>(request.limit + 1));
  text += " ORDER BY n.at_us DESC, n.seq DESC LIMIT $" + std::to_string(params.size());
  for (const auto& r : db.query(text, params)) {
    if (page.items.size() == request.limit) {
      const auto& last = page.items.back();
      page.next_cursor = support::encode_cursor(
          kNotificationsTag,
          {std::to_string(last.at.time_since_epoch().count()), std::to_string(last.seq)});
      break;
    }
    notification n;
    n.seq = r.integer(0);
    n.at = from_micros(r.integer(1));
    n.kind = r.text(2);
    n.subject = *subject_of(r, 3, 5);
    n.actor_id = r.optional_text(7);
    n.actor_name = r.optional_text(8);
    n.detail = r.optional_text(9);
    page.items.push_back(std::move(n));
  }
  return page;
}

}  // namespace realmkit::projections::inbox
