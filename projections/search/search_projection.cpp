#include "projections/search/search_projection.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "domain/company/company_events.hpp"
#include "domain/contact/contact_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/lead/lead_events.hpp"
#include "infra/event_codec.hpp"
#include "projections/search/search_document.hpp"
#include "projections/support/statement_batch.hpp"
#include "projections/support/user_table.hpp"

namespace realmkit::projections::search {
namespace {

namespace sql = infra::sql;
using namespace domain;

constexpr std::size_t kMaxCachedDocuments = 100'000;
constexpr std::size_t kLookupChunk = 500;

using record_event = std::variant<contact_event, company_event, deal_event, lead_event>;

struct pending_event {
  record_event event;
  std::string kind;
  std::string id;
  std::int64_t position = 0;
};

struct cached {
  bool exists = false;
  document doc;
};

std::string key_of(std::string_view kind, std::string_view id) {
  std::string key(kind);
  key += ':';
  key += id;
  return key;
}

std::string record_id(const contact_event& v) {
  return std::visit([](const auto& e) { return e.contact.value; }, v);
}
std::string record_id(const company_event& v) {
  return std::visit([](const auto& e) { return e.company.value; }, v);
}
std::string record_id(const deal_event& v) {
  return std::visit([](const auto& e) { return e.deal.value; }, v);
}
std::string record_id(const lead_event& v) {
  return std::visit([](const auto& e) { return e.lead.value; }, v);
}

void add_unique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

void remove(std::vector<std::string>& list, const std::string& item) {
  list.erase(std::remove(list.begin(), list.end(), item), list.end());
}

void make_first(std::vector<std::string>& list, const std::string& item) {
  remove(list, item);
  list.insert(list.begin(), item);
}

// Contact events change fields of the contact only; the variant holds their types in order.
void fold_contact(document& d, const contact_event& event) {
  std::visit(overloaded{
                 [&](const contact_created& e) {
                   d.first_name = e.first_name;
                   d.last_name = e.last_name;
                   d.job_title = e.title;
                   d.emails.clear();
                   for (const auto& m : e.emails) {
                     if (m.primary) {
                       make_first(d.emails, m.address);
                     } else {
                       add_unique(d.emails, m.address);
                     }
                   }
                   d.phones.clear();
                   for (const auto& p : e.phones) add_unique(d.phones, p.number);
                   d.tags = e.tags;
                   d.owner = e.owner.value;
                 },
                 [&](const contact_updated& e) {
                   if (e.first_name) d.first_name = *e.first_name;
                   if (e.last_name) d.last_name = *e.last_name;
                   if (e.title) d.job_title = *e.title;
                 },
                 [&](const contact_company_changed&) {},
                 [&](const contact_email_added& e) {
                   if (e.email.primary) {
                     make_first(d.emails, e.email.address);
                   } else {
                     add_unique(d.emails, e.email.address);
                   }
                 },
                 [&](const contact_email_removed& e) { remove(d.emails, e.address); },
                 [&](const contact_primary_email_changed& e) { make_first(d.emails, e.to); },
                 [&](const contact_phone_added& e) { add_unique(d.phones, e.phone.number); },
                 [&](const contact_phone_removed& e) { remove(d.phones, e.number); },
                 [&](const contact_owner_assigned& e) { d.owner = e.to_owner.value; },
                 [&](const contact_tagged& e) {
                   for (const auto& t : e.tags) add_unique(d.tags, t);
                 },
                 [&](const contact_untagged& e) {
                   for (const auto& t : e.tags) remove(d.tags, t);
                 },
                 [&](const contact_consent_given&) {},
                 [&](const contact_consent_withdrawn&) {},
                 [&](const contact_archived&) { d.archived = true; },
                 [&](const contact_restored&) { d.archived = false; },
                 [&](const contact_merged& e) {
                   const bool had_email = !d.emails.empty();
                   for (const auto& m : e.emails) {
                     if (m.primary && !had_email) {
                       make_first(d.emails, m.address);
                     } else {
                       add_unique(d.emails, m.address);
                     }
                   }
                   for (const auto& p : e.phones) add_unique(d.phones, p.number);
                   for (const auto& t : e.tags) add_unique(d.tags, t);
                 },
                 [&](const contact_merged_into&) { d.merged = true; },
                 // The person is forgotten: nothing of them is indexed or kept in the document.
                 [&](const contact_erased&) {
                   d.first_name.clear();
                   d.last_name.clear();
                   d.job_title.clear();
                   d.emails.clear();
                   d.phones.clear();
                   d.archived = true;
                 },
             },
             event);
}

void fold_company(document& d, const company_event& event) {
  std::visit(overloaded{
                 [&](const company_created& e) {
                   d.name = e.name;
                   d.domain = e.domain;
                   d.industry = e.industry;
                   d.phone = e.phone;
                   d.city = e.address.city;
                   d.country = e.address.country;
                   d.tags = e.tags;
                   d.owner = e.owner.value;
                 },
                 [&](const company_updated& e) {
                   if (e.name) d.name = *e.name;
                   if (e.domain) d.domain = *e.domain;
                   if (e.industry) d.industry = *e.industry;
                   if (e.phone) d.phone = *e.phone;
                   if (e.address) {
                     d.city = e.address->city;
                     d.country = e.address->country;
                   }
                 },
                 [&](const company_owner_assigned& e) { d.owner = e.to_owner.value; },
                 [&](const company_tagged& e) {
                   for (const auto& t : e.tags) add_unique(d.tags, t);
                 },
                 [&](const company_untagged& e) {
                   for (const auto& t : e.tags) remove(d.tags, t);
                 },
                 [&](const company_archived&) { d.archived = true; },
                 [&](const company_restored&) { d.archived = false; },
             },
             event);
}

void fold_deal(document& d, const deal_event& event) {
  std::visit(
      overloaded{
          [&](const deal_created& e) {
            d.title = e.title;
            d.amount_minor = e.value.amount_minor;
            d.currency = e.value.currency;
            d.status = "open";
            d.owner = e.owner.value;
          },
          [&](const deal_renamed& e) { d.title = e.title; },
          [&](const deal_value_changed& e) {
            d.amount_minor = e.to.amount_minor;
            d.currency = e.to.currency;
          },
          [&](const deal_owner_assigned& e) { d.owner = e.to_owner.value; },
          [&](const deal_won&) { d.status = "won"; }, [&](const deal_lost&) { d.status = "lost"; },
          [&](const deal_reopened&) { d.status = "open"; },
          [&](const deal_archived&) { d.archived = true; },
          [&](const deal_restored&) { d.archived = false; },
          [](const auto&) {},  // stages, links and dates are not searched
      },
      event);
}

void fold_lead(document& d, const lead_event& event) {
  std::visit(overloaded{
                 [&](const lead_created& e) {
                   d.name = e.name;
                   d.email = e.email;
                   d.phone = e.phone;
                   d.company_name = e.company_name;
                   d.status = std::string(to_string(lead_status::fresh));
                   d.owner = e.owner.value;
                 },
                 [&](const lead_updated& e) {
                   if (e.name) d.name = *e.name;
                   if (e.email) d.email = *e.email;
                   if (e.phone) d.phone = *e.phone;
                   if (e.company_name) d.company_name = *e.company_name;
                 },
                 [&](const lead_owner_assigned& e) { d.owner = e.to_owner.value; },
                 [&](const lead_contacted&) { d.status = to_string(lead_status::contacted); },
                 [&](const lead_qualified&) { d.status = to_string(lead_status::qualified); },
                 [&](const lead_disqualified&) { d.status = to_string(lead_status::disqualified); },
                 [&](const lead_reopened&) { d.status = to_string(lead_status::contacted); },
                 [&](const lead_scored&) {},
                 [&](const lead_converted&) { d.status = to_string(lead_status::converted); },
                 [&](const lead_erased&) {
                   d.name.clear();
                   d.email.clear();
                   d.phone.clear();
                   d.archived = true;
                 },
             },
             event);
}

bool creates(const record_event& event) {
  return std::visit(
      [](const auto& v) {
        return std::visit(
            [](const auto& e) {
              using E = std::decay_t<decltype(e)>;
              return std::is_same_v<E, contact_created> || std::is_same_v<E, company_created> ||
                     std::is_same_v<E, deal_created> || std::is_same_v<E, lead_created>;
            },
            v);
      },
      event);
}

class writer final : public projection_writer {
 public:
  explicit writer(const relation_names& names)
      : docs_(sql::identifier(names("rm_search"))),
        fts_(sql::identifier(fts_table(names))),
        users_(names("rm_search_users")) {}

