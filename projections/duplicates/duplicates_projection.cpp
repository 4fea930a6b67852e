#include "projections/duplicates/duplicates_projection.hpp"

#include "domain/contact/contact_matching.hpp"
#include "domain/contact/contact_state.hpp"
#include "infra/event_codec.hpp"
#include "projections/support/folded_states.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::duplicates {
namespace {

namespace sql = infra::sql;
using namespace domain;

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ' ';
    out += item;
  }
  return out;
}

match_profile profile_of(const contact_state& s) {
  std::vector<std::string> emails;
  for (const auto& e : s.emails) emails.push_back(e.address);
  std::vector<std::string> phones;
  for (const auto& p : s.phones) phones.push_back(p.number);
  return make_match_profile(s.first_name, s.last_name, emails, phones,
                            s.company ? s.company->value : std::string());
}

class writer final : public support::folded_state_writer<contact_aggregate> {
 public:
  explicit writer(const relation_names& names)
      : folded_state_writer(sql::identifier(names("rm_contact_match")), "contact_id"),
        contacts_(sql::identifier(names("rm_contact_match"))),
        keys_(sql::identifier(names("rm_contact_match_keys"))) {}

 private:
  using cached_state = entry;

  std::string id_of(const event& e) const override {
    return std::visit([](const auto& v) { return v.contact.value; }, e);
  }

  void write(const std::string& id, cached_state& cached) override {
    const auto& s = cached.state;
    // Keys exist only beside a row.
    if (cached.stored) batch_.add("DELETE FROM " + keys_ + " WHERE contact_id = $1", {id});
    if (!s.exists || s.erased) {
      // Nothing of an erased person stays: not their keys, not their state.
      if (cached.stored) batch_.add("DELETE FROM " + contacts_ + " WHERE contact_id = $1", {id});
      cached.stored = false;
      return;
    }
    cached.stored = true;
    const auto profile = profile_of(s);
    const bool active = !s.archived && !s.merged_into;
    batch_.add("INSERT INTO " + contacts_ +
                   " (contact_id, owner_id, company_id, name, emails, phones, active, doc) VALUES "
                   "($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (contact_id) DO UPDATE SET "
                   "owner_id = excluded.owner_id, company_id = excluded.company_id, name = "
                   "excluded.name, emails = excluded.emails, phones = excluded.phones, active = "
                   "excluded.active, doc = excluded.doc",
               {id, s.owner.value, s.company ? sql::value(s.company->value) : sql::null(),
                joined(profile.name), joined(profile.emails), joined(profile.phones),
                static_cast<std::int64_t>(active ? 1 : 0), infra::to_json(s)});
    if (!active) return;
    for (const auto& key : match_keys(profile)) {
      batch_.add("INSERT INTO " + keys_ + " (match_key, contact_id) VALUES ($1, $2)", {key, id});
    }
  }

  std::string contacts_;
  std::string keys_;
};

}  // namespace

std::vector<std::string> duplicates_projection::relations() const {
  return {"rm_contact_match", "rm_contact_match_keys"};
}

void duplicates_projection::create(sql::session& db, const relation_names& names) const {
  const auto contacts = names("rm_contact_match");
  const auto keys = names("rm_contact_match_keys");
  db.exec_script("CREATE TABLE " + sql::identifier(contacts) +
                 " (contact_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, company_id TEXT, name "
                 "TEXT NOT NULL, emails TEXT NOT NULL, phones TEXT NOT NULL, active BIGINT NOT "
                 "NULL, doc TEXT NOT NULL)");
  db.exec_script("CREATE TABLE " + sql::identifier(keys) +
                 " (match_key TEXT NOT NULL, contact_id TEXT NOT NULL, PRIMARY KEY (match_key, "
                 "contact_id))");
  // A contact's own keys, replaced whenever it changes.
  db.exec_script("CREATE INDEX " + sql::identifier(keys + "_by_contact") + " ON " +
                 sql::identifier(keys) + " (contact_id)");
}

bool duplicates_projection::handles(std::string_view type) const {
  return type.starts_with("contact.") && infra::can_decode<contact_event>(type);
}

std::unique_ptr<projection_writer> duplicates_projection::open(const relation_names& names) const {
  return std::make_unique<writer>(names);
}

}  // namespace realmkit::projections::duplicates
