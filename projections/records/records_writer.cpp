#include "projections/records/records_writer.hpp"

#include <functional>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "domain/activity/activity_state.hpp"
#include "domain/company/company_state.hpp"
#include "domain/contact/contact_state.hpp"
#include "domain/deal/deal_state.hpp"
#include "domain/lead/lead_state.hpp"
#include "domain/pipeline/pipeline_state.hpp"
#include "domain/task/task_state.hpp"
#include "domain/team/team_state.hpp"
#include "domain/user/user_state.hpp"
#include "infra/event_codec.hpp"
#include "infra/json/json_time.hpp"
#include "projections/records/records_schema.hpp"
#include "projections/records/row_upsert.hpp"

namespace realmkit::projections::records {
namespace {

namespace sql = infra::sql;
using namespace domain;

std::int64_t micros(timestamp t) {
  return t.time_since_epoch().count();
}

sql::value optional_id(const auto& id) {
  if (!id) return sql::null();
  return id->value;
}

sql::value optional_micros(const std::optional<timestamp>& t) {
  if (!t) return sql::null();
  return micros(*t);
}

// ---- per kind: its relation, the name it sorts by and the values of its own columns, in the
// order records_schema.cpp lists them ----

template <class Aggregate>
struct kind;

template <>
struct kind<user_aggregate> {
  static constexpr std::string_view kRelation = kUsers;
  static std::string name(const user_state& s) { return s.display_name; }
  static void values(const user_state& s, std::vector<sql::value>& out) {
    out.emplace_back(s.email);
    out.emplace_back(std::string(to_string(s.role)));
    out.push_back(optional_id(s.team));
    out.push_back(sql::boolean(s.active));
    out.emplace_back(std::string(s.active ? "active" : "inactive"));
  }
};

template <>
struct kind<team_aggregate> {
  static constexpr std::string_view kRelation = kTeams;
  static std::string name(const team_state& s) { return s.name; }
  static void values(const team_state& s, std::vector<sql::value>& out) {
    out.push_back(sql::boolean(s.archived));
    out.push_back(optional_id(s.manager));
  }
};

template <>
struct kind<company_aggregate> {
  static constexpr std::string_view kRelation = kCompanies;
  static std::string name(const company_state& s) { return s.name; }
  static void values(const company_state& s, std::vector<sql::value>& out) {
    out.emplace_back(s.owner.value);
    out.push_back(sql::boolean(s.archived));
    out.emplace_back(s.domain);
  }
};

template <>
struct kind<contact_aggregate> {
  static constexpr std::string_view kRelation = kContacts;
  static std::string name(const contact_state& s) { return s.last_name + " " + s.first_name; }
  static void values(const contact_state& s, std::vector<sql::value>& out) {
    out.emplace_back(s.owner.value);
    // A merged or erased contact leaves lists as an archived one does.
    out.push_back(sql::boolean(s.archived || s.merged_into.has_value() || s.erased));
    out.push_back(optional_id(s.merged_into));
    out.push_back(optional_id(s.company));
  }
};

template <>
struct kind<lead_aggregate> {
  static constexpr std::string_view kRelation = kLeads;
  static std::string name(const lead_state& s) { return s.name; }
  static void values(const lead_state& s, std::vector<sql::value>& out) {
    out.emplace_back(s.owner.value);
    out.emplace_back(std::string(to_string(s.status)));
    out.emplace_back(std::string(to_string(s.source)));
    out.push_back(s.score ? sql::value(std::int64_t{*s.score}) : sql::null());
  }
};

template <>
struct kind<pipeline_aggregate> {
  static constexpr std::string_view kRelation = kPipelines;
  static std::string name(const pipeline_state& s) { return s.name; }
  static void values(const pipeline_state& s, std::vector<sql::value>& out) {
    out.push_back(sql::boolean(s.archived));
  }
};

template <>
struct kind<deal_aggregate> {
  static constexpr std::string_view kRelation = kDeals;
  static std::string name(const deal_state& s) { return s.title; }
  static void values(const deal_state& s, std::vector<sql::value>& out) {
    out.emplace_back(s.owner.value);
    out.emplace_back(std::string(to_string(s.status)));
    out.push_back(sql::boolean(s.archived));
    out.emplace_back(s.pipeline.value);
    out.emplace_back(s.stage.value);
    out.emplace_back(s.value.amount_minor);
    out.emplace_back(s.value.currency);
    std::optional<std::string> close;
    if (s.expected_close_date) close = infra::format_date(*s.expected_close_date);
    out.push_back(close ? sql::value(std::move(*close)) : sql::null());
    out.push_back(optional_micros(s.closed_at));
    out.push_back(optional_id(s.company));
  }
};

template <>
struct kind<activity_aggregate> {
  static constexpr std::string_view kRelation = kActivities;
  static std::string name(const activity_state& s) { return s.summary; }
  static void values(const activity_state& s, std::vector<sql::value>& out) {
    out.emplace_back(s.owner.value);
    out.emplace_back(std::string(to_string(s.type)));
    out.emplace_back(std::string(to_string(s.subject.kind)));
    out.emplace_back(s.subject.id);
    out.emplace_back(micros(s.occurred_at));
    out.push_back(sql::boolean(s.deleted));
  }
};

template <>
struct kind<task_aggregate> {
  static constexpr std::string_view kRelation = kTasks;
  static std::string name(const task_state& s) { return s.title; }
  static void values(const task_state& s, std::vector<sql::value>& out) {
    out.emplace_back(s.assignee.value);
    out.emplace_back(std::string(s.done ? "done" : "open"));
    out.push_back(s.link ? sql::value(std::string(to_string(s.link->kind))) : sql::null());
    out.push_back(s.link ? sql::value(s.link->id) : sql::null());
    out.push_back(optional_micros(s.due_at));
    out.emplace_back(std::string(to_string(s.priority)));
    out.push_back(sql::boolean(s.deleted));
  }
};

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Where the writer stands on the rows of its generation.
struct cache_scope {
  // Every row of the generation went through this writer and each is either cached or named in
  // a table's evicted set: a record found in neither has no row. False once anything was dropped
  // without being named (discard, or eviction while following the log).
  bool complete = true;
};

// The cached states of one kind of record, and their rows.
template <class Aggregate>
class record_table {
 public:
  using state_type = typename Aggregate::state;
  static constexpr bool kUsers = std::is_same_v<Aggregate, user_aggregate>;