  void apply(const infra::recorded_event& e, apply_context& ctx) override {
    if (!users_.loaded()) {
      if (ctx.fresh) {
        users_.mark_loaded();
      } else {
        users_.load(ctx.db);
      }
    }
    if (support::user_table::handles(e.type)) {
      if (auto moved = users_.apply(e, batch_)) moved_.insert(*moved);
      return;
    }
    pending_event p;
    if (e.type.starts_with("contact.")) {
      p.event = infra::decode_event<contact_event>(e);
      p.kind = "contact";
    } else if (e.type.starts_with("company.")) {
      p.event = infra::decode_event<company_event>(e);
      p.kind = "company";
    } else if (e.type.starts_with("deal.")) {
      p.event = infra::decode_event<deal_event>(e);
      p.kind = "deal";
    } else if (e.type.starts_with("lead.")) {
      p.event = infra::decode_event<lead_event>(e);
      p.kind = "lead";
    } else {
      return;
    }
    p.id = std::visit([](const auto& v) { return record_id(v); }, p.event);
    if (e.type.starts_with("contact.erased.") || e.type.starts_with("lead.erased.")) {
      forgetting_ = true;
    }
    p.position = e.global_position;
    pending_.push_back(std::move(p));
  }

  void flush(apply_context& ctx) override {
    look_up(ctx);
    for (const auto& p : pending_) fold(p);
    pending_.clear();
    batch_.run(ctx.db);
    write_moved_owners(ctx.db);
    write_documents(ctx.db);
    if (forgetting_ && ctx.db.dialect() == sql::dialect::sqlite) {
      // FTS5 records a deletion as a tombstone beside the old terms, which stay in the index's
      // segments until merged: merging them all now leaves no word of an erased person behind.
      ctx.db.exec_script("INSERT INTO " + fts_ + " (" + fts_ + ") VALUES ('optimize')");
    }
    forgetting_ = false;
    if (cache_.size() > kMaxCachedDocuments) {
      cache_.clear();
      complete_ = false;
    }
  }

