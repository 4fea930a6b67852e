#include "projections/analytics/fact_writer.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "domain/activity/activity_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/lead/lead_events.hpp"
#include "domain/pipeline/pipeline_events.hpp"
#include "domain/user/user_events.hpp"
#include "infra/event_codec.hpp"
#include "infra/json/json_time.hpp"
#include "projections/analytics/analytics_schema.hpp"
#include "projections/support/statement_batch.hpp"

namespace realmkit::projections::analytics {

namespace sql = infra::sql;
using support::append_json_string;

namespace {

using std::int64_t;
using opt_text = std::optional<std::string>;
using opt_instant = std::optional<int64_t>;  // microseconds since the epoch

constexpr int64_t kMicrosPerSecond = 1'000'000;
// Cache bounds: past them a cache is dropped after the flush and read back on demand. Activities
// rarely change once logged, so few are kept.
constexpr std::size_t kMaxDeals = 200'000;
constexpr std::size_t kMaxLeads = 200'000;
constexpr std::size_t kMaxActivities = 20'000;

// ---- time

int64_t micros(domain::timestamp t) {
  return t.time_since_epoch().count();
}

// The event's own time; the recording time for events that carry none.
int64_t event_time(domain::timestamp at, const infra::recorded_event& e) {
  return at == domain::timestamp{} ? micros(e.recorded_at) : micros(at);
}

domain::date day_of(int64_t us) {
  return std::chrono::floor<std::chrono::days>(domain::timestamp{std::chrono::microseconds{us}});
}

// Times are formatted as infra/json/json_time.hpp writes them, without printf: a rebuild formats
// several per event.
void put_digits(char* out, std::int64_t value, int count) {
  for (int i = count - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

std::string date_text(domain::date d) {
  const std::chrono::year_month_day ymd{d};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) throw std::out_of_range("analytics: a date outside 0000-9999");
  std::string out(10, '-');
  put_digits(&out[0], year, 4);
  put_digits(&out[5], static_cast<unsigned>(ymd.month()), 2);
  put_digits(&out[8], static_cast<unsigned>(ymd.day()), 2);
  return out;
}

// "2026-11-27T12:00:00.000000Z"
std::string instant_text(int64_t us) {
  const auto day = day_of(us);
  int64_t of_day =
      us - std::chrono::duration_cast<std::chrono::microseconds>(day.time_since_epoch()).count();
  std::string out = date_text(day);
  out.resize(27);
  out[10] = 'T';
  put_digits(&out[11], of_day / (3600 * kMicrosPerSecond), 2);
  of_day %= 3600 * kMicrosPerSecond;
  out[13] = ':';
  put_digits(&out[14], of_day / (60 * kMicrosPerSecond), 2);
  of_day %= 60 * kMicrosPerSecond;
  out[16] = ':';
  put_digits(&out[17], of_day / kMicrosPerSecond, 2);
  out[19] = '.';
  put_digits(&out[20], of_day % kMicrosPerSecond, 6);
  out[26] = 'Z';
  return out;
}

// The Monday starting the ISO week of a day.
std::string week_text(domain::date d) {
  const std::chrono::weekday wd{d};
  return date_text(d - std::chrono::days{wd.iso_encoding() - 1});
}

std::string month_text(domain::date d) {
  return date_text(d).substr(0, 7);
}

std::string quarter_text(domain::date d) {
  const std::chrono::year_month_day ymd{d};
  const unsigned month = static_cast<unsigned>(ymd.month());
  return date_text(d).substr(0, 4) + "-Q" + std::to_string((month - 1) / 3 + 1);
}

int64_t seconds_between(int64_t from_us, int64_t to_us) {
  // Clocks of different writers may disagree a little; a stay never lasts less than nothing.
  return std::max<int64_t>(0, (to_us - from_us) / kMicrosPerSecond);
}

// Columns read back as text in the form written, whatever the session's time zone.
std::string instant_column(sql::dialect d, std::string_view column) {
  if (d == sql::dialect::postgres) {
    return "to_char(" + std::string(column) +
           " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
  }
  return std::string(column);
}

std::string day_column(sql::dialect d, std::string_view column) {
  if (d == sql::dialect::postgres) return "to_char(" + std::string(column) + ", 'YYYY-MM-DD')";
  return std::string(column);
}

opt_instant read_instant(const sql::row& r, std::size_t i) {
  const auto text = r.optional_text(i);
  if (!text) return std::nullopt;
  const auto t = infra::parse_timestamp(*text);
  if (!t) throw sql::error("analytics: unreadable time '" + *text + "'", false);
  return micros(*t);
}

std::optional<domain::date> read_day(const sql::row& r, std::size_t i) {
  const auto text = r.optional_text(i);
  if (!text) return std::nullopt;
  const auto d = infra::parse_date(*text);
  if (!d) throw sql::error("analytics: unreadable date '" + *text + "'", false);
  return *d;
}

// ---- values

// Rows per PostgreSQL bulk statement: per-statement costs vanish, the JSON stays a few megabytes.
constexpr std::size_t kRowsPerStatement = 2'000;

sql::value text_or_null(const opt_text& s) {
  return s ? sql::value(*s) : sql::null();
}
sql::value instant_or_null(const opt_instant& t) {
  return t ? sql::value(instant_text(*t)) : sql::null();
}
sql::value day_or_null(const std::optional<domain::date>& d) {
  return d ? sql::value(date_text(*d)) : sql::null();
}

std::string upsert_sql(const std::string& table, std::initializer_list<std::string_view> columns,
                       std::size_t key_columns) {
  std::string names;
  std::string params;
  std::string updates;
  std::string keys;
  std::size_t i = 0;
  for (const auto& c : columns) {
    if (i) {
      names += ", ";
      params += ", ";
    }
    names += c;
    params += "$" + std::to_string(i + 1);
    if (i < key_columns) {
      if (!keys.empty()) keys += ", ";
      keys += c;
    } else {
      if (!updates.empty()) updates += ", ";
      updates += std::string(c) + " = excluded." + std::string(c);
    }
    ++i;
  }
  return "INSERT INTO " + table + " (" + names + ") VALUES (" + params + ") ON CONFLICT (" + keys +
         ") DO UPDATE SET " + updates;
}

// ---- facts held in memory

struct stay {
  int64_t seq = 0;
  std::string stage;
  std::string owner;
  opt_text team;
  int64_t entered_at = 0;
  opt_instant left_at;
  std::string exit;  // empty while the deal is still in the stage, else moved / won / lost
  std::string to_stage;
  bool advanced = false;
  bool dirty = false;

  std::optional<int64_t> duration() const {
    if (!left_at) return std::nullopt;
    return seconds_between(entered_at, *left_at);
  }
};

struct deal_fact {
  bool exists = false;
  std::string pipeline;
  std::string stage;
  int64_t stage_entered_at = 0;
  std::string owner;
  opt_text team;
  std::string currency;
  int64_t value = 0;
  int64_t created_at = 0;
  std::optional<domain::date> close_date;
  std::optional<domain::date> first_close_date;
  int64_t slips = 0;
  int64_t slip_days = 0;
  std::string status = "open";
  opt_instant closed_at;
  int64_t reopened = 0;
  bool archived = false;
  opt_text lead;
  std::vector<stay> stays;
  bool dirty = false;

  std::optional<int64_t> cycle_seconds() const {
    if (!closed_at) return std::nullopt;
    return seconds_between(created_at, *closed_at);
  }
};

struct lead_fact {
  bool exists = false;
  std::string owner;
  opt_text team;
  std::string source;
  int64_t created_at = 0;
  opt_instant contacted_at;
  opt_instant qualified_at;
  opt_instant disqualified_at;
  opt_instant converted_at;
  std::string status = "new";
  opt_text deal;
  opt_text deal_status;
  bool dirty = false;
};

struct activity_fact {
  bool exists = false;
  std::string kind;
  std::string user;
  opt_text team;
  std::string subject_kind;
  std::string subject_id;
  int64_t occurred_at = 0;
  std::optional<int64_t> minutes;
  bool deleted = false;
  bool dirty = false;
};

struct stage_fact {
  std::string name;
  int64_t probability = 0;
  bool removed = false;
};

struct pipeline_fact {
  bool exists = false;
  std::vector<std::string> order;            // stages in the pipeline, in order
  std::map<std::string, stage_fact> stages;  // also removed ones
  bool dirty = false;

  std::optional<std::size_t> position_of(const std::string& stage) const {
    const auto it = std::find(order.begin(), order.end(), stage);
    if (it == order.end()) return std::nullopt;
    return static_cast<std::size_t>(it - order.begin());
  }
};

struct user_fact {
  bool exists = false;
  opt_text team;
  bool dirty = false;
};

// Rows of one kind, by id. `complete`: every row of the generation is here, so a miss means the
// row does not exist.
template <class T>
struct cache {
  std::unordered_map<std::string, T> rows;
  std::vector<std::string> dirty;
  bool complete = false;

  void mark(const std::string& id, T& row) {
    if (!row.dirty) {
      row.dirty = true;
      dirty.push_back(id);
    }
  }
  void clear() {
    rows.clear();
    dirty.clear();
  }
};

// ---- maintained analytics (SQLite)

using rollup_key = std::vector<sql::value>;
using stage_key = std::pair<std::string, std::string>;  // pipeline, stage

// What one fact adds to the maintained analytics.
struct contribution {
  std::vector<std::tuple<std::size_t, rollup_key, std::vector<int64_t>>> sums;
  std::vector<std::pair<stage_key, int64_t>> durations;  // completed stays
};

// The parts of the maintained analytics a deal counts in.
constexpr unsigned kWinRatePart = 1;
constexpr unsigned kConversionPart = 2;
constexpr unsigned kDurationPart = 4;
constexpr unsigned kAllParts = kWinRatePart | kConversionPart | kDurationPart;

// The completed stays of one stage, to compute the 90th percentile.
struct duration_bucket {
  std::vector<int64_t> seconds;
  int64_t total = 0;
};

std::size_t rollup_index(std::string_view relation) {
  const auto all = rollups();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].relation == relation) return i;
  }
  throw std::logic_error("no rollup for " + std::string(relation));
}

}  // namespace

