#include "projections/inbox/inbox_projection.hpp"

#include <limits>
#include <set>

#include "domain/activity/activity_events.hpp"
#include "domain/company/company_events.hpp"
#include "domain/contact/contact_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/lead/lead_events.hpp"
#include "domain/task/task_events.hpp"
#include "infra/event_codec.hpp"
#include "infra/event_metadata.hpp"
#include "projections/support/statement_batch.hpp"
#include "projections/support/user_table.hpp"

namespace realmkit::projections::inbox {
namespace {

namespace sql = infra::sql;
using namespace domain;

constexpr std::int64_t kNoDue = std::numeric_limits<std::int64_t>::max();

// What one event means here, with the names of its tables.
class writer final : public projection_writer {
 public:
  explicit writer(const relation_names& names)
      : tasks_(sql::identifier(names("rm_inbox_tasks"))),
        notes_(sql::identifier(names("rm_inbox_notifications"))),
        subjects_(sql::identifier(names("rm_inbox_subjects"))),
        users_(names("rm_inbox_users")) {}

  void apply(const infra::recorded_event& e, apply_context&) override {
    if (support::user_table::handles(e.type)) {
      users_.apply(e, batch_);
      return;
    }
    event_ = &e;
    actor_ = infra::decode_metadata(e.metadata).actor;
    at_ = support::micros(e.recorded_at);
    if (e.type.starts_with("deal.")) {
      apply_deal(infra::decode_event<deal_event>(e));
    } else if (e.type.starts_with("lead.")) {
      apply_lead(infra::decode_event<lead_event>(e));
    } else if (e.type.starts_with("contact.")) {
      apply_contact(infra::decode_event<contact_event>(e));
    } else if (e.type.starts_with("company.")) {
      apply_company(infra::decode_event<company_event>(e));
    } else if (e.type.starts_with("task.")) {
      apply_task(infra::decode_event<task_event>(e));
    } else if (e.type.starts_with("activity.")) {
      apply_activity(infra::decode_event<activity_event>(e));
    }
  }

  void flush(apply_context& ctx) override { batch_.run(ctx.db); }
  void discard() noexcept override { batch_.clear(); }

 private:
  // The notifications of one event are numbered 0..3 after its position.
  std::int64_t seq(int n) const { return event_->global_position * 4 + n; }

  sql::value actor() const { return actor_.empty() ? sql::null() : sql::value(actor_); }

  void subject(std::string_view kind, const std::string& id, const std::string& title_prefix,
               const std::string& title, const std::string& owner) {
    batch_.add("INSERT INTO " + subjects_ +
                   " (kind, id, title_prefix, title, owner_id) VALUES ($1, $2, $3, $4, $5) ON "
                   "CONFLICT (kind, id) DO UPDATE SET title_prefix = excluded.title_prefix, title "
                   "= excluded.title, owner_id = excluded.owner_id",
               {std::string(kind), id, title_prefix, title, owner});
  }

  void set_subject(std::string_view column, std::string_view kind, const std::string& id,
                   const std::string& value) {
    batch_.add(
        "UPDATE " + subjects_ + " SET " + std::string(column) + " = $3 WHERE kind = $1 AND id = $2",
        {std::string(kind), id, value});
  }

  // A notification for `user`, unless they did it themselves.
  void notify(const std::string& user, int n, std::string_view kind, std::string_view subject_kind,
              const std::string& subject_id, std::optional<std::string> detail = std::nullopt,
              std::int64_t at = -1) {
    if (user.empty() || user == actor_) return;
    batch_.add("INSERT INTO " + notes_ +
                   " (user_id, seq, at_us, kind, subject_kind, subject_id, actor_id, detail) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
               {user, seq(n), at < 0 ? at_ : at, std::string(kind), std::string(subject_kind),
                subject_id, actor(), detail ? sql::value(*detail) : sql::null()});
  }