  void discard() noexcept override {
    forgetting_ = false;
    batch_.clear();
    pending_.clear();
    moved_.clear();
    dirty_.clear();
    cache_.clear();
    complete_ = false;
    users_.forget();
  }

 private:
  void look_up(apply_context& ctx) {
    if (ctx.fresh && complete_) return;
    std::map<std::string, std::vector<std::string>> missing;  // kind → ids
    std::set<std::string> seen;
    for (const auto& p : pending_) {
      const auto key = key_of(p.kind, p.id);
      if (!cache_.contains(key) && seen.insert(key).second) missing[p.kind].push_back(p.id);
    }
    const std::string select = "SELECT kind, id, owner_id, source FROM " + docs_ +
                               " WHERE kind = $1 AND id IN (" +
                               support::key_set(ctx.db.dialect(), 2) + ")";
    for (const auto& [kind, ids] : missing) {
      for (std::size_t from = 0; from < ids.size(); from += kLookupChunk) {
        const std::vector<std::string> chunk(
            ids.begin() + static_cast<std::ptrdiff_t>(from),
            ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), from + kLookupChunk)));
        const sql::value params[] = {kind, support::json_array(chunk)};
        for (const auto& r : ctx.db.query(select, params)) {
          cache_[key_of(r.text(0), r.text(1))] = {
              true, from_source(r.text(0), r.text(1), r.text(2), r.text(3))};
        }
        for (const auto& id : chunk) cache_.try_emplace(key_of(kind, id));
      }
    }
  }

  void fold(const pending_event& p) {
    const auto key = key_of(p.kind, p.id);
    auto& c = cache_[key];
    const auto before = c.doc;
    const bool created = creates(p.event);
    if (created) {
      c.exists = true;
      c.doc = document{};
      c.doc.kind = p.kind;
      c.doc.id = p.id;
    } else if (!c.exists) {
      throw std::runtime_error("the " + p.kind + " event at position " +
                               std::to_string(p.position) + " is for " + p.kind + " " + p.id +
                               ", which was never created");
    }
    std::visit(overloaded{
                   [&](const contact_event& e) { fold_contact(c.doc, e); },
                   [&](const company_event& e) { fold_company(c.doc, e); },
                   [&](const deal_event& e) { fold_deal(c.doc, e); },
                   [&](const lead_event& e) { fold_lead(c.doc, e); },
               },
               p.event);
    // Most events of a record change nothing that is searched: no write, no re-indexing.
    if (created || c.doc != before) dirty_.insert(key);
  }

  static sql::value text_or_null(const std::optional<std::string>& s) {
    return s ? sql::value(*s) : sql::null();
  }

  // A user who changed teams takes their records' visibility along (on SQLite the scope words
  // change with it, and the triggers re-index those records).
  void write_moved_owners(sql::session& db) {
    std::vector<std::vector<sql::value>> rows;
    for (const auto& user : moved_) {
      const auto team = users_.team_of(user);
      rows.push_back({user, text_or_null(team), team_token(team)});
    }
    db.execute_many("UPDATE " + docs_ +
                        " SET owner_team = $2, scope = 'k' || kind || ' ' || $3 WHERE owner_id = "
                        "$1 AND owner_team IS DISTINCT FROM $2",
                    rows);
    moved_.clear();
  }

  void write_documents(sql::session& db) {
    const bool postgres = db.dialect() == sql::dialect::postgres;
    std::vector<std::vector<sql::value>> rows;
    rows.reserve(dirty_.size());
    for (const auto& key : dirty_) {
      const auto& d = cache_.at(key).doc;
      const auto team = users_.team_of(d.owner);
      auto names = name_terms(d);
      auto others = other_terms(d);
      // Only PostgreSQL indexes the prefixes; SQLite's FTS5 keeps prefix indexes of its own.
      auto prefixes = postgres ? prefix_terms(names + " " + others) : std::string();
      rows.push_back({d.kind, d.id, d.owner, text_or_null(team), title_of(d), subtitle_of(d),
                      std::move(names), std::move(others), std::move(prefixes),
                      scope_terms(d.kind, team), sql::boolean(d.indexed()), to_source(d)});
    }
    // On SQLite the triggers of the table keep its FTS5 index in step with these rows.
    db.execute_many("INSERT INTO " + docs_ +
                        " (kind, id, owner_id, owner_team, title, subtitle, name_terms, "
                        "other_terms, prefixes, scope, indexed, source) VALUES ($1, $2, $3, $4, "
                        "$5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (kind, id) DO UPDATE SET "
                        "owner_id = excluded.owner_id, owner_team = excluded.owner_team, title = "
                        "excluded.title, subtitle = excluded.subtitle, name_terms = "
                        "excluded.name_terms, other_terms = excluded.other_terms, prefixes = "
                        "excluded.prefixes, scope = excluded.scope, indexed = excluded.indexed, "
                        "source = excluded.source",
                    rows);
    dirty_.clear();
  }

  std::string docs_;
  std::string fts_;          // SQLite's full-text index of docs_
  bool forgetting_ = false;  // a person was erased in this batch
  support::user_table users_;
  support::statement_batch batch_;
  std::vector<pending_event> pending_;
  std::unordered_map<std::string, cached> cache_;
  bool complete_ = true;
  std::set<std::string> dirty_;
  std::set<std::string> moved_;
};

