#include "projections/timeline/timeline_projection.hpp"

#include "domain/activity/activity_events.hpp"
#include "domain/task/task_events.hpp"
#include "infra/event_codec.hpp"
#include "infra/event_metadata.hpp"
#include "infra/privacy/private_event_store.hpp"
#include "projections/support/statement_batch.hpp"
#include "projections/support/user_table.hpp"

namespace realmkit::projections::timeline {
namespace {

namespace sql = infra::sql;
using namespace domain;

constexpr std::string_view kEntityKinds[] = {"contact", "company", "deal", "lead"};

// The entity kind of an event of a contact, company, deal or lead stream, or empty.
std::string_view entity_kind_of(std::string_view type) {
  for (const auto kind : kEntityKinds) {
    if (type.size() > kind.size() && type.starts_with(kind) && type[kind.size()] == '.') {
      return kind;
    }
  }
  return {};
}

sql::value optional_micros(const std::optional<timestamp>& t) {
  return t ? sql::value(support::micros(*t)) : sql::null();
}

sql::value optional_int(const std::optional<int>& n) {
  return n ? sql::value(std::int64_t{*n}) : sql::null();
}

// Every entry's write is a statement on the rows of this generation, applied in event order:
// nothing is read back, so the writer keeps no cache.
class writer final : public projection_writer {
 public:
  explicit writer(const relation_names& names)
      : table_(sql::identifier(names("rm_timeline"))), users_(names("rm_timeline_users")) {
    insert_ = "INSERT INTO " + table_ +
              " (entity_kind, entity_id, position, at_us, entry, type, actor_id, item_id, "
              "owner_id, summary, body, status, due_at_us, duration_minutes, priority, data, "
              "version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
              "$16, $17)";
  }

  void apply(const infra::recorded_event& e, apply_context& ctx) override {
    if (support::user_table::handles(e.type)) {
      users_.apply(e, batch_);
      return;
    }
    const std::string actor = infra::decode_metadata(e.metadata).actor;
    if (const auto kind = entity_kind_of(e.type); !kind.empty()) {
      const auto prefix = std::string(kind) + "-";
      if (!e.stream_id.starts_with(prefix)) {
        throw std::runtime_error("a " + std::string(kind) + " event in stream " + e.stream_id);
      }
      const auto id = e.stream_id.substr(prefix.size());
      if (infra::event_kind(e.type) == std::string(kind) + ".erased") forget(ctx, kind, id);
      // The newest form of the data, as an auditor reading the event today would see it.
      const auto current = infra::upcast(e.type, e.data);
      batch_.add(insert_, {std::string(kind), e.stream_id.substr(prefix.size()), e.global_position,
                           support::micros(e.recorded_at), std::string("event"),
                           std::string(infra::event_kind(current.type)), text(actor), sql::null(),
                           sql::null(), sql::null(), sql::null(), sql::null(), sql::null(),
                           sql::null(), sql::null(), current.data, e.stream_version});
    } else if (e.type.starts_with("activity.")) {
      apply_activity(infra::decode_event<activity_event>(e), e, actor);
    } else if (e.type.starts_with("task.")) {
      apply_task(infra::decode_event<task_event>(e), e, actor);
    }
  }

  void flush(apply_context& ctx) override { batch_.run(ctx.db); }

  void discard() noexcept override { batch_.clear(); }

 private:
  static sql::value text(const std::string& s) { return s.empty() ? sql::null() : sql::value(s); }

  // A person was erased: their record's entries show what a rebuild, reading the log after the
  // erasure, would show — every personal field erased.
  void forget(apply_context& ctx, std::string_view kind, const std::string& id) {
    batch_.run(ctx.db);  // this batch's entries are in the table first
    const sql::value key[] = {std::string(kind), id};
    const auto rows = ctx.db.query("SELECT position, type, data FROM " + table_ +
                                       " WHERE entity_kind = $1 AND entity_id = $2 AND entry = "
                                       "'event' AND data IS NOT NULL",
                                   key);
    for (const auto& r : rows) {
      const auto data = r.text(2);
      auto erased = infra::privacy::erase_personal_fields(r.text(1), data);
      if (erased == data) continue;
      batch_.add("UPDATE " + table_ +
                     " SET data = $4 WHERE entity_kind = $1 AND entity_id = $2 AND position = $3",
                 {std::string(kind), id, r.integer(0), std::move(erased)});
    }
  }