  // A notification for the current owner of a record, unless they did it themselves: the owner
  // is read by the statement, after every earlier statement of the batch.
  void notify_owner(int n, std::string_view kind, std::string_view subject_kind,
                    const std::string& subject_id,
                    std::optional<std::string> detail = std::nullopt) {
    batch_.add("INSERT INTO " + notes_ +
                   " (user_id, seq, at_us, kind, subject_kind, subject_id, actor_id, detail) "
                   "SELECT owner_id, CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS TEXT), "
                   "kind, id, CAST($4 AS TEXT), CAST($5 AS TEXT) FROM " +
                   subjects_ +
                   " WHERE kind = $6 AND id = $7 AND owner_id IS DISTINCT FROM CAST($4 AS TEXT)",
               {seq(n), at_, std::string(kind), actor(), detail ? sql::value(*detail) : sql::null(),
                std::string(subject_kind), subject_id});
  }

  void apply_deal(const deal_event& event) {
    std::visit(
        overloaded{
            [&](const deal_created& e) {
              subject("deal", e.deal.value, "", e.title, e.owner.value);
              notify(e.owner.value, 0, "deal.assigned", "deal", e.deal.value);
            },
            [&](const deal_renamed& e) { set_subject("title", "deal", e.deal.value, e.title); },
            [&](const deal_owner_assigned& e) {
              set_subject("owner_id", "deal", e.deal.value, e.to_owner.value);
              notify(e.to_owner.value, 0, "deal.assigned", "deal", e.deal.value);
            },
            [&](const deal_won& e) { notify_owner(0, "deal.won", "deal", e.deal.value); },
            [&](const deal_lost& e) {
              notify_owner(0, "deal.lost", "deal", e.deal.value, e.reason);
            },
            [](const auto&) {},
        },
        event);
  }

  void apply_lead(const lead_event& event) {
    std::visit(overloaded{
                   [&](const lead_created& e) {
                     subject("lead", e.lead.value, "", e.name, e.owner.value);
                     notify(e.owner.value, 0, "lead.assigned", "lead", e.lead.value);
                   },
                   [&](const lead_updated& e) {
                     if (e.name) set_subject("title", "lead", e.lead.value, *e.name);
                   },
                   [&](const lead_owner_assigned& e) {
                     set_subject("owner_id", "lead", e.lead.value, e.to_owner.value);
                     notify(e.to_owner.value, 0, "lead.assigned", "lead", e.lead.value);
                   },
                   [&](const lead_erased& e) { set_subject("title", "lead", e.lead.value, ""); },
                   [](const auto&) {},
               },
               event);
  }

  void apply_contact(const contact_event& event) {
    std::visit(overloaded{
                   [&](const contact_created& e) {
                     subject("contact", e.contact.value, e.first_name, e.last_name, e.owner.value);
                     notify(e.owner.value, 0, "contact.assigned", "contact", e.contact.value);
                   },
                   [&](const contact_updated& e) {
                     if (e.first_name) {
                       set_subject("title_prefix", "contact", e.contact.value, *e.first_name);
                     }
                     if (e.last_name)
                       set_subject("title", "contact", e.contact.value, *e.last_name);
                   },
                   [&](const contact_owner_assigned& e) {
                     set_subject("owner_id", "contact", e.contact.value, e.to_owner.value);
                     notify(e.to_owner.value, 0, "contact.assigned", "contact", e.contact.value);
                   },
                   [&](const contact_erased& e) {
                     set_subject("title_prefix", "contact", e.contact.value, "");
                     set_subject("title", "contact", e.contact.value, "");
                   },
                   [](const auto&) {},
               },
               event);
  }

  void apply_company(const company_event& event) {
    std::visit(overloaded{
                   [&](const company_created& e) {
                     subject("company", e.company.value, "", e.name, e.owner.value);
                     notify(e.owner.value, 0, "company.assigned", "company", e.company.value);
                   },
                   [&](const company_updated& e) {
                     if (e.name) set_subject("title", "company", e.company.value, *e.name);
                   },
                   [&](const company_owner_assigned& e) {
                     set_subject("owner_id", "company", e.company.value, e.to_owner.value);
                     notify(e.to_owner.value, 0, "company.assigned", "company", e.company.value);
                   },
                   [](const auto&) {},
               },
               event);
  }

  void apply_activity(const activity_event& event) {
    if (const auto* e = std::get_if<activity_logged>(&event)) {
      notify_owner(0, "activity.logged", to_string(e->subject.kind), e->subject.id, e->summary);
    }
  }