// The columns every generation's rm_search has, in the order of the stable view.
constexpr std::string_view kColumns =
    "kind, id, owner_id, owner_team, title, subtitle, name_terms, other_terms, prefixes, scope, "
    "indexed, source";

}  // namespace

std::string fts_table(const relation_names& names) {
  return names("rm_search_fts");
}

std::vector<std::string> search_projection::relations() const {
  return {"rm_search", "rm_search_users"};
}

void search_projection::create(sql::session& db, const relation_names& names) const {
  const auto docs = names("rm_search");
  const auto t = sql::identifier(docs);
  support::user_table::create(db, names("rm_search_users"));
  if (db.dialect() == sql::dialect::postgres) {
    db.exec_script(
        "CREATE TABLE " + t +
        " (kind TEXT NOT NULL, id TEXT NOT NULL, owner_id TEXT NOT NULL, owner_team TEXT, title "
        "TEXT NOT NULL, subtitle TEXT NOT NULL, name_terms TEXT NOT NULL, other_terms TEXT NOT "
        "NULL, prefixes TEXT NOT NULL, scope TEXT NOT NULL, indexed BIGINT NOT NULL, source TEXT "
        "NOT NULL, tsv tsvector GENERATED ALWAYS AS (CASE WHEN indexed = 1 THEN "
        "setweight(to_tsvector('simple', name_terms), 'A') || setweight(to_tsvector('simple', "
        "other_terms), 'C') END) STORED, tsp tsvector GENERATED ALWAYS AS (CASE WHEN indexed = 1 "
        "THEN to_tsvector('simple', prefixes) END) STORED, PRIMARY KEY (kind, id))");
    // The words, for prefixes longer than kIndexedPrefix; the short prefixes, matched exactly.
    // Without the pending list (fastupdate) a search never scans unmerged entries: writes pay
    // for the merge instead, once.
    db.exec_script("CREATE INDEX " + sql::identifier(docs + "_tsv") + " ON " + t +
                   " USING GIN (tsv) WITH (fastupdate = off)");
    db.exec_script("CREATE INDEX " + sql::identifier(docs + "_tsp") + " ON " + t +
                   " USING GIN (tsp) WITH (fastupdate = off)");
  } else {
    const auto fts = sql::identifier(fts_table(names));
    db.exec_script("CREATE TABLE " + t +
                   " (doc_id INTEGER PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL, owner_id "
                   "TEXT NOT NULL, owner_team TEXT, title TEXT NOT NULL, subtitle TEXT NOT NULL, "
                   "name_terms TEXT NOT NULL, other_terms TEXT NOT NULL, prefixes TEXT NOT NULL, "
                   "scope TEXT NOT NULL, indexed BIGINT NOT NULL, source TEXT NOT NULL, UNIQUE "
                   "(kind, id))");
    // External content: the index stores no second copy of the text. Prefix indexes of 2, 3 and 4
    // characters answer short prefixes ("an", "ann", "schm") without merging the doclists of
    // every word they start (a quarter more index for a tenth of the time of such searches).
    db.exec_script("CREATE VIRTUAL TABLE " + fts +
                   " USING fts5(name_terms, other_terms, scope, content=" + t +
                   ", content_rowid=doc_id, tokenize='unicode61 remove_diacritics 2', "
                   "prefix='2 3 4')");
    // Every change of an indexed row's words reaches the index, whatever statement made it; the
    // index is told the old words exactly as they were indexed, which external content requires.
    const std::string columns = " (rowid, name_terms, other_terms, scope) ";
    const std::string deleting = " (" + fts + ", rowid, name_terms, other_terms, scope) ";
    db.exec_script("CREATE TRIGGER " + sql::identifier(docs + "_ai") + " AFTER INSERT ON " + t +
                   " WHEN new.indexed = 1 BEGIN INSERT INTO " + fts + columns +
                   "VALUES (new.doc_id, new.name_terms, new.other_terms, new.scope); END");
    db.exec_script("CREATE TRIGGER " + sql::identifier(docs + "_ad") + " AFTER DELETE ON " + t +
                   " WHEN old.indexed = 1 BEGIN INSERT INTO " + fts + deleting +
                   "VALUES ('delete', old.doc_id, old.name_terms, old.other_terms, old.scope); "
                   "END");
    db.exec_script(
        "CREATE TRIGGER " + sql::identifier(docs + "_au") +
        " AFTER UPDATE OF name_terms, other_terms, scope, indexed ON " + t +
        " WHEN old.name_terms IS NOT new.name_terms OR old.other_terms IS NOT new.other_terms OR "
        "old.scope IS NOT new.scope OR old.indexed IS NOT new.indexed BEGIN INSERT INTO " +
        fts + deleting +
        "SELECT 'delete', old.doc_id, old.name_terms, old.other_terms, old.scope WHERE "
        "old.indexed = 1; INSERT INTO " +
        fts + columns +
        "SELECT new.doc_id, new.name_terms, new.other_terms, new.scope WHERE new.indexed = 1; "
        "END");
  }
  // Every record of an owner, for moving them to another team.
  db.exec_script("CREATE INDEX " + sql::identifier(docs + "_owner") + " ON " + t + " (owner_id)");
}

