#include "projections/merges/merge_links_projection.hpp"

#include "domain/activity/activity_events.hpp"
#include "domain/contact/contact_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/task/task_events.hpp"
#include "infra/event_codec.hpp"
#include "infra/event_metadata.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::merges {
namespace {

namespace sql = infra::sql;
using namespace domain;

constexpr std::string_view kHandled[] = {
    activity_logged::kType,       activity_relinked::kType,     task_created::kType,
    task_relinked::kType,         deal_created::kType,          deal_contact_linked::kType,
    deal_contact_unlinked::kType, deal_contact_relinked::kType, contact_merged_into::kType,
};

class writer final : public projection_writer {
 public:
  explicit writer(const relation_names& names)
      : refs_(sql::identifier(names("rm_contact_refs"))),
        merges_(sql::identifier(names("rm_contact_merges"))) {}

  void apply(const infra::recorded_event& e, apply_context&) override {
    const auto category = std::string_view(e.type).substr(0, e.type.find('.'));
    if (category == "activity") {
      std::visit(
          overloaded{
              [&](const activity_logged& a) { add(a.subject, "activity", a.activity.value); },
              [&](const activity_relinked& a) {
                remove(a.from, "activity", a.activity.value);
                add(a.subject, "activity", a.activity.value);
              },
              [](const auto&) {},
          },
          infra::decode_event<activity_event>(e));
    } else if (category == "task") {
      std::visit(overloaded{
                     [&](const task_created& t) {
                       if (t.link) add(*t.link, "task", t.task.value);
                     },
                     [&](const task_relinked& t) {
                       remove(t.from, "task", t.task.value);
                       add(t.link, "task", t.task.value);
                     },
                     [](const auto&) {},
                 },
                 infra::decode_event<task_event>(e));
    } else if (category == "deal") {
      std::visit(
          overloaded{
              [&](const deal_created& d) {
                for (const auto& c : d.contacts) add(c.value, "deal", d.deal.value);
              },
              [&](const deal_contact_linked& d) { add(d.contact.value, "deal", d.deal.value); },
              [&](const deal_contact_unlinked& d) {
                remove(d.contact.value, "deal", d.deal.value);
              },
              [&](const deal_contact_relinked& d) {
                remove(d.from.value, "deal", d.deal.value);
                add(d.contact.value, "deal", d.deal.value);
              },
              [](const auto&) {},
          },
          infra::decode_event<deal_event>(e));
    } else if (category == "contact") {
      const auto event = infra::decode_event<contact_event>(e);
      if (const auto* m = std::get_if<contact_merged_into>(&event)) merged(*m, e);
    }
  }

  void flush(apply_context& ctx) override { batch_.run(ctx.db); }
  void discard() noexcept override { batch_.clear(); }

 private:
  void add(const entity_ref& ref, std::string_view kind, const std::string& item) {
    if (ref.kind == entity_kind::contact) add(ref.id, kind, item);
  }
  void add(const std::string& contact, std::string_view kind, const std::string& item) {
    batch_.add("INSERT INTO " + refs_ +
                   " (contact_id, item_kind, item_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
               {contact, std::string(kind), item});
  }
  void remove(const entity_ref& ref, std::string_view kind, const std::string& item) {
    if (ref.kind == entity_kind::contact) remove(ref.id, kind, item);
  }
  void remove(const std::string& contact, std::string_view kind, const std::string& item) {
    batch_.add(
        "DELETE FROM " + refs_ + " WHERE contact_id = $1 AND item_kind = $2 AND item_id = $3",
        {contact, std::string(kind), item});
  }

  // A survivor is live when merged into (the domain refuses a merged one), so whoever was merged
  // into the duplicate earlier now stands for this survivor: one step from any contact to it.
  void merged(const contact_merged_into& m, const infra::recorded_event& e) {
    const auto meta = infra::decode_metadata(e.metadata);
    batch_.add("UPDATE " + merges_ + " SET survivor_id = $2 WHERE survivor_id = $1",
               {m.contact.value, m.survivor.value});
    batch_.add("INSERT INTO " + merges_ +
                   " (contact_id, survivor_id, position, event_id, correlation_id, actor_id) "
                   "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (contact_id) DO UPDATE SET "
                   "survivor_id = excluded.survivor_id, position = excluded.position, event_id = "
                   "excluded.event_id, correlation_id = excluded.correlation_id, actor_id = "
                   "excluded.actor_id",
               {m.contact.value, m.survivor.value, e.global_position, e.event_id,
                meta.correlation_id, meta.actor});
  }

  std::string refs_;
  std::string merges_;
  support::statement_batch batch_;
};

}  // namespace

std::vector<std::string> merge_links_projection::relations() const {
  return {"rm_contact_refs", "rm_contact_merges"};
}

void merge_links_projection::create(sql::session& db, const relation_names& names) const {
  const auto refs = names("rm_contact_refs");
  const auto merges = names("rm_contact_merges");
  db.exec_script("CREATE TABLE " + sql::identifier(refs) +
                 " (contact_id TEXT NOT NULL, item_kind TEXT NOT NULL, item_id TEXT NOT NULL, "
                 "PRIMARY KEY (contact_id, item_kind, item_id))");
  db.exec_script("CREATE TABLE " + sql::identifier(merges) +
                 " (contact_id TEXT PRIMARY KEY, survivor_id TEXT NOT NULL, position BIGINT NOT "
                 "NULL, event_id TEXT NOT NULL, correlation_id TEXT NOT NULL, actor_id TEXT NOT "
                 "NULL)");
  // A later merge of a survivor moves everything that stood for it.
  db.exec_script("CREATE INDEX " + sql::identifier(merges + "_by_survivor") + " ON " +
                 sql::identifier(merges) + " (survivor_id)");
  db.exec_script("CREATE INDEX " + sql::identifier(merges + "_by_position") + " ON " +
                 sql::identifier(merges) + " (position)");
}

bool merge_links_projection::handles(std::string_view event_type) const {
  for (const auto type : kHandled) {
    if (type == event_type) return true;
  }
  return false;
}

std::unique_ptr<projection_writer> merge_links_projection::open(const relation_names& names) const {
  return std::make_unique<writer>(names);
}

std::vector<pending_relink> pending_relinks(sql::session& db, std::size_t limit) {
  const sql::value params[] = {static_cast<std::int64_t>(limit)};
  // Merges are few beside references: walk them oldest first and look up what each still owes.
  const auto rows = db.query(
      "SELECT r.item_kind, r.item_id, r.contact_id, m.survivor_id, m.event_id, m.correlation_id, "
      "m.actor_id, m.position FROM rm_contact_merges m JOIN rm_contact_refs r ON r.contact_id = "
      "m.contact_id ORDER BY m.position, r.item_kind, r.item_id LIMIT $1",
      params);
  std::vector<pending_relink> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6),
                   r.integer(7)});
  }
  return out;
}

}  // namespace realmkit::projections::merges
