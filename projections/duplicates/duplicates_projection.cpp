#include "projections/duplicates/duplicates_projection.hpp"

#include <unordered_map>

#include "domain/contact/contact_matching.hpp"
#include "domain/contact/contact_state.hpp"
#include "infra/event_codec.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::duplicates {
namespace {

namespace sql = infra::sql;
using namespace domain;

// States kept between batches; beyond it they are dropped after a flush and read back from
// their rows when needed.
constexpr std::size_t kMaxCachedStates = 50'000;

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

class writer final : public projection_writer {
 public:
  explicit writer(const relation_names& names)
      : contacts_(sql::identifier(names("rm_contact_match"))),
        keys_(sql::identifier(names("rm_contact_match_keys"))) {}

  void apply(const infra::recorded_event& e, apply_context& ctx) override {
    const auto event = infra::decode_event<contact_event>(e);
    const auto id = std::visit([](const auto& v) { return v.contact.value; }, event);
    auto& cached = state_of(id, ctx);
    cached.state = evolve(std::move(cached.state), event);
    cached.dirty = true;
  }

  void flush(apply_context& ctx) override {
    for (auto& [id, cached] : cache_) {
      if (!cached.dirty) continue;
      cached.dirty = false;
      write(id, cached);
    }
    batch_.run(ctx.db);
    if (cache_.size() > kMaxCachedStates) {
      cache_.clear();
      forgot_ = true;
    }
  }

  void discard() noexcept override {
    batch_.clear();
    cache_.clear();
    forgot_ = true;
  }

 private:
  struct cached_state {
    contact_state state;
    bool dirty = false;
    bool stored = false;  // its row exists: a rebuild's first write has nothing to delete
  };

  cached_state& state_of(const std::string& id, apply_context& ctx) {
    if (const auto it = cache_.find(id); it != cache_.end()) return it->second;
    cached_state loaded;
    // A generation this writer started empty, and of which it forgot nothing, has no row this
    // cache lacks.
    if (!(ctx.fresh && !forgot_)) {
      const sql::value params[] = {id};
      const auto rows =
          ctx.db.query("SELECT doc FROM " + contacts_ + " WHERE contact_id = $1", params);
      if (!rows.empty()) {
        loaded.state = infra::from_json<contact_state>(rows.front().text(0));
        loaded.stored = true;
      }
    }
    return cache_.emplace(id, std::move(loaded)).first->second;
  }

  void write(const std::string& id, cached_state& cached) {
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
  support::statement_batch batch_;
  std::unordered_map<std::string, cached_state> cache_;
  bool forgot_ = false;  // states were dropped from the cache: a miss must look at the rows
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