  explicit record_table(const relation_names& names)
      : relation_(relation_named(kind<Aggregate>::kRelation)),
        table_(names(relation_.name)),
        upsert_(relation_, table_, "id") {
    if constexpr (kUsers) {
      credentials_table_ = names(kCredentials);
      credentials_upsert_.emplace(credentials_relation(), credentials_table_, "user_id");
      load_ =
          "SELECT u.version, u.position, u.created_at, u.updated_at, u.doc, c.password_hash, "
          "c.email_position FROM " +
          sql::identifier(table_) + " u LEFT JOIN " + sql::identifier(credentials_table_) +
          " c ON c.user_id = u.id WHERE u.id = $1";
    } else {
      load_ = "SELECT version, position, created_at, updated_at, doc FROM " +
              sql::identifier(table_) + " WHERE id = $1";
    }
  }

  static constexpr std::string_view aggregate_category() { return Aggregate::kCategory; }
  std::size_t size() const { return rows_.size(); }
  std::size_t evicted() const { return evicted_.size(); }

  void apply(std::string_view id, const infra::recorded_event& event, apply_context& ctx,
             const cache_scope& scope) {
    auto decoded = infra::decode_event<typename Aggregate::event>(event);
    auto it = rows_.find(id);
    if (it == rows_.end()) {
      entry fresh;
      bool look = !(ctx.fresh && scope.complete);
      if (!look && !evicted_.empty()) {
        if (auto e = evicted_.find(id); e != evicted_.end()) {
          evicted_.erase(e);
          look = true;
        }
      }
      if (!look || !load(id, ctx, fresh)) fresh.created_at = micros(event.recorded_at);
      it = rows_.emplace(std::string(id), std::move(fresh)).first;
    }
    entry& e = it->second;
    if constexpr (kUsers) {
      if (std::holds_alternative<user_registered>(decoded) ||
          std::holds_alternative<user_email_changed>(decoded)) {
        e.email_position = event.global_position;
      }
    }
    e.state = evolve(std::move(e.state), decoded);
    if (!e.state.exists) {
      // Events before a record's creation (none the command side writes): forgetting them now,
      // however batches fall, keeps a rebuild equal to live projection.
      if (!e.dirty) rows_.erase(it);
      return;
    }
    e.version = event.stream_version;
    e.position = event.global_position;
    e.updated_at = micros(event.recorded_at);
    if (!e.dirty) {
      e.dirty = true;
      dirty_.push_back(&*it);
    }
  }