class fact_writer::impl {
 public:
  explicit impl(const relation_names& names)
      : names_(names),
        win_rates_(rollup_index(kWinRates)),
        conversion_(rollup_index(kConversion)),
        funnel_(rollup_index(kFunnel)),
        activity_counts_(rollup_index(kActivityCounts)),
        deltas_(rollups().size()) {}

  void apply(const infra::recorded_event& e, apply_context& ctx) {
    if (!started_) start(ctx);
    db_ = &ctx.db;
    const auto kind = infra::event_kind(e.type);
    if (kind.starts_with("deal.")) {
      on_deal(e, infra::decode_event<domain::deal_event>(e));
    } else if (kind.starts_with("lead.")) {
      on_lead(e, infra::decode_event<domain::lead_event>(e));
    } else if (kind.starts_with("activity.")) {
      on_activity(infra::decode_event<domain::activity_event>(e));
    } else if (kind.starts_with("pipeline.")) {
      on_pipeline(infra::decode_event<domain::pipeline_event>(e));
    } else if (kind.starts_with("user.")) {
      on_user(infra::decode_event<domain::user_event>(e));
    } else {
      return;
    }
    changed_position_ = e.global_position;
  }

  void flush(apply_context& ctx) {
    if (!started_) return;  // nothing applied
    db_ = &ctx.db;
    write_users();
    write_pipelines();
    write_deals();
    write_leads();
    write_activities();
    if (maintain_) write_rollups();
    if (changed_position_) {
      // Only the position: a rebuild writes exactly what live projection wrote.
      const sql::value params[] = {*changed_position_};
      ctx.db.execute("INSERT INTO " + table(kChanges) +
                         " (id, position) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET "
                         "position = excluded.position",
                     params);
      changed_position_.reset();
    }
    evict();
  }

  void discard() noexcept {
    users_.clear();
    pipelines_.clear();
    deals_.clear();
    leads_.clear();
    activities_.clear();
    open_by_owner_.clear();
    lead_of_deal_.clear();
    for (auto& d : deltas_) d.clear();
    buckets_.clear();
    dirty_buckets_.clear();
    changed_position_.reset();
    // What was committed is no longer all in memory: from now on a miss reads the tables.
    started_ = false;
    tainted_ = true;
  }

 private:
  void start(apply_context& ctx) {
    started_ = true;
    const bool complete = ctx.fresh && !tainted_;
    users_.complete = pipelines_.complete = deals_.complete = leads_.complete =
        activities_.complete = complete;
    lead_index_complete_ = complete;
    buckets_complete_ = complete;
    maintain_ = ctx.db.dialect() == sql::dialect::sqlite;
  }

  std::string table(std::string_view relation) const { return sql::identifier(names_(relation)); }
  sql::dialect dialect() const { return db_->dialect(); }

  // ---- loading

  user_fact& user(const std::string& id) {
    auto it = users_.rows.find(id);
    if (it != users_.rows.end()) return it->second;
    user_fact u;
    if (!users_.complete) {
      const sql::value key[] = {id};
      const auto rows =
          db_->query("SELECT team_id FROM " + table(kUsers) + " WHERE user_id = $1", key);
      if (!rows.empty()) {
        u.exists = true;
        u.team = rows[0].optional_text(0);
      }
    }
    return users_.rows.emplace(id, std::move(u)).first->second;
  }

  opt_text team_of(const std::string& user_id) { return user(user_id).team; }