  // A task's "task.due" that has not come yet (at_us after this event) follows the task:
  // withdrawn when it is done or deleted or its due time changes, moved when it is reassigned.
  void withdraw_pending_due(const task_id& task) {
    batch_.add("DELETE FROM " + notes_ +
                   " WHERE kind = 'task.due' AND subject_kind = 'task' AND subject_id = $1 AND "
                   "at_us > $2",
               {task.value, at_});
  }

  // A "task.due" at the task's due time, for its assignee, when the task is open and due later
  // than `after` (the event's time, or never for a change of the due time itself).
  void schedule_due(const task_id& task, int n, std::int64_t after) {
    batch_.add("INSERT INTO " + notes_ +
                   " (user_id, seq, at_us, kind, subject_kind, subject_id, actor_id, detail) "
                   "SELECT assignee_id, CAST($2 AS BIGINT), due_at_us, 'task.due', 'task', "
                   "task_id, CAST($3 AS TEXT), NULL FROM " +
                   tasks_ +
                   " WHERE task_id = $1 AND status = 'open' AND deleted = 0 AND due_at_us IS NOT "
                   "NULL AND due_at_us > $4",
               {task.value, seq(n), actor(), after});
  }

  void set_task(const task_id& task, const std::string& set, std::vector<sql::value> values) {
    values.insert(values.begin(), task.value);
    batch_.add("UPDATE " + tasks_ + " SET " + set + " WHERE task_id = $1", std::move(values));
  }

  void apply_task(const task_event& event) {
    constexpr std::int64_t kAlways = std::numeric_limits<std::int64_t>::min();
    std::visit(
        overloaded{
            [&](const task_created& e) {
              const auto due = e.due_at ? sql::value(support::micros(*e.due_at)) : sql::null();
              batch_.add("INSERT INTO " + tasks_ +
                             " (task_id, assignee_id, title, description, priority, due_at_us, "
                             "due_sort, link_kind, link_id, status, created_us, deleted) VALUES "
                             "($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, 0)",
                         {e.task.value, e.assignee.value, e.title, e.description,
                          std::string(to_string(e.priority)), due,
                          e.due_at ? support::micros(*e.due_at) : kNoDue,
                          e.link ? sql::value(std::string(to_string(e.link->kind))) : sql::null(),
                          e.link ? sql::value(e.link->id) : sql::null(), at_});
              subject("task", e.task.value, "", e.title, e.assignee.value);
              notify(e.assignee.value, 0, "task.assigned", "task", e.task.value);
              schedule_due(e.task, 1, kAlways);
            },
            [&](const task_edited& e) {
              set_task(e.task, "title = $2, description = $3, priority = $4",
                       {e.title, e.description, std::string(to_string(e.priority))});
              set_subject("title", "task", e.task.value, e.title);
            },
            [&](const task_reassigned& e) {
              set_task(e.task, "assignee_id = $2", {e.to_assignee.value});
              set_subject("owner_id", "task", e.task.value, e.to_assignee.value);
              batch_.add("UPDATE " + notes_ +
                             " SET user_id = $2 WHERE kind = 'task.due' AND subject_kind = "
                             "'task' AND subject_id = $1 AND at_us > $3",
                         {e.task.value, e.to_assignee.value, at_});
              notify(e.to_assignee.value, 0, "task.assigned", "task", e.task.value);
            },
            [&](const task_due_changed& e) {
              set_task(e.task, "due_at_us = $2, due_sort = $3",
                       {e.to ? sql::value(support::micros(*e.to)) : sql::null(),
                        e.to ? support::micros(*e.to) : kNoDue});
              withdraw_pending_due(e.task);
              schedule_due(e.task, 1, kAlways);
            },
            [&](const task_completed& e) {
              set_task(e.task, "status = 'done'", {});
              withdraw_pending_due(e.task);
            },
            [&](const task_reopened& e) {
              set_task(e.task, "status = 'open'", {});
              schedule_due(e.task, 1, at_);
            },
            [&](const task_deleted& e) {
              set_task(e.task, "deleted = 1", {});
              withdraw_pending_due(e.task);
            },
            [&](const task_relinked& e) {
              set_task(e.task, "link_kind = $2, link_id = $3",
                       {std::string(to_string(e.link.kind)), e.link.id});
            },
            // The overdue reminder is the "task.due" notification already dated at the due
            // time; the advance one is news of its own.
            [&](const task_reminded& e) {
              if (e.kind == reminder_kind::due_soon) {
                notify(e.assignee.value, 0, "task.reminder", "task", e.task.value);
              }
            },
            [](const task_reminder_changed&) {},
            [](const task_recurrence_changed&) {},
        },
        event);
  }