  void flush(sql::session& db) {
    if (dirty_.empty()) return;
    std::vector<std::vector<sql::value>> rows;
    std::vector<row_upsert::change> changes;
    std::vector<std::vector<sql::value>> credentials;
    std::vector<row_upsert::change> credential_changes;
    rows.reserve(dirty_.size());
    if constexpr (kUsers) credentials.reserve(dirty_.size());
    for (auto* item : dirty_) {
      const auto& [id, e] = *item;
      std::vector<sql::value> row;
      row.reserve(relation_.columns.size());
      row.emplace_back(id);
      row.emplace_back(e.version);
      row.emplace_back(e.position);
      row.emplace_back(e.created_at);
      row.emplace_back(e.updated_at);
      row.emplace_back(rules::folded(kind<Aggregate>::name(e.state)));
      kind<Aggregate>::values(e.state, row);
      if constexpr (kUsers) {
        // The hash stays out of the relation analysts may read.
        auto shown = e.state;
        shown.password_hash.clear();
        row.emplace_back(infra::to_json(shown));
        credentials.push_back({id, e.state.email, e.email_position, e.state.password_hash});
      } else {
        row.emplace_back(infra::to_json(e.state));
      }
      if (row.size() != relation_.columns.size()) {
        throw std::logic_error("records: the values of " + std::string(relation_.name) +
                               " do not match its columns");
      }
      rows.push_back(std::move(row));
    }
    // Pointers into `rows` are taken once it stops growing.
    for (std::size_t i = 0; i < dirty_.size(); ++i) {
      const auto& e = dirty_[i]->second;
      changes.push_back({&rows[i], e.was(), &e.written});
      if constexpr (kUsers) {
        credential_changes.push_back(
            {&credentials[i],
             e.stored ? row_upsert::change::before::unknown : row_upsert::change::before::none,
             nullptr});
      }
    }
    upsert_.write(db, changes);
    if constexpr (kUsers) credentials_upsert_->write(db, credential_changes);
    for (std::size_t i = 0; i < dirty_.size(); ++i) {
      auto& e = dirty_[i]->second;
      e.dirty = false;
      e.stored = true;
      // What the row's indexed columns now hold; the doc is never compared, so not kept.
      e.written = std::move(rows[i]);
      e.written.back() = sql::null();
    }
    dirty_.clear();
  }

  // Drops every (clean) state; `remember`: name each in the evicted set.
  void evict(bool remember) {
    if (remember) {
      for (auto& [id, e] : rows_) evicted_.insert(id);
    } else {
      evicted_.clear();
    }
    rows_.clear();
  }

  void forget() noexcept {
    dirty_.clear();
    rows_.clear();
    evicted_.clear();
  }

 private:
  struct entry {
    state_type state;
    std::int64_t version = 0;
    std::int64_t position = 0;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::int64_t email_position = 0;  // users: the event that gave the address
    bool dirty = false;
    bool stored = false;              // the generation has a row for it
    std::vector<sql::value> written;  // its columns as last written here (empty: not known)