  pipeline_fact& pipeline(const std::string& id) {
    auto it = pipelines_.rows.find(id);
    if (it != pipelines_.rows.end()) return it->second;
    pipeline_fact p;
    if (!pipelines_.complete) {
      const sql::value key[] = {id};
      const auto rows = db_->query("SELECT stage_id, name, position, probability, removed FROM " +
                                       table(kStages) + " WHERE pipeline_id = $1",
                                   key);
      std::vector<std::pair<int64_t, std::string>> ordered;
      for (const auto& r : rows) {
        p.exists = true;
        const auto stage = r.text(0);
        p.stages[stage] = stage_fact{r.text(1), r.integer(3), r.integer(4) != 0};
        if (const auto position = r.optional_integer(2)) ordered.emplace_back(*position, stage);
      }
      std::sort(ordered.begin(), ordered.end());
      for (auto& [position, stage] : ordered) p.order.push_back(std::move(stage));
    }
    return pipelines_.rows.emplace(id, std::move(p)).first->second;
  }

  deal_fact& deal(const std::string& id) {
    auto it = deals_.rows.find(id);
    if (it != deals_.rows.end()) return it->second;
    deal_fact d;
    if (!deals_.complete) load_deal(id, d);
    auto& stored = deals_.rows.emplace(id, std::move(d)).first->second;
    index(id, stored);
    return stored;
  }

  void load_deal(const std::string& id, deal_fact& d) {
    const auto dl = dialect();
    const sql::value key[] = {id};
    const auto rows = db_->query(
        "SELECT pipeline_id, stage_id, " + instant_column(dl, "stage_entered_at") +
            ", owner_id, team_id, currency, value_minor, " + instant_column(dl, "created_at") +
            ", " + day_column(dl, "expected_close_date") + ", " +
            day_column(dl, "first_close_date") + ", slips, slip_days, status, " +
            instant_column(dl, "closed_at") + ", reopened, archived, lead_id FROM " +
            table(kDeals) + " WHERE deal_id = $1",
        key);
    if (rows.empty()) return;
    const auto& r = rows[0];
    d.exists = true;
    d.pipeline = r.text(0);
    d.stage = r.text(1);
    d.stage_entered_at = *read_instant(r, 2);
    d.owner = r.text(3);
    d.team = r.optional_text(4);
    d.currency = r.text(5);
    d.value = r.integer(6);
    d.created_at = *read_instant(r, 7);
    d.close_date = read_day(r, 8);
    d.first_close_date = read_day(r, 9);
    d.slips = r.integer(10);
    d.slip_days = r.integer(11);
    d.status = r.text(12);
    d.closed_at = read_instant(r, 13);
    d.reopened = r.integer(14);
    d.archived = r.integer(15) != 0;
    d.lead = r.optional_text(16);
    for (const auto& s : db_->query(
             "SELECT seq, stage_id, owner_id, team_id, " + instant_column(dl, "entered_at") + ", " +
                 instant_column(dl, "left_at") + ", exit, to_stage_id, advanced FROM " +
                 table(kStays) + " WHERE deal_id = $1 ORDER BY seq",
             key)) {
      stay st;
      st.seq = s.integer(0);
      st.stage = s.text(1);
      st.owner = s.text(2);
      st.team = s.optional_text(3);
      st.entered_at = *read_instant(s, 4);
      st.left_at = read_instant(s, 5);
      st.exit = s.text(6);
      st.to_stage = s.text(7);
      st.advanced = s.integer(8) != 0;
      d.stays.push_back(std::move(st));
    }
  }

  lead_fact& lead(const std::string& id) {
    auto it = leads_.rows.find(id);
    if (it != leads_.rows.end()) return it->second;
    lead_fact l;
    if (!leads_.complete) {
      const auto dl = dialect();
      const sql::value key[] = {id};
      const auto rows = db_->query(
          "SELECT owner_id, team_id, source, " + instant_column(dl, "created_at") + ", " +
              instant_column(dl, "contacted_at") + ", " + instant_column(dl, "qualified_at") +
              ", " + instant_column(dl, "disqualified_at") + ", " +
              instant_column(dl, "converted_at") + ", status, deal_id, deal_status FROM " +
              table(kLeads) + " WHERE lead_id = $1",
          key);
      if (!rows.empty()) {
        const auto& r = rows[0];
        l.exists = true;
        l.owner = r.text(0);
        l.team = r.optional_text(1);
        l.source = r.text(2);
        l.created_at = *read_instant(r, 3);
        l.contacted_at = read_instant(r, 4);
        l.qualified_at = read_instant(r, 5);
        l.disqualified_at = read_instant(r, 6);
        l.converted_at = read_instant(r, 7);
        l.status = r.text(8);
        l.deal = r.optional_text(9);
        l.deal_status = r.optional_text(10);
        if (l.deal) lead_of_deal_[*l.deal] = id;
      }
    }
    return leads_.rows.emplace(id, std::move(l)).first->second;
  }

  activity_fact& activity(const std::string& id) {
    auto it = activities_.rows.find(id);
    if (it != activities_.rows.end()) return it->second;
    activity_fact a;
    if (!activities_.complete) {
      const sql::value key[] = {id};
      const auto rows = db_->query("SELECT kind, user_id, team_id, subject_kind, subject_id, " +
                                       instant_column(dialect(), "occurred_at") +
                                       ", duration_minutes, deleted FROM " + table(kActivities) +
                                       " WHERE activity_id = $1",
                                   key);
      if (!rows.empty()) {
        const auto& r = rows[0];
        a.exists = true;
        a.kind = r.text(0);
        a.user = r.text(1);
        a.team = r.optional_text(2);
        a.subject_kind = r.text(3);
        a.subject_id = r.text(4);
        a.occurred_at = *read_instant(r, 5);
        a.minutes = r.optional_integer(6);
        a.deleted = r.integer(7) != 0;
      }
    }
    return activities_.rows.emplace(id, std::move(a)).first->second;
  }

  // The lead a deal was converted from, if a conversion named it.
  opt_text lead_of_deal(const std::string& deal_id) {
    auto it = lead_of_deal_.find(deal_id);
    if (it != lead_of_deal_.end()) return it->second;
    opt_text found;
    if (!lead_index_complete_) {
      const sql::value key[] = {deal_id};
      const auto rows =
          db_->query("SELECT lead_id FROM " + table(kLeads) + " WHERE deal_id = $1", key);
      if (!rows.empty()) found = rows[0].text(0);
    }
    lead_of_deal_.emplace(deal_id, found);
    return found;
  }

  // A row for a record's creation event. The store creates each stream once, so a row not in
  // the cache is not looked for in the tables.
  template <class T>
  static T& new_row(cache<T>& c, const std::string& id, std::string_view what) {
    auto [it, inserted] = c.rows.try_emplace(id);
    if (!inserted && it->second.exists) {
      throw std::runtime_error("analytics: " + std::string(what) + " " + id + " created twice");
    }
    return it->second;
  }