void search_projection::drop(sql::session& db, const relation_names& names) const {
  if (db.dialect() == sql::dialect::sqlite) {
    db.exec_script("DROP TABLE IF EXISTS " + sql::identifier(fts_table(names)));
  }
  projection::drop(db, names);
}

std::string search_projection::view_sql(sql::dialect dialect, std::string_view relation,
                                        const relation_names& names) const {
  // SQLite's doc_id is the FTS5 rowid, numbered in the order rows were first written, which
  // differs between a live generation and its rebuild: the view leaves it out.
  if (dialect == sql::dialect::sqlite && relation == "rm_search") {
    return "SELECT " + std::string(kColumns) + " FROM " + sql::identifier(names(relation));
  }
  return projection::view_sql(dialect, relation, names);
}

bool search_projection::handles(std::string_view type) const {
  // Only the events that change what is searched or who sees it: a deal moving through stages
  // costs the search nothing. Compared without the version, so upcast old types are applied.
  static const std::set<std::string_view> kKinds = [] {
    std::set<std::string_view> out;
    for (const auto type :
         std::initializer_list<std::string_view>{contact_created::kType,
                                                 contact_updated::kType,
                                                 contact_email_added::kType,
                                                 contact_email_removed::kType,
                                                 contact_primary_email_changed::kType,
                                                 contact_phone_added::kType,
                                                 contact_phone_removed::kType,
                                                 contact_owner_assigned::kType,
                                                 contact_tagged::kType,
                                                 contact_untagged::kType,
                                                 contact_archived::kType,
                                                 contact_restored::kType,
                                                 contact_merged::kType,
                                                 contact_merged_into::kType,
                                                 contact_erased::kType,
                                                 company_created::kType,
                                                 company_updated::kType,
                                                 company_owner_assigned::kType,
                                                 company_tagged::kType,
                                                 company_untagged::kType,
                                                 company_archived::kType,
                                                 company_restored::kType,
                                                 deal_created::kType,
                                                 deal_renamed::kType,
                                                 deal_value_changed::kType,
                                                 deal_owner_assigned::kType,
                                                 deal_won::kType,
                                                 deal_lost::kType,
                                                 deal_reopened::kType,
                                                 deal_archived::kType,
                                                 deal_restored::kType,
                                                 lead_created::kType,
                                                 lead_updated::kType,
                                                 lead_owner_assigned::kType,
                                                 lead_contacted::kType,
                                                 lead_qualified::kType,
                                                 lead_disqualified::kType,
                                                 lead_reopened::kType,
                                                 lead_converted::kType,
                                                 lead_erased::kType}) {
      out.insert(infra::event_kind(type));
    }
    return out;
  }();
  return support::user_table::handles(type) || kKinds.contains(infra::event_kind(type));
}

std::unique_ptr<projection_writer> search_projection::open(const relation_names& names) const {
  return std::make_unique<writer>(names);
}

}  // namespace realmkit::projections::search