    row_upsert::change::before was() const {
      using before = row_upsert::change::before;
      if (!stored) return before::none;
      return written.empty() ? before::unknown : before::known;
    }
  };
  using map = std::unordered_map<std::string, entry, string_hash, std::equal_to<>>;

  bool load(std::string_view id, apply_context& ctx, entry& out) {
    const sql::value key[] = {std::string(id)};
    const auto found = ctx.db.query(load_, key);
    if (found.empty()) return false;
    const auto& r = found.front();
    out.version = r.integer(0);
    out.position = r.integer(1);
    out.created_at = r.integer(2);
    out.updated_at = r.integer(3);
    out.state = infra::from_json<state_type>(r.text(4));
    out.stored = true;
    if constexpr (kUsers) {
      out.state.password_hash = r.text(5);
      out.email_position = r.optional_integer(6).value_or(0);
    }
    return true;
  }

  const record_relation& relation_;
  std::string table_;
  row_upsert upsert_;
  std::string load_;
  std::string credentials_table_;
  std::optional<row_upsert> credentials_upsert_;
  map rows_;
  std::vector<typename map::value_type*> dirty_;  // node addresses stay valid across inserts
  std::unordered_set<std::string, string_hash, std::equal_to<>> evicted_;
};

class records_writer final : public projection_writer {
 public:
  records_writer(const relation_names& names, const records_options& options)
      : options_(options),
        tables_(record_table<user_aggregate>(names), record_table<team_aggregate>(names),
                record_table<company_aggregate>(names), record_table<contact_aggregate>(names),
                record_table<lead_aggregate>(names), record_table<pipeline_aggregate>(names),
                record_table<deal_aggregate>(names), record_table<activity_aggregate>(names),
                record_table<task_aggregate>(names)) {}

  void apply(const infra::recorded_event& event, apply_context& ctx) override {
    const std::string_view stream = event.stream_id;
    const auto dash = stream.find('-');
    if (dash == std::string_view::npos) return;
    const auto category = stream.substr(0, dash);
    const auto id = stream.substr(dash + 1);
    std::apply(
        [&](auto&... table) {
          (void)((category == std::remove_reference_t<decltype(table)>::aggregate_category()
                      ? (table.apply(id, event, ctx, scope_), true)
                      : false) ||
                 ...);
        },
        tables_);
  }

  void flush(apply_context& ctx) override {
    std::size_t cached = 0;
    std::size_t evicted = 0;
    std::apply(
        [&](auto&... table) {
          (table.flush(ctx.db), ...);
          cached = (table.size() + ...);
          evicted = (table.evicted() + ...);
        },
        tables_);
    const bool rebuilding = ctx.mode == apply_mode::rebuild;
    const auto limit = rebuilding ? options_.rebuild_cache_entries : options_.live_cache_entries;
    if (cached <= limit) return;
    // Every state is clean now. A writer that relies on "not cached: no row" names what it drops
    // while it can; after that, dropped records are looked up when they come back.
    const bool remember =
        ctx.fresh && scope_.complete && evicted + cached <= options_.remembered_ids;
    std::apply([&](auto&... table) { (table.evict(remember), ...); }, tables_);
    if (!remember) scope_.complete = false;
  }

  void discard() noexcept override {
    std::apply([](auto&... table) { (table.forget(), ...); }, tables_);
    scope_.complete = false;
  }

 private:
  records_options options_;
  cache_scope scope_;
  std::tuple<record_table<user_aggregate>, record_table<team_aggregate>,
             record_table<company_aggregate>, record_table<contact_aggregate>,
             record_table<lead_aggregate>, record_table<pipeline_aggregate>,
             record_table<deal_aggregate>, record_table<activity_aggregate>,
             record_table<task_aggregate>>
      tables_;
};

}  // namespace

std::unique_ptr<projection_writer> open_records_writer(const relation_names& names,
                                                       const records_options& options) {
  return std::make_unique<records_writer>(names, options);
}

}  // namespace realmkit::projections::records