  // Open deals owned by a user, all loaded into the cache.
  std::vector<std::string> open_deals_of(const std::string& user_id) {
    if (!deals_.complete) {
      const sql::value key[] = {user_id};
      for (const auto& r : db_->query(
               "SELECT deal_id FROM " + table(kDeals) + " WHERE owner_id = $1 AND status = 'open'",
               key)) {
        deal(r.text(0));  // cached rows win over the table's older copy
      }
    }
    const auto it = open_by_owner_.find(user_id);
    if (it == open_by_owner_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }

  void index(const std::string& id, const deal_fact& d) {
    if (d.exists && d.status == "open") open_by_owner_[d.owner].insert(id);
  }
  void unindex(const std::string& id, const std::string& owner) {
    const auto it = open_by_owner_.find(owner);
    if (it == open_by_owner_.end()) return;
    it->second.erase(id);
    if (it->second.empty()) open_by_owner_.erase(it);
  }

  // ---- contributions to the maintained analytics

  contribution of(const deal_fact& d, unsigned parts) const {
    contribution c;
    if (!d.exists || d.archived) return c;
    if ((parts & kWinRatePart) && (d.status == "won" || d.status == "lost") && d.closed_at) {
      const bool won = d.status == "won";
      const auto day = day_of(*d.closed_at);
      c.sums.emplace_back(win_rates_,
                          rollup_key{date_text(day), quarter_text(day), d.pipeline, d.owner,
                                     text_or_null(d.team), d.currency},
                          std::vector<int64_t>{won ? 1 : 0, won ? 0 : 1, won ? d.value : 0,
                                               won ? d.cycle_seconds().value_or(0) : 0});
    }
    // The stages entered, and whether the deal advanced from each (few: a linear search).
    std::vector<std::pair<std::string_view, bool>> stages;
    if (!(parts & (kConversionPart | kDurationPart))) return c;
    for (const auto& s : d.stays) {
      auto it = std::find_if(stages.begin(), stages.end(),
                             [&](const auto& e) { return e.first == s.stage; });
      if (it == stages.end()) it = stages.insert(stages.end(), {s.stage, false});
      it->second = it->second || s.advanced;
      if (const auto seconds = s.duration(); seconds && (parts & kDurationPart)) {
        c.durations.emplace_back(stage_key{d.pipeline, s.stage}, *seconds);
      }
    }
    if (!(parts & kConversionPart)) return c;
    for (const auto& [stage, advanced] : stages) {
      c.sums.emplace_back(conversion_,
                          rollup_key{d.pipeline, std::string(stage), d.owner, text_or_null(d.team)},
                          std::vector<int64_t>{1, advanced ? 1 : 0});
    }
    return c;
  }

  contribution of(const lead_fact& l) const {
    contribution c;
    if (!l.exists) return c;
    c.sums.emplace_back(
        funnel_,
        rollup_key{date_text(day_of(l.created_at)), l.owner, text_or_null(l.team), l.source},
        std::vector<int64_t>{1, l.contacted_at ? 1 : 0, l.qualified_at ? 1 : 0,
                             l.status == "disqualified" ? 1 : 0, l.status == "converted" ? 1 : 0,
                             l.deal ? 1 : 0, l.deal_status == "won" ? 1 : 0});
    return c;
  }

  contribution of(const activity_fact& a) const {
    contribution c;
    if (!a.exists || a.deleted) return c;
    const auto day = day_of(a.occurred_at);
    c.sums.emplace_back(
        activity_counts_,
        rollup_key{date_text(day), week_text(day), a.user, text_or_null(a.team), a.kind},
        std::vector<int64_t>{1, a.minutes.value_or(0)});
    return c;
  }

  // Adds `after` and takes away `before`: sums through the deltas, completed stays in their
  // buckets (only those that differ, so that an unrelated change costs nothing there).
  void account(const contribution& before, const contribution& after) {
    auto add = [&](const contribution& c, int64_t sign) {
      for (const auto& [which, key, measures] : c.sums) {
        // Keyed by the key's text: hashing one string is much cheaper than ordering vectors.
        std::string text;
        for (const auto& v : key) {
          if (const auto* t = std::get_if<std::string>(&v)) {
            text += *t;
          } else {
            text += '\x01';  // NULL, which no id contains
          }
          text += '\x1f';
        }
        auto [it, inserted] = deltas_[which].try_emplace(std::move(text));
        auto& [row_key, row] = it->second;
        if (inserted) {
          row_key = key;
          row.assign(measures.size(), 0);
        }
        for (std::size_t i = 0; i < measures.size(); ++i) row[i] += sign * measures[i];
      }
    };
    add(before, -1);
    add(after, 1);
    // Most changes leave the completed stays as they were (listed in the same order).
    if (before.durations == after.durations) return;
    auto removed = before.durations;
    auto added = after.durations;
    std::sort(removed.begin(), removed.end());
    std::sort(added.begin(), added.end());
    std::vector<std::pair<stage_key, int64_t>> gone;
    std::vector<std::pair<stage_key, int64_t>> fresh;
    std::set_difference(removed.begin(), removed.end(), added.begin(), added.end(),
                        std::back_inserter(gone));
    std::set_difference(added.begin(), added.end(), removed.begin(), removed.end(),
                        std::back_inserter(fresh));
    for (const auto& [key, seconds] : gone) {
      auto& b = bucket(key);
      const auto it = std::find(b.seconds.begin(), b.seconds.end(), seconds);
      if (it == b.seconds.end()) {
        throw std::logic_error("analytics: a completed stay of stage " + key.second +
                               " is missing from its durations");
      }
      *it = b.seconds.back();
      b.seconds.pop_back();
      b.total -= seconds;
    }
    for (const auto& [key, seconds] : fresh) {
      auto& b = bucket(key);
      b.seconds.push_back(seconds);
      b.total += seconds;
    }
  }

  duration_bucket& bucket(const stage_key& key) {
    dirty_buckets_.insert(key);
    auto it = buckets_.find(key);
    if (it != buckets_.end()) return it->second;
    duration_bucket b;
    if (!buckets_complete_) {
      // The table holds what the last batch committed; this stage has not changed since.
      const sql::value params[] = {key.first, key.second};
      for (const auto& r : db_->query("SELECT i.duration_seconds FROM " + table(kStays) +
                                          " i JOIN " + table(kDeals) +
                                          " d ON d.deal_id = i.deal_id WHERE i.pipeline_id = $1 "
                                          "AND i.stage_id = $2 AND i.duration_seconds IS NOT "
                                          "NULL AND d.archived = 0",
                                      params)) {
        b.seconds.push_back(r.integer(0));
        b.total += b.seconds.back();
      }
    }
    return buckets_.emplace(key, std::move(b)).first->second;
  }

  // ---- changes

  // `parts`: the maintained analytics the change may move the deal in (none for a new close
  // date or a link to its lead, only the win rates for a new value, ...).
  template <class Change>
  void change_deal(const std::string& id, deal_fact& d, Change&& change,
                   unsigned parts = kAllParts) {
    const std::string status_before = d.status;
    const std::string owner_before = d.owner;
    const bool existed = d.exists;
    const bool counts = maintain_ && parts != 0;
    contribution before;
    if (counts) before = of(d, parts);
    change(d);
    if (d.exists != existed || d.status != status_before || d.owner != owner_before) {
      if (existed && status_before == "open") unindex(id, owner_before);
      index(id, d);
    }
    if (counts) account(before, of(d, parts));
    deals_.mark(id, d);
    if (d.lead && (d.status != status_before || !existed)) sync_lead(*d.lead, d.status);
  }

  template <class Change>
  void change_lead(const std::string& id, lead_fact& l, Change&& change) {
    contribution before;
    if (maintain_) before = of(l);
    change(l);
    if (maintain_) account(before, of(l));
    leads_.mark(id, l);
  }

  template <class Change>
  void change_activity(const std::string& id, activity_fact& a, Change&& change) {
    contribution before;
    if (maintain_) before = of(a);
    change(a);
    if (maintain_) account(before, of(a));
    activities_.mark(id, a);
  }

  void sync_lead(const std::string& lead_id, const std::string& deal_status) {
    auto& l = lead(lead_id);
    if (!l.exists || l.deal_status == deal_status) return;
    change_lead(lead_id, l, [&](lead_fact& x) { x.deal_status = deal_status; });
  }

  deal_fact& existing_deal(const std::string& id, const infra::recorded_event& e) {
    auto& d = deal(id);
    if (!d.exists) {
      throw std::runtime_error("analytics: " + e.type + " for deal " + id +
                               ", which was never created");
    }
    return d;
  }

  static stay* open_stay(deal_fact& d) {
    for (auto it = d.stays.rbegin(); it != d.stays.rend(); ++it) {
      if (!it->left_at) return &*it;
    }
    return nullptr;
  }

  static void leave_stage(deal_fact& d, int64_t at, std::string exit, std::string to_stage,
                          bool advanced) {
    if (auto* s = open_stay(d)) {
      s->left_at = at;
      s->exit = std::move(exit);
      s->to_stage = std::move(to_stage);
      s->advanced = advanced;
      s->dirty = true;
    }
  }

  static void enter_stage(deal_fact& d, const std::string& stage, int64_t at) {
    stay s;
    s.seq = d.stays.empty() ? 1 : d.stays.back().seq + 1;
    s.stage = stage;
    s.owner = d.owner;
    s.team = d.team;
    s.entered_at = at;
    s.dirty = true;
    d.stays.push_back(std::move(s));
    d.stage = stage;
    d.stage_entered_at = at;
  }

  void on_deal(const infra::recorded_event& e, const domain::deal_event& event) {
    std::visit(domain::overloaded{
                   [&](const domain::deal_created& c) {
                     auto& d = new_row(deals_, c.deal.value, "deal");
                     const auto at = event_time(c.at, e);
                     const auto team = team_of(c.owner.value);
                     const auto lead_id = lead_of_deal(c.deal.value);
                     change_deal(c.deal.value, d, [&](deal_fact& x) {
                       x.exists = true;
                       x.pipeline = c.pipeline.value;
                       x.owner = c.owner.value;
                       x.team = team;
                       x.currency = c.value.currency;
                       x.value = c.value.amount_minor;
                       x.created_at = at;
                       x.close_date = x.first_close_date = c.expected_close_date;
                       x.lead = lead_id;
                       enter_stage(x, c.stage.value, at);
                     });
                   },
                   [&](const domain::deal_value_changed& c) {
                     auto& d = existing_deal(c.deal.value, e);
                     change_deal(
                         c.deal.value, d,
                         [&](deal_fact& x) {
                           x.value = c.to.amount_minor;
                           x.currency = c.to.currency;
                         },
                         kWinRatePart);
                   },
                   [&](const domain::deal_stage_moved& m) {
                     auto& d = existing_deal(m.deal.value, e);
                     const auto& p = pipeline(d.pipeline);
                     const auto from = p.position_of(m.from_stage.value);
                     const auto to = p.position_of(m.to_stage.value);
                     // Forward by the pipeline's order when the move happened.
                     const bool forward = from && to && *to > *from;
                     const auto at = event_time(m.at, e);
                     change_deal(
                         m.deal.value, d,
                         [&](deal_fact& x) {
                           leave_stage(x, at, "moved", m.to_stage.value, forward);
                           enter_stage(x, m.to_stage.value, at);
                         },
                         kConversionPart | kDurationPart);
                   },
                   [&](const domain::deal_owner_assigned& a) {
                     auto& d = existing_deal(a.deal.value, e);
                     const auto team = team_of(a.to_owner.value);
                     change_deal(
                         a.deal.value, d,
                         [&](deal_fact& x) {
                           x.owner = a.to_owner.value;
                           x.team = team;
                         },
                         kWinRatePart | kConversionPart);
                   },
                   [&](const domain::deal_close_date_changed& c) {
                     auto& d = existing_deal(c.deal.value, e);
                     change_deal(
                         c.deal.value, d,
                         [&](deal_fact& x) {
                           if (c.from && c.to && *c.to > *c.from) {
                             x.slips += 1;
                             x.slip_days += (*c.to - *c.from).count();
                           }
                           x.close_date = c.to;
                           if (!x.first_close_date) x.first_close_date = c.to;
                         },
                         0);
                   },
                   [&](const domain::deal_won& w) {
                     auto& d = existing_deal(w.deal.value, e);
                     const auto at = event_time(w.at, e);
                     const auto team = team_of(d.owner);
                     change_deal(w.deal.value, d, [&](deal_fact& x) {
                       leave_stage(x, at, "won", "", true);
                       x.status = "won";
                       x.closed_at = at;
                       x.team = team;
                     });
                   },
                   [&](const domain::deal_lost& l) {
                     auto& d = existing_deal(l.deal.value, e);
                     const auto at = event_time(l.at, e);
                     const auto team = team_of(d.owner);
                     change_deal(l.deal.value, d, [&](deal_fact& x) {
                       leave_stage(x, at, "lost", "", false);
                       x.status = "lost";
                       x.closed_at = at;
                       x.team = team;
                     });
                   },
                   [&](const domain::deal_reopened& r) {
                     auto& d = existing_deal(r.deal.value, e);
                     const auto at = event_time(r.at, e);
                     const auto team = team_of(d.owner);
                     change_deal(r.deal.value, d, [&](deal_fact& x) {
                       x.status = "open";
                       x.closed_at.reset();
                       x.reopened += 1;
                       x.team = team;
                       enter_stage(x, r.stage.value, at);
                     });
                   },
                   [&](const domain::deal_archived& a) {
                     auto& d = existing_deal(a.deal.value, e);
                     change_deal(a.deal.value, d, [](deal_fact& x) { x.archived = true; });
                   },
                   [&](const domain::deal_restored& r) {
                     auto& d = existing_deal(r.deal.value, e);
                     change_deal(r.deal.value, d, [](deal_fact& x) { x.archived = false; });
                   },
                   [](const auto&) {},
               },
               event);
  }

  void on_lead(const infra::recorded_event& e, const domain::lead_event& event) {
    auto existing = [&](const std::string& id) -> lead_fact& {
      auto& l = lead(id);
      if (!l.exists) {
        throw std::runtime_error("analytics: " + e.type + " for lead " + id +
                                 ", which was never created");
      }
      return l;
    };
    std::visit(domain::overloaded{
                   [&](const domain::lead_created& c) {
                     auto& l = new_row(leads_, c.lead.value, "lead");
                     const auto team = team_of(c.owner.value);
                     change_lead(c.lead.value, l, [&](lead_fact& x) {
                       x.exists = true;
                       x.owner = c.owner.value;
                       x.team = team;
                       x.source = std::string(to_string(c.source));
                       // lead.created carries no time of its own.
                       x.created_at = micros(e.recorded_at);
                       x.status = "new";
                     });
                   },
                   [&](const domain::lead_owner_assigned& a) {
                     auto& l = existing(a.lead.value);
                     const auto team = team_of(a.to_owner.value);
                     change_lead(a.lead.value, l, [&](lead_fact& x) {
                       x.owner = a.to_owner.value;
                       x.team = team;
                     });
                   },
                   [&](const domain::lead_contacted& c) {
                     change_lead(c.lead.value, existing(c.lead.value), [&](lead_fact& x) {
                       if (!x.contacted_at) x.contacted_at = event_time(c.at, e);
                       x.status = "contacted";
                     });
                   },
                   [&](const domain::lead_qualified& q) {
                     change_lead(q.lead.value, existing(q.lead.value), [&](lead_fact& x) {
                       if (!x.qualified_at) x.qualified_at = event_time(q.at, e);
                       x.status = "qualified";
                     });
                   },
                   [&](const domain::lead_disqualified& d) {
                     change_lead(d.lead.value, existing(d.lead.value), [&](lead_fact& x) {
                       x.disqualified_at = event_time(d.at, e);
                       x.status = "disqualified";
                     });
                   },
                   [&](const domain::lead_reopened& r) {
                     change_lead(r.lead.value, existing(r.lead.value), [&](lead_fact& x) {
                       x.disqualified_at.reset();
                       x.status = "contacted";
                     });
                   },
                   [&](const domain::lead_converted& c) {
                     auto& l = existing(c.lead.value);
                     opt_text deal_status;
                     if (c.deal) {
                       lead_of_deal_[c.deal->value] = c.lead.value;
                       auto& d = deal(c.deal->value);
                       // The deal may be appended after the conversion; deal.created then links it.
                       if (d.exists) {
                         deal_status = d.status;
                         change_deal(
                             c.deal->value, d, [&](deal_fact& x) { x.lead = c.lead.value; }, 0);
                       }
                     }
                     change_lead(c.lead.value, l, [&](lead_fact& x) {
                       x.status = "converted";
                       x.converted_at = event_time(c.at, e);
                       if (c.deal) x.deal = c.deal->value;
                       x.deal_status = deal_status;
                     });
                   },
                   [](const auto&) {},
               },
               event);
  }

  void on_activity(const domain::activity_event& event) {
    std::visit(domain::overloaded{
                   [&](const domain::activity_logged& l) {
                     auto& a = new_row(activities_, l.activity.value, "activity");
                     const auto team = team_of(l.owner.value);
                     change_activity(l.activity.value, a, [&](activity_fact& x) {
                       x.exists = true;
                       x.kind = std::string(to_string(l.type));
                       x.user = l.owner.value;
                       x.team = team;
                       x.subject_kind = std::string(to_string(l.subject.kind));
                       x.subject_id = l.subject.id;
                       x.occurred_at = micros(l.occurred_at);
                       x.minutes = l.duration_minutes;
                     });
                   },
                   [&](const domain::activity_edited& ed) {
                     auto& a = activity(ed.activity.value);
                     if (!a.exists)
                       throw std::runtime_error("analytics: edit of an unknown activity");
                     change_activity(ed.activity.value, a, [&](activity_fact& x) {
                       x.occurred_at = micros(ed.occurred_at);
                       x.minutes = ed.duration_minutes;
                     });
                   },
                   [&](const domain::activity_deleted& d) {
                     auto& a = activity(d.activity.value);
                     if (!a.exists) {
                       throw std::runtime_error("analytics: deletion of an unknown activity");
                     }
                     change_activity(d.activity.value, a,
                                     [](activity_fact& x) { x.deleted = true; });
                   },
                   [&](const domain::activity_relinked& r) {
                     auto& a = activity(r.activity.value);
                     if (!a.exists) {
                       throw std::runtime_error("analytics: relink of an unknown activity");
                     }
                     change_activity(r.activity.value, a, [&](activity_fact& x) {
                       x.subject_kind = std::string(to_string(r.subject.kind));
                       x.subject_id = r.subject.id;
                     });
                   },
               },
               event);
  }

  void on_pipeline(const domain::pipeline_event& event) {
    auto touch = [&](const domain::pipeline_id& id) -> pipeline_fact& {
      auto& p = pipeline(id.value);
      pipelines_.mark(id.value, p);
      return p;
    };
    std::visit(
        domain::overloaded{
            [&](const domain::pipeline_created& c) {
              auto& p = touch(c.pipeline);
              p.exists = true;
              p.order.clear();
              for (const auto& s : c.stages) {
                p.order.push_back(s.id.value);
                p.stages[s.id.value] = stage_fact{s.name, s.probability, false};
              }
            },
            [&](const domain::pipeline_stage_added& a) {
              auto& p = touch(a.pipeline);
              const auto at = std::min<std::size_t>(
                  static_cast<std::size_t>(std::max(0, a.position)), p.order.size());
              p.order.insert(p.order.begin() + static_cast<std::ptrdiff_t>(at), a.stage.id.value);
              p.stages[a.stage.id.value] = stage_fact{a.stage.name, a.stage.probability, false};
            },
            [&](const domain::pipeline_stage_renamed& r) {
              touch(r.pipeline).stages[r.stage.value].name = r.name;
            },
            [&](const domain::pipeline_stage_probability_changed& c) {
              touch(c.pipeline).stages[c.stage.value].probability = c.probability;
            },
            [&](const domain::pipeline_stages_reordered& r) {
              auto& p = touch(r.pipeline);
              p.order.clear();
              for (const auto& s : r.stage_ids) p.order.push_back(s.value);
            },
            [&](const domain::pipeline_stage_removed& r) {
              auto& p = touch(r.pipeline);
              std::erase(p.order, r.stage.value);
              p.stages[r.stage.value].removed = true;
            },
            [](const auto&) {},
        },
        event);
  }

  void on_user(const domain::user_event& event) {
    auto set_team = [&](const std::string& id, const opt_text& team) {
      auto& u = user(id);
      u.exists = true;
      u.team = team;
      users_.mark(id, u);
      // An open deal belongs to its owner's current team.
      for (const auto& deal_id : open_deals_of(id)) {
        auto& d = deal(deal_id);
        if (d.team == team) continue;
        change_deal(
            deal_id, d, [&](deal_fact& x) { x.team = team; }, kWinRatePart | kConversionPart);
      }
    };
    std::visit(domain::overloaded{
                   [&](const domain::user_registered& r) {
                     set_team(r.user.value, r.team ? opt_text(r.team->value) : std::nullopt);
                   },
                   [&](const domain::user_team_changed& c) {
                     set_team(c.user.value, c.to ? opt_text(c.to->value) : std::nullopt);
                   },
                   [](const auto&) {},
               },
               event);
  }

  // ---- writing

  // Inserts or replaces rows of a fact table (columns in the table's order, the first `keys`
  // its primary key). PostgreSQL takes a few thousand rows per statement as one JSON parameter,
  // planned once; SQLite, in process, runs a prepared upsert per row.
  void write_rows(std::string_view relation, std::size_t keys,
                  const std::vector<std::vector<sql::value>>& rows) {
    if (rows.empty()) return;
    const auto columns = fact_columns(relation);
    std::string names;
    std::string updates;
    std::string conflict;
    std::string params;
    std::string definitions;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const std::string name(columns[i].name);
      names += (i ? ", " : "") + name;
      params += (i ? ", $" : "$") + std::to_string(i + 1);
      definitions += (i ? ", " : "") + name + " " + std::string(columns[i].postgres_type);
      if (i < keys) {
        conflict += (i ? ", " : "") + name;
      } else {
        updates += (updates.empty() ? "" : ", ") + name + " = excluded." + name;
      }
    }
    const std::string head = "INSERT INTO " + table(relation) + " (" + names + ") ";
    const std::string tail = " ON CONFLICT (" + conflict + ") DO UPDATE SET " + updates;
    if (dialect() != sql::dialect::postgres) {
      db_->execute_many(head + "VALUES (" + params + ")" + tail, rows);
      return;
    }
    const std::string bulk = head + "SELECT " + names + " FROM json_to_recordset($1::json) AS x(" +
                             definitions + ")" + tail;
    for (std::size_t from = 0; from < rows.size(); from += kRowsPerStatement) {
      const auto to = std::min(rows.size(), from + kRowsPerStatement);
      std::string json = "[";
      for (std::size_t r = from; r < to; ++r) {
        json += r == from ? "{" : ",{";
        for (std::size_t i = 0; i < columns.size(); ++i) {
          if (i) json += ',';
          append_json_string(json, columns[i].name);
          json += ':';
          const auto& v = rows[r][i];
          if (const auto* n = std::get_if<int64_t>(&v)) {
            json += std::to_string(*n);
          } else if (const auto* t = std::get_if<std::string>(&v)) {
            append_json_string(json, *t);
          } else {
            json += "null";
          }
        }
        json += '}';
      }
      json += ']';
      const sql::value param[] = {std::move(json)};
      db_->execute(bulk, param);
    }
  }