  void apply_activity(const activity_event& event, const infra::recorded_event& e,
                      const std::string& actor) {
    std::visit(
        overloaded{
            [&](const activity_logged& a) {
              batch_.add(insert_,
                         {std::string(to_string(a.subject.kind)), a.subject.id, e.global_position,
                          support::micros(a.occurred_at), std::string("activity"),
                          std::string(to_string(a.type)), text(actor), a.activity.value,
                          a.owner.value, a.summary, a.body, sql::null(), sql::null(),
                          optional_int(a.duration_minutes), sql::null(), sql::null(), sql::null()});
            },
            [&](const activity_edited& a) {
              batch_.add("UPDATE " + table_ +
                             " SET summary = $2, body = $3, at_us = $4, duration_minutes = $5 "
                             "WHERE item_id = $1 AND entry = 'activity'",
                         {a.activity.value, a.summary, a.body, support::micros(a.occurred_at),
                          optional_int(a.duration_minutes)});
            },
            [&](const activity_deleted& a) {
              batch_.add("DELETE FROM " + table_ + " WHERE item_id = $1 AND entry = 'activity'",
                         {a.activity.value});
            },
            [&](const activity_relinked& a) { move("activity", a.activity.value, a.subject); },
        },
        event);
  }

  // A task without a link is on no timeline: its later changes update no row.
  void apply_task(const task_event& event, const infra::recorded_event& e,
                  const std::string& actor) {
    auto update = [&](const std::string& set, const task_id& task, std::vector<sql::value> values) {
      values.insert(values.begin(), task.value);
      batch_.add("UPDATE " + table_ + " SET " + set + " WHERE item_id = $1 AND entry = 'task'",
                 std::move(values));
    };
    std::visit(overloaded{
                   [&](const task_created& t) {
                     if (!t.link) return;
                     batch_.add(
                         insert_,
                         {std::string(to_string(t.link->kind)), t.link->id, e.global_position,
                          support::micros(e.recorded_at), std::string("task"), std::string("task"),
                          text(actor), t.task.value, t.assignee.value, t.title, t.description,
                          std::string("open"), optional_micros(t.due_at), sql::null(),
                          std::string(to_string(t.priority)), sql::null(), sql::null()});
                   },
                   [&](const task_edited& t) {
                     update("summary = $2, body = $3, priority = $4", t.task,
                            {t.title, t.description, std::string(to_string(t.priority))});
                   },
                   [&](const task_reassigned& t) {
                     update("owner_id = $2", t.task, {t.to_assignee.value});
                   },
                   [&](const task_due_changed& t) {
                     update("due_at_us = $2", t.task, {optional_micros(t.to)});
                   },
                   [&](const task_completed& t) { update("status = 'done'", t.task, {}); },
                   [&](const task_reopened& t) { update("status = 'open'", t.task, {}); },
                   [&](const task_deleted& t) {
                     batch_.add("DELETE FROM " + table_ + " WHERE item_id = $1 AND entry = 'task'",
                                {t.task.value});
                   },
                   [&](const task_relinked& t) { move("task", t.task.value, t.link); },
                   // Reminders and recurrence are the assignee's business, not the record's.
                   [](const task_reminder_changed&) {},
                   [](const task_recurrence_changed&) {},
                   [](const task_reminded&) {},
               },
               event);
  }

  // The record an activity or task was about was merged: the item moves to the survivor's
  // timeline, where it keeps its place in time.
  void move(std::string_view entry, const std::string& item, const entity_ref& to) {
    batch_.add("UPDATE " + table_ +
                   " SET entity_kind = $3, entity_id = $4 WHERE item_id = $1 AND entry = $2",
               {item, std::string(entry), std::string(to_string(to.kind)), to.id});
  }

  std::string table_;
  std::string insert_;
  support::user_table users_;
  support::statement_batch batch_;
};

}  // namespace

std::vector<std::string> timeline_projection::relations() const {
  return {"rm_timeline", "rm_timeline_users"};
}

void timeline_projection::create(sql::session& db, const relation_names& names) const {
  const auto table = names("rm_timeline");
  const auto t = sql::identifier(table);
  db.exec_script("CREATE TABLE " + t +
                 " (entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL, position BIGINT NOT NULL, "
                 "at_us BIGINT NOT NULL, entry TEXT NOT NULL, type TEXT NOT NULL, actor_id TEXT, "
                 "item_id TEXT, owner_id TEXT, summary TEXT, body TEXT, status TEXT, due_at_us "
                 "BIGINT, duration_minutes BIGINT, priority TEXT, data TEXT, version BIGINT, "
                 "PRIMARY KEY (entity_kind, entity_id, position))");
  // A timeline newest first, and an activity's or task's entry by its id.
  db.exec_script("CREATE INDEX " + sql::identifier(table + "_at") + " ON " + t +
                 " (entity_kind, entity_id, at_us, position)");
  db.exec_script("CREATE INDEX " + sql::identifier(table + "_item") + " ON " + t +
                 " (item_id) WHERE item_id IS NOT NULL");
  support::user_table::create(db, names("rm_timeline_users"));
}

bool timeline_projection::handles(std::string_view type) const {
  if (support::user_table::handles(type)) return true;
  if (!entity_kind_of(type).empty()) return true;
  if (type.starts_with("activity.")) return infra::can_decode<activity_event>(type);
  if (type.starts_with("task.")) return infra::can_decode<task_event>(type);
  return false;
}

std::unique_ptr<projection_writer> timeline_projection::open(const relation_names& names) const {
  return std::make_unique<writer>(names);
}

}  // namespace realmkit::projections::timeline