  std::string tasks_, notes_, subjects_;
  support::user_table users_;
  support::statement_batch batch_;
  // The event being applied.
  const infra::recorded_event* event_ = nullptr;
  std::string actor_;
  std::int64_t at_ = 0;
};

}  // namespace

std::vector<std::string> inbox_projection::relations() const {
  return {"rm_inbox_tasks", "rm_inbox_notifications", "rm_inbox_subjects", "rm_inbox_users"};
}

void inbox_projection::create(sql::session& db, const relation_names& names) const {
  const auto tasks = names("rm_inbox_tasks");
  const auto notes = names("rm_inbox_notifications");
  db.exec_script("CREATE TABLE " + sql::identifier(tasks) +
                 " (task_id TEXT PRIMARY KEY, assignee_id TEXT NOT NULL, title TEXT NOT NULL, "
                 "description TEXT NOT NULL, priority TEXT NOT NULL, due_at_us BIGINT, due_sort "
                 "BIGINT NOT NULL, link_kind TEXT, link_id TEXT, status TEXT NOT NULL, "
                 "created_us BIGINT NOT NULL, deleted BIGINT NOT NULL)");
  // A user's open tasks by due time.
  db.exec_script("CREATE INDEX " + sql::identifier(tasks + "_open") + " ON " +
                 sql::identifier(tasks) +
                 " (assignee_id, due_sort, task_id) WHERE status = 'open' AND deleted = 0");
  db.exec_script("CREATE TABLE " + sql::identifier(notes) +
                 " (user_id TEXT NOT NULL, seq BIGINT NOT NULL, at_us BIGINT NOT NULL, kind TEXT "
                 "NOT NULL, subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL, actor_id TEXT, "
                 "detail TEXT, PRIMARY KEY (user_id, seq))");
  // A user's feed newest first, and a task's pending "task.due".
  db.exec_script("CREATE INDEX " + sql::identifier(notes + "_feed") + " ON " +
                 sql::identifier(notes) + " (user_id, at_us, seq)");
  db.exec_script("CREATE INDEX " + sql::identifier(notes + "_subject") + " ON " +
                 sql::identifier(notes) + " (subject_id, kind)");
  db.exec_script("CREATE TABLE " + sql::identifier(names("rm_inbox_subjects")) +
                 " (kind TEXT NOT NULL, id TEXT NOT NULL, title_prefix TEXT NOT NULL, title TEXT "
                 "NOT NULL, owner_id TEXT NOT NULL, PRIMARY KEY (kind, id))");
  support::user_table::create(db, names("rm_inbox_users"));
}

bool inbox_projection::handles(std::string_view type) const {
  static const std::set<std::string_view> kKinds = [] {
    std::set<std::string_view> out;
    for (const auto type : std::initializer_list<std::string_view>{
             deal_created::kType, deal_renamed::kType, deal_owner_assigned::kType, deal_won::kType,
             deal_lost::kType, lead_created::kType, lead_updated::kType, lead_owner_assigned::kType,
             contact_created::kType, contact_updated::kType, contact_owner_assigned::kType,
             contact_erased::kType, lead_erased::kType, company_created::kType,
             company_updated::kType, company_owner_assigned::kType, activity_logged::kType}) {
      out.insert(infra::event_kind(type));
    }
    return out;
  }();
  if (support::user_table::handles(type)) return true;
  if (type.starts_with("task.")) return infra::can_decode<task_event>(type);
  return kKinds.contains(infra::event_kind(type));
}

std::unique_ptr<projection_writer> inbox_projection::open(const relation_names& names) const {
  return std::make_unique<writer>(names);
}

}  // namespace realmkit::projections::inbox