  void write_users() {
    if (users_.dirty.empty()) return;
    std::vector<std::vector<sql::value>> rows;
    for (const auto& id : users_.dirty) {
      auto& u = users_.rows.at(id);
      u.dirty = false;
      rows.push_back({id, text_or_null(u.team)});
    }
    users_.dirty.clear();
    write_rows(kUsers, 1, rows);
  }

  void write_pipelines() {
    if (pipelines_.dirty.empty()) return;
    std::vector<std::vector<sql::value>> rows;
    for (const auto& id : pipelines_.dirty) {
      auto& p = pipelines_.rows.at(id);
      p.dirty = false;
      for (const auto& [stage, s] : p.stages) {
        const auto position = p.position_of(stage);
        rows.push_back({id, stage, s.name,
                        position ? sql::value(static_cast<int64_t>(*position)) : sql::null(),
                        s.probability, sql::boolean(s.removed)});
      }
    }
    pipelines_.dirty.clear();
    write_rows(kStages, 2, rows);
  }

  void write_deals() {
    if (deals_.dirty.empty()) return;
    std::vector<std::vector<sql::value>> deal_rows;
    std::vector<std::vector<sql::value>> stay_rows;
    for (const auto& id : deals_.dirty) {
      auto& d = deals_.rows.at(id);
      d.dirty = false;
      const auto created = day_of(d.created_at);
      std::optional<domain::date> closed;
      if (d.closed_at) closed = day_of(*d.closed_at);
      const auto cycle = d.cycle_seconds();
      deal_rows.push_back({id,
                           d.pipeline,
                           d.stage,
                           instant_text(d.stage_entered_at),
                           d.owner,
                           text_or_null(d.team),
                           d.currency,
                           d.value,
                           instant_text(d.created_at),
                           date_text(created),
                           day_or_null(d.close_date),
                           d.close_date ? sql::value(month_text(*d.close_date)) : sql::null(),
                           day_or_null(d.first_close_date),
                           d.slips,
                           d.slip_days,
                           d.status,
                           instant_or_null(d.closed_at),
                           day_or_null(closed),
                           closed ? sql::value(quarter_text(*closed)) : sql::null(),
                           cycle ? sql::value(*cycle) : sql::null(),
                           d.reopened,
                           sql::boolean(d.archived),
                           text_or_null(d.lead)});
      for (auto& s : d.stays) {
        if (!s.dirty) continue;
        s.dirty = false;
        const auto duration = s.duration();
        stay_rows.push_back({id, s.seq, d.pipeline, s.stage, s.owner, text_or_null(s.team),
                             instant_text(s.entered_at), instant_or_null(s.left_at),
                             s.left_at ? sql::value(date_text(day_of(*s.left_at))) : sql::null(),
                             duration ? sql::value(*duration) : sql::null(),
                             s.exit.empty() ? sql::null() : sql::value(s.exit),
                             s.to_stage.empty() ? sql::null() : sql::value(s.to_stage),
                             sql::boolean(s.advanced)});
      }
    }
    deals_.dirty.clear();
    write_rows(kDeals, 1, deal_rows);
    write_rows(kStays, 2, stay_rows);
  }

