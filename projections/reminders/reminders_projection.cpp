#include "projections/reminders/reminders_projection.hpp"

#include "domain/task/task_state.hpp"
#include "infra/event_codec.hpp"
#include "projections/support/folded_states.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::reminders {
namespace {

namespace sql = infra::sql;
using namespace domain;

class writer final : public support::folded_state_writer<task_aggregate> {
 public:
  explicit writer(const relation_names& names)
      : folded_state_writer(sql::identifier(names("rm_reminder_tasks")), "task_id"),
        reminders_(sql::identifier(names("rm_task_reminders"))),
        tasks_(sql::identifier(names("rm_reminder_tasks"))) {}

 private:
  using cached_state = entry;

  std::string id_of(const event& e) const override {
    return std::visit([](const auto& v) { return v.task.value; }, e);
  }

  void write(const std::string& id, cached_state& cached) override {
    const auto& s = cached.state;
    if (cached.stored) batch_.add("DELETE FROM " + reminders_ + " WHERE task_id = $1", {id});
    // A task that will never remind again (done tasks may be reopened) keeps its state anyway:
    // it is small, and a reopen needs it.
    batch_.add("INSERT INTO " + tasks_ +
                   " (task_id, doc) VALUES ($1, $2) ON CONFLICT (task_id) DO UPDATE SET doc = "
                   "excluded.doc",
               {id, infra::to_json(s)});
    cached.stored = true;
    for (const auto& r : owed_reminders(s)) {
      batch_.add("INSERT INTO " + reminders_ +
                     " (task_id, kind, fire_at_us, due_at_us, assignee_id) VALUES ($1, $2, $3, "
                     "$4, $5)",
                 {id, std::string(to_string(r.kind)), micros(r.fire_at), micros(r.due_at),
                  s.assignee.value});
    }
  }

  static std::int64_t micros(timestamp t) { return t.time_since_epoch().count(); }

  std::string reminders_;
  std::string tasks_;
};

}  // namespace

std::vector<std::string> reminders_projection::relations() const {
  return {"rm_task_reminders", "rm_reminder_tasks"};
}

void reminders_projection::create(sql::session& db, const relation_names& names) const {
  const auto reminders = names("rm_task_reminders");
  db.exec_script("CREATE TABLE " + sql::identifier(reminders) +
                 " (task_id TEXT NOT NULL, kind TEXT NOT NULL, fire_at_us BIGINT NOT NULL, "
                 "due_at_us BIGINT NOT NULL, assignee_id TEXT NOT NULL, PRIMARY KEY (task_id, "
                 "kind))");
  // The scheduler's one question: what fires next.
  db.exec_script("CREATE INDEX " + sql::identifier(reminders + "_by_time") + " ON " +
                 sql::identifier(reminders) + " (fire_at_us)");
  db.exec_script("CREATE TABLE " + sql::identifier(names("rm_reminder_tasks")) +
                 " (task_id TEXT PRIMARY KEY, doc TEXT NOT NULL)");
}

bool reminders_projection::handles(std::string_view event_type) const {
  return event_type.starts_with("task.") && infra::can_decode<task_event>(event_type);
}

std::unique_ptr<projection_writer> reminders_projection::open(const relation_names& names) const {
  return std::make_unique<writer>(names);
}

std::vector<due_reminder> due_reminders(sql::session& db, std::int64_t now_us, std::size_t limit) {
  const sql::value params[] = {now_us, static_cast<std::int64_t>(limit)};
  const auto rows = db.query(
      "SELECT task_id, kind, fire_at_us, due_at_us, assignee_id FROM rm_task_reminders WHERE "
      "fire_at_us <= $1 ORDER BY fire_at_us, task_id, kind LIMIT $2",
      params);
  std::vector<due_reminder> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.push_back({r.text(0), r.text(1), r.integer(2), r.integer(3), r.text(4)});
  }
  return out;
}

std::optional<std::int64_t> next_fire_time(sql::session& db) {
  const auto rows = db.query("SELECT MIN(fire_at_us) FROM rm_task_reminders", {});
  if (rows.empty() || rows.front().is_null(0)) return std::nullopt;
  return rows.front().integer(0);
}

}  // namespace realmkit::projections::reminders