  void write_leads() {
    if (leads_.dirty.empty()) return;
    std::vector<std::vector<sql::value>> rows;
    for (const auto& id : leads_.dirty) {
      auto& l = leads_.rows.at(id);
      l.dirty = false;
      rows.push_back({id, l.owner, text_or_null(l.team), l.source, instant_text(l.created_at),
                      date_text(day_of(l.created_at)), instant_or_null(l.contacted_at),
                      instant_or_null(l.qualified_at), instant_or_null(l.disqualified_at),
                      instant_or_null(l.converted_at), l.status, text_or_null(l.deal),
                      text_or_null(l.deal_status), sql::boolean(l.deal_status == "won")});
    }
    leads_.dirty.clear();
    write_rows(kLeads, 1, rows);
  }

  void write_activities() {
    if (activities_.dirty.empty()) return;
    std::vector<std::vector<sql::value>> rows;
    for (const auto& id : activities_.dirty) {
      auto& a = activities_.rows.at(id);
      a.dirty = false;
      const auto day = day_of(a.occurred_at);
      rows.push_back({id, a.kind, a.user, text_or_null(a.team), a.subject_kind, a.subject_id,
                      instant_text(a.occurred_at), date_text(day), week_text(day),
                      a.minutes ? sql::value(*a.minutes) : sql::null(), sql::boolean(a.deleted)});
    }
    activities_.dirty.clear();
    write_rows(kActivities, 1, rows);
  }

  void write_rollups() {
    const auto specs = rollups();
    for (std::size_t which = 0; which < specs.size(); ++which) {
      auto& deltas = deltas_[which];
      if (deltas.empty()) continue;
      const auto& spec = specs[which];
      const std::string t = table(spec.relation);
      std::string update = "UPDATE " + t + " SET ";
      std::string where;
      std::string insert = "INSERT INTO " + t + " (";
      std::string values;
      std::size_t n = 0;
      for (std::size_t i = 0; i < spec.measures.size(); ++i) {
        const std::string m(spec.measures[i]);
        update += (i ? ", " : "") + m + " = " + m + " + $" + std::to_string(++n);
      }
      for (std::size_t i = 0; i < spec.keys.size(); ++i) {
        where +=
            (i ? " AND " : " WHERE ") + std::string(spec.keys[i]) + " IS $" + std::to_string(++n);
      }
      update += where;
      std::string remove = "DELETE FROM " + t;
      for (std::size_t i = 0; i < spec.keys.size(); ++i) {
        remove +=
            (i ? " AND " : " WHERE ") + std::string(spec.keys[i]) + " IS $" + std::to_string(i + 1);
      }
      for (const auto c : spec.counts) remove += " AND " + std::string(spec.measures[c]) + " = 0";
      std::size_t column = 0;
      for (const auto& k : spec.keys) {
        insert += (column ? ", " : "") + std::string(k);
        values += (column ? ", $" : "$") + std::to_string(column + 1);
        ++column;
      }
      for (const auto& m : spec.measures) {
        insert += ", " + std::string(m);
        values += ", $" + std::to_string(++column);
      }
      insert += ") VALUES (" + values + ")";
      for (const auto& [text, entry] : deltas) {
        const auto& [key, delta] = entry;
        if (std::all_of(delta.begin(), delta.end(), [](int64_t v) { return v == 0; })) continue;
        std::vector<sql::value> params(delta.begin(), delta.end());
        params.insert(params.end(), key.begin(), key.end());
        if (db_->execute(update, params) == 0) {
          std::vector<sql::value> row(key.begin(), key.end());
          row.insert(row.end(), delta.begin(), delta.end());
          db_->execute(insert, row);
        } else if (std::any_of(spec.counts.begin(), spec.counts.end(),
                               [&](std::size_t c) { return delta[c] < 0; })) {
          db_->execute(remove, key);
        }
      }
      deltas.clear();
    }
    if (dirty_buckets_.empty()) return;
    const std::string t = table(kStageDurations);
    for (const auto& key : dirty_buckets_) {
      auto& b = buckets_.at(key);
      if (b.seconds.empty()) {
        const sql::value params[] = {key.first, key.second};
        db_->execute("DELETE FROM " + t + " WHERE pipeline_id = $1 AND stage_id = $2", params);
        continue;
      }
      const auto n = static_cast<int64_t>(b.seconds.size());
      // Nearest rank: the ceil(0.9 n)-th smallest.
      const auto rank = static_cast<std::size_t>((9 * n + 9) / 10 - 1);
      std::nth_element(b.seconds.begin(), b.seconds.begin() + static_cast<std::ptrdiff_t>(rank),
                       b.seconds.end());
      const sql::value params[] = {key.first, key.second, n, b.total, b.total / n, b.seconds[rank]};
      db_->execute(upsert_sql(t,
                              {"pipeline_id", "stage_id", "stays", "total_seconds", "avg_seconds",
                               "p90_seconds"},
                              2),
                   params);
    }
    dirty_buckets_.clear();
  }

  // Caches past their bound are dropped once written; their rows are read back when needed.
  void evict() {
    if (deals_.rows.size() > kMaxDeals) {
      deals_.clear();
      deals_.complete = false;
      open_by_owner_.clear();
    }
    if (leads_.rows.size() > kMaxLeads) {
      leads_.clear();
      leads_.complete = false;
      lead_of_deal_.clear();
      lead_index_complete_ = false;
    }
    if (activities_.rows.size() > kMaxActivities) {
      activities_.clear();
      activities_.complete = false;
    }
  }

  relation_names names_;
  std::size_t win_rates_;
  std::size_t conversion_;
  std::size_t funnel_;
  std::size_t activity_counts_;

  bool started_ = false;
  bool tainted_ = false;
  bool maintain_ = false;       // SQLite: the writer maintains the history analytics
  sql::session* db_ = nullptr;  // the batch's session, while applying or flushing

  cache<user_fact> users_;
  cache<pipeline_fact> pipelines_;
  cache<deal_fact> deals_;
  cache<lead_fact> leads_;
  cache<activity_fact> activities_;
  std::unordered_map<std::string, std::unordered_set<std::string>> open_by_owner_;
  std::unordered_map<std::string, opt_text> lead_of_deal_;
  bool lead_index_complete_ = false;

  // By rollups() index, then by the key's text: the key and the sums to add.
  std::vector<std::unordered_map<std::string, std::pair<rollup_key, std::vector<int64_t>>>> deltas_;
  std::map<stage_key, duration_bucket> buckets_;
  std::set<stage_key> dirty_buckets_;
  bool buckets_complete_ = false;

  std::optional<int64_t> changed_position_;
};

fact_writer::fact_writer(const relation_names& names) : impl_(std::make_unique<impl>(names)) {}
fact_writer::~fact_writer() = default;

void fact_writer::apply(const infra::recorded_event& event, apply_context& ctx) {
  impl_->apply(event, ctx);
}
void fact_writer::flush(apply_context& ctx) {
  impl_->flush(ctx);
}
void fact_writer::discard() noexcept {
  impl_->discard();
}

}  // namespace realmkit::projections::analytics
