// The analytics projection on both backends. A seeded generator plays months of CRM work
// (pipelines changing, deals moving back and forth, won, lost, reopened, slipping, leads through
// the funnel, activities) into the store, and keeps its own plain record of what it did; every
// analytics figure is then checked against the same figure computed here from that record,
// with and without filters, on the materialized views and on the live queries.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "domain/activity/activity_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/lead/lead_events.hpp"
#include "domain/pipeline/pipeline_events.hpp"
#include "domain/user/user_events.hpp"
#include "infra/event_codec.hpp"
#include "infra/event_metadata.hpp"
#include "infra/ids.hpp"
#include "projections/analytics/analytics_projection.hpp"
#include "projections/analytics/analytics_queries.hpp"
#include "projections/analytics/analytics_refresher.hpp"
#include "projections/analytics/analytics_schema.hpp"
#include "tests/projections/projection_env.hpp"
#include "tests/projections/table_digest.hpp"

namespace {

using namespace realmkit;
using namespace std::chrono_literals;
namespace an = realmkit::projections::analytics;
using opt = std::optional<std::string>;
using std::int64_t;

// ---- calendar, written here rather than shared with the projection

constexpr int64_t kHour = 3'600'000'000;
constexpr int64_t kDay = 24 * kHour;

std::chrono::sys_days day_at(int64_t us) {
  return std::chrono::sys_days{std::chrono::days{us >= 0 ? us / kDay : (us - kDay + 1) / kDay}};
}

std::string ymd(std::chrono::sys_days d) {
  const std::chrono::year_month_day v{d};
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(v.year()),
                static_cast<unsigned>(v.month()), static_cast<unsigned>(v.day()));
  return out;
}

std::string day_text(int64_t us) {
  return ymd(day_at(us));
}

std::string quarter(int64_t us) {
  const std::chrono::year_month_day v{day_at(us)};
  const unsigned m = static_cast<unsigned>(v.month());
  const unsigned q = m <= 3 ? 1 : m <= 6 ? 2 : m <= 9 ? 3 : 4;
  return std::to_string(static_cast<int>(v.year())) + "-Q" + std::to_string(q);
}

std::string monday(int64_t us) {
  auto d = day_at(us);
  while (std::chrono::weekday{d} != std::chrono::Monday) d -= std::chrono::days{1};
  return ymd(d);
}

domain::timestamp ts(int64_t us) {
  return domain::timestamp{std::chrono::microseconds{us}};
}

// Nearest rank: the smallest value that at least 90% of the values do not exceed.
int64_t p90(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  std::size_t k = 1;
  while (10 * k < 9 * v.size()) ++k;
  return v[k - 1];
}

// ---- what the generator did, kept plainly

struct g_stay {
  std::string stage;
  std::string owner;
  opt team;
  int64_t entered = 0;
  std::optional<int64_t> left;
  bool advanced = false;
};

struct g_deal {
  std::string id, pipeline, stage, owner;
  opt team;
  std::string currency;
  int64_t value = 0;
  int64_t created = 0;
  std::optional<std::chrono::sys_days> close, first_close;
  int64_t slips = 0, slip_days = 0;
  std::string status = "open";
  int64_t closed_at = 0;
  bool archived = false;
  std::vector<g_stay> stays;
};

struct g_lead {
  std::string id, owner, source;
  opt team;
  bool contacted = false, qualified = false;
  std::string status = "new";
  opt deal;
  std::string created_on;  // from the stored event's recording time
};

struct g_activity {
  std::string id, kind, user;
  opt team;
  int64_t occurred = 0;
  std::optional<int> minutes;
  bool deleted = false;
};

struct g_pipeline {
  std::string id;
  std::vector<std::string> order;
  std::map<std::string, int> probability;
};

// Filters as the test understands them (mirrors an::filters).
struct tf {
  opt pipeline, owner, team, source, kind, status, from, to;
};

bool in_range(const std::string& day, const tf& f) {
  return (!f.from || day >= *f.from) && (!f.to || day <= *f.to);
}
bool match(const opt& want, const std::string& have) {
  return !want || *want == have;
}
bool match(const opt& want, const opt& have) {
  return !want || want == have;
}

an::filters to_filters(const tf& f) {
  an::filters out;
  out.pipeline = f.pipeline;
  out.owner = f.owner;
  out.team = f.team;
  out.source = f.source;
  out.kind = f.kind;
  out.status = f.status;
  out.from = f.from;
  out.to = f.to;
  return out;
}

// ---- the generator

// How often each kind of history happened, so that a test can insist the history is realistic.
struct history_stats {
  int backward_moves = 0, reopened = 0, archived = 0, slips = 0, reassigned = 0, team_changes = 0;
  int stages_added = 0, stages_removed = 0, reorders = 0, converted_with_deal = 0;
  int activity_edits = 0, activity_deletes = 0, won = 0, lost = 0;
};

class generator {
 public:
  // `window`: only the most recent deals, leads and activities are worked on, which keeps a long
  // history (a benchmark's) cheap to generate.
  explicit generator(std::uint64_t seed, std::size_t window = 1'000'000)
      : rng_(seed), window_(window) {}

  // Appends what has been generated and not yet appended, in order, a few hundred per append.
  void append_to(infra::event_store& store) {
    std::vector<infra::stream_write> writes;
    std::set<std::string> streams;
    std::size_t events = 0;
    auto flush = [&] {
      if (!writes.empty()) store.append(std::span<const infra::stream_write>(writes), std::nullopt);
      writes.clear();
      streams.clear();
      events = 0;
    };
    for (auto& [stream, event] : pending_) {
      const bool continues = !writes.empty() && writes.back().stream_id == stream;
      if (!continues && streams.contains(stream)) flush();
      if (events >= 400) flush();
      if (writes.empty() || writes.back().stream_id != stream) {
        writes.push_back({stream, std::nullopt, {}});
        streams.insert(stream);
      }
      writes.back().events.push_back(std::move(event));
      ++events;
    }
    flush();
    pending_.clear();
  }

  // The organisation: teams of sales reps, one rep without a team, pipelines with stages.
  void setup() {
    for (int t = 0; t < 3; ++t) teams_.push_back("team-" + std::to_string(t));
    for (int u = 0; u < 7; ++u) {
      const std::string id = "rep-" + std::to_string(u);
      opt team = u < 6 ? opt(teams_[static_cast<std::size_t>(u % 3)]) : std::nullopt;
      reps_.push_back(id);
      users_[id] = team;
      domain::user_registered e;
      e.user = {id};
      e.email = id + "@example.com";
      e.display_name = id;
      e.role = domain::user_role::sales_rep;
      if (team) e.team = domain::team_id{*team};
      add("user-" + id, e);
    }
    const std::vector<std::vector<int>> probabilities{
        {10, 30, 60, 80}, {20, 50, 90}, {5, 25, 50, 75, 95}};
    for (std::size_t p = 0; p < probabilities.size(); ++p) {
      g_pipeline pipe;
      pipe.id = "pipe-" + std::to_string(p);
      domain::pipeline_created e;
      e.pipeline = {pipe.id};
      e.name = "Pipeline " + std::to_string(p);
      for (std::size_t s = 0; s < probabilities[p].size(); ++s) {
        const std::string stage = pipe.id + "-s" + std::to_string(s);
        pipe.order.push_back(stage);
        pipe.probability[stage] = probabilities[p][s];
        e.stages.push_back({{stage}, "Stage " + std::to_string(s), probabilities[p][s]});
      }
      pipelines_.push_back(pipe);
      add("pipeline-" + pipe.id, e);
    }
  }

  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      now_ += between(5, 600) * int64_t{60'000'000};  // 5 minutes to 10 hours later
      step();
    }
  }

  int64_t now() const { return now_; }
  const history_stats& stats() const { return stats_; }
  const std::map<std::string, g_deal>& deals() const { return deals_; }
  const std::map<std::string, g_lead>& leads() const { return leads_; }
  std::map<std::string, g_lead>& leads() { return leads_; }
  const std::map<std::string, g_activity>& activities() const { return activities_; }
  const std::vector<g_pipeline>& pipelines() const { return pipelines_; }
  const std::vector<std::string>& reps() const { return reps_; }
  const std::vector<std::string>& teams() const { return teams_; }

  const g_pipeline& pipeline(const std::string& id) const {
    for (const auto& p : pipelines_) {
      if (p.id == id) return p;
    }
    throw std::logic_error("no pipeline " + id);
  }

 private:
  template <class E>
  void add(const std::string& stream, const E& e) {
    infra::event_metadata meta;
    meta.actor = "generator";
    meta.correlation_id = infra::new_uuid_v7();
    pending_.emplace_back(
        stream, infra::encode_event(e, infra::new_uuid_v7(), infra::encode_metadata(meta)));
  }

  int between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <class C>
  const auto& pick(const C& c) {
    return c[static_cast<std::size_t>(between(0, static_cast<int>(c.size()) - 1))];
  }

  g_pipeline& pipeline_of(const std::string& id) {
    for (auto& p : pipelines_) {
      if (p.id == id) return p;
    }
    throw std::logic_error("no pipeline " + id);
  }

  template <class Map>
  std::vector<std::string> recent(const std::vector<std::string>& order, const Map& rows,
                                  bool (*ok)(const typename Map::mapped_type&)) const {
    std::vector<std::string> out;
    const auto from = order.size() > window_ ? order.size() - window_ : 0;
    for (auto i = from; i < order.size(); ++i) {
      if (ok(rows.at(order[i]))) out.push_back(order[i]);
    }
    return out;
  }

  std::vector<std::string> deals_where(bool (*ok)(const g_deal&)) const {
    return recent(deal_order_, deals_, ok);
  }

  void step() {
    const int r = between(0, 99);
    if (r < 10) return create_deal(std::nullopt);
    if (r < 32) return move_deal();
    if (r < 37) return close_deal(true);
    if (r < 42) return close_deal(false);
    if (r < 45) return reopen_deal();
    if (r < 48) return change_value();
    if (r < 54) return change_close_date();
    if (r < 57) return reassign_deal();
    if (r < 59) return archive_or_restore();
    if (r < 60) return change_team();
    if (r < 66) return create_lead();
    if (r < 76) return progress_lead();
    if (r < 92) return log_activity();
    if (r < 95) return edit_or_delete_activity();
    return change_pipeline();
  }

  void create_deal(const std::optional<std::pair<std::string, std::string>>& from_lead) {
    g_deal d;
    d.id = from_lead ? from_lead->first : "deal-" + std::to_string(++serial_);
    const auto& p = pick(pipelines_);
    d.pipeline = p.id;
    d.stage = chance(0.8) ? p.order.front() : pick(p.order);
    d.owner = from_lead ? from_lead->second : pick(reps_);
    d.team = users_[d.owner];
    d.currency = chance(0.7) ? "EUR" : "USD";
    d.value = between(1, 5000) * 1000 + between(0, 99);
    d.created = now_;
    if (chance(0.8)) {
      d.close = day_at(now_) + std::chrono::days{between(10, 120)};
      d.first_close = d.close;
    }
    d.stays.push_back({d.stage, d.owner, d.team, now_, std::nullopt, false});
    domain::deal_created e;
    e.deal = {d.id};
    e.pipeline = {d.pipeline};
    e.stage = {d.stage};
    e.title = "Deal " + d.id;
    e.value = {d.value, d.currency};
    e.owner = {d.owner};
    e.expected_close_date = d.close;
    e.at = ts(now_);
    deals_[d.id] = d;
    deal_order_.push_back(d.id);
    add("deal-" + d.id, e);
    // A deal nobody works on any more (it left the window) is lost at last, so that open deals
    // stay as many as a sales team has, however long the history.
    if (deal_order_.size() > window_) {
      auto& stale = deals_[deal_order_[deal_order_.size() - window_ - 1]];
      if (stale.status == "open" && !stale.archived) {
        stale.stays.back().left = now_;
        stale.status = "lost";
        stale.closed_at = now_;
        stale.team = users_[stale.owner];
        add("deal-" + stale.id, domain::deal_lost{{stale.id}, "stale", ts(now_)});
      }
    }
  }

  void move_deal() {
    const auto open =
        deals_where([](const g_deal& d) { return d.status == "open" && !d.archived; });
    if (open.empty()) return create_deal(std::nullopt);
    auto& d = deals_[pick(open)];
    const auto& p = pipeline_of(d.pipeline);
    const auto at = std::find(p.order.begin(), p.order.end(), d.stage) - p.order.begin();
    std::string to;
    if (chance(0.6) && at + 1 < static_cast<std::ptrdiff_t>(p.order.size())) {
      to = p.order[static_cast<std::size_t>(at + 1)];
    } else {
      to = pick(p.order);
    }
    if (to == d.stage) return;
    const auto to_at = std::find(p.order.begin(), p.order.end(), to) - p.order.begin();
    d.stays.back().left = now_;
    d.stays.back().advanced = at < static_cast<std::ptrdiff_t>(p.order.size()) && to_at > at;
    stats_.backward_moves += to_at < at;
    domain::deal_stage_moved e{{d.id}, {d.pipeline}, {d.stage}, {to}, ts(now_)};
    d.stage = to;
    d.stays.push_back({to, d.owner, d.team, now_, std::nullopt, false});
    add("deal-" + d.id, e);
  }

  void close_deal(bool won) {
    const auto open =
        deals_where([](const g_deal& d) { return d.status == "open" && !d.archived; });
    if (open.empty()) return;
    auto& d = deals_[pick(open)];
    d.stays.back().left = now_;
    d.stays.back().advanced = won;
    d.status = won ? "won" : "lost";
    d.closed_at = now_;
    d.team = users_[d.owner];
    (won ? stats_.won : stats_.lost) += 1;
    if (won) {
      add("deal-" + d.id, domain::deal_won{{d.id}, ts(now_)});
    } else {
      add("deal-" + d.id, domain::deal_lost{{d.id}, "price", ts(now_)});
    }
  }

  void reopen_deal() {
    const auto closed =
        deals_where([](const g_deal& d) { return d.status != "open" && !d.archived; });
    if (closed.empty()) return;
    auto& d = deals_[pick(closed)];
    const auto& p = pipeline_of(d.pipeline);
    const auto stage = pick(p.order);
    d.status = "open";
    d.team = users_[d.owner];
    d.stage = stage;
    stats_.reopened += 1;
    d.stays.push_back({stage, d.owner, d.team, now_, std::nullopt, false});
    add("deal-" + d.id, domain::deal_reopened{{d.id}, {stage}, ts(now_)});
  }

  void change_value() {
    const auto active = deals_where([](const g_deal& d) { return !d.archived; });
    if (active.empty()) return;
    auto& d = deals_[pick(active)];
    const domain::money before{d.value, d.currency};
    d.value = between(1, 9000) * 1000;
    if (chance(0.2)) d.currency = d.currency == "EUR" ? "USD" : "EUR";
    add("deal-" + d.id, domain::deal_value_changed{{d.id}, before, {d.value, d.currency}});
  }

  void change_close_date() {
    const auto active = deals_where([](const g_deal& d) { return !d.archived; });
    if (active.empty()) return;
    auto& d = deals_[pick(active)];
    const auto before = d.close;
    std::optional<std::chrono::sys_days> after;
    if (!before) {
      after = day_at(now_) + std::chrono::days{between(5, 90)};
    } else if (chance(0.1)) {
      after = std::nullopt;
    } else {
      after = *before + std::chrono::days{chance(0.7) ? between(1, 60) : -between(1, 20)};
    }
    if (after == before) return;
    if (before && after && *after > *before) {
      stats_.slips += 1;
      d.slips += 1;
      d.slip_days += (*after - *before).count();
    }
    d.close = after;
    if (!d.first_close) d.first_close = after;
    add("deal-" + d.id, domain::deal_close_date_changed{{d.id}, before, after});
  }

  void reassign_deal() {
    const auto active = deals_where([](const g_deal& d) { return !d.archived; });
    if (active.empty()) return;
    auto& d = deals_[pick(active)];
    const auto to = pick(reps_);
    if (to == d.owner) return;
    const auto from = d.owner;
    stats_.reassigned += 1;
    d.owner = to;
    d.team = users_[to];
    add("deal-" + d.id, domain::deal_owner_assigned{{d.id}, {from}, {to}});
  }

  void archive_or_restore() {
    const auto ids = deals_where([](const g_deal&) { return true; });
    if (ids.empty()) return;
    auto& d = deals_[pick(ids)];
    d.archived = !d.archived;
    stats_.archived += d.archived;
    if (d.archived) {
      add("deal-" + d.id, domain::deal_archived{{d.id}});
    } else {
      add("deal-" + d.id, domain::deal_restored{{d.id}});
    }
  }

  void change_team() {
    const auto user = pick(reps_);
    std::vector<opt> choices{std::nullopt};
    for (const auto& t : teams_) choices.emplace_back(t);
    const auto to = pick(choices);
    const auto from = users_[user];
    if (to == from) return;
    users_[user] = to;
    stats_.team_changes += 1;
    for (auto& [id, d] : deals_) {
      if (d.owner == user && d.status == "open") d.team = to;
    }
    domain::user_team_changed e;
    e.user = {user};
    if (from) e.from = domain::team_id{*from};
    if (to) e.to = domain::team_id{*to};
    add("user-" + user, e);
  }

  void create_lead() {
    g_lead l;
    l.id = "lead-" + std::to_string(++serial_);
    l.owner = pick(reps_);
    l.team = users_[l.owner];
    const std::vector<domain::lead_source> sources{
        domain::lead_source::web, domain::lead_source::referral, domain::lead_source::event};
    const auto source = pick(sources);
    l.source = std::string(to_string(source));
    domain::lead_created e;
    e.lead = {l.id};
    e.name = "Lead " + l.id;
    e.source = source;
    e.owner = {l.owner};
    leads_[l.id] = l;
    lead_order_.push_back(l.id);
    add("lead-" + l.id, e);
  }

  void progress_lead() {
    const auto workable =
        recent(lead_order_, leads_, [](const g_lead& l) { return l.status != "converted"; });
    if (workable.empty()) return create_lead();
    auto& l = leads_[pick(workable)];
    const std::string stream = "lead-" + l.id;
    if (l.status == "new") {
      l.status = "contacted";
      l.contacted = true;
      add(stream, domain::lead_contacted{{l.id}, ts(now_)});
    } else if (l.status == "contacted") {
      if (chance(0.65)) {
        l.status = "qualified";
        l.qualified = true;
        add(stream, domain::lead_qualified{{l.id}, ts(now_)});
      } else {
        l.status = "disqualified";
        add(stream, domain::lead_disqualified{{l.id}, "no budget", ts(now_)});
      }
    } else if (l.status == "disqualified") {
      l.status = "contacted";
      add(stream, domain::lead_reopened{{l.id}, ts(now_)});
    } else if (l.status == "qualified") {
      if (chance(0.2)) {
        l.status = "disqualified";
        add(stream, domain::lead_disqualified{{l.id}, "went elsewhere", ts(now_)});
        return;
      }
      if (chance(0.2)) {
        const auto to = pick(reps_);
        if (to != l.owner) {
          add(stream, domain::lead_owner_assigned{{l.id}, {l.owner}, {to}});
          l.owner = to;
          l.team = users_[to];
        }
        return;
      }
      l.status = "converted";
      domain::lead_converted e;
      e.lead = {l.id};
      e.contact = {"contact-" + l.id};
      e.at = ts(now_);
      const bool with_deal = chance(0.7);
      const std::string deal_id = "deal-from-" + l.id;
      if (with_deal) {
        stats_.converted_with_deal += 1;
        e.deal = domain::deal_id{deal_id};
        l.deal = deal_id;
      }
      // The command layer appends the conversion and the new deal together, in either order.
      const bool deal_first = chance(0.5);
      if (with_deal && deal_first) create_deal(std::make_pair(deal_id, l.owner));
      add(stream, e);
      if (with_deal && !deal_first) create_deal(std::make_pair(deal_id, l.owner));
    }
  }

  void log_activity() {
    g_activity a;
    a.id = "act-" + std::to_string(++serial_);
    const std::vector<domain::activity_type> kinds{
        domain::activity_type::call, domain::activity_type::email, domain::activity_type::meeting,
        domain::activity_type::note};
    const auto kind = pick(kinds);
    a.kind = std::string(to_string(kind));
    a.user = pick(reps_);
    a.team = users_[a.user];
    a.occurred = now_ - between(0, 72) * kHour;
    if (domain::has_duration(kind)) a.minutes = between(5, 90);
    domain::activity_logged e;
    e.activity = {a.id};
    e.type = kind;
    e.subject = {domain::entity_kind::contact, "contact-1"};
    e.summary = "Activity " + a.id;
    e.occurred_at = ts(a.occurred);
    e.duration_minutes = a.minutes;
    e.owner = {a.user};
    activities_[a.id] = a;
    activity_order_.push_back(a.id);
    add("activity-" + a.id, e);
  }

  void edit_or_delete_activity() {
    const auto live =
        recent(activity_order_, activities_, [](const g_activity& a) { return !a.deleted; });
    if (live.empty()) return;
    auto& a = activities_[pick(live)];
    if (chance(0.4)) {
      a.deleted = true;
      stats_.activity_deletes += 1;
      add("activity-" + a.id, domain::activity_deleted{{a.id}});
      return;
    }
    a.occurred -= between(1, 10) * kDay;
    stats_.activity_edits += 1;
    if (a.minutes) a.minutes = between(5, 90);
    domain::activity_edited e;
    e.activity = {a.id};
    e.summary = "Edited";
    e.occurred_at = ts(a.occurred);
    e.duration_minutes = a.minutes;
    add("activity-" + a.id, e);
  }

  void change_pipeline() {
    auto& p =
        pipelines_[static_cast<std::size_t>(between(0, static_cast<int>(pipelines_.size()) - 1))];
    const std::string stream = "pipeline-" + p.id;
    const int r = between(0, 3);
    if (r == 0) {
      const auto stage = pick(p.order);
      p.probability[stage] = between(0, 100);
      add(stream,
          domain::pipeline_stage_probability_changed{{p.id}, {stage}, p.probability[stage]});
    } else if (r == 1 && p.order.size() < 7) {
      const std::string stage = p.id + "-s" + std::to_string(++serial_);
      const int position = between(0, static_cast<int>(p.order.size()));
      p.order.insert(p.order.begin() + position, stage);
      p.probability[stage] = between(0, 100);
      stats_.stages_added += 1;
      add(stream, domain::pipeline_stage_added{
                      {p.id}, {{stage}, "Stage " + stage, p.probability[stage]}, position});
    } else if (r == 2) {
      std::shuffle(p.order.begin(), p.order.end(), rng_);
      stats_.reorders += 1;
      domain::pipeline_stages_reordered e;
      e.pipeline = {p.id};
      for (const auto& s : p.order) e.stage_ids.push_back({s});
      add(stream, e);
    } else if (p.order.size() > 2) {
      // Only a stage that holds no open deal can go.
      std::vector<std::string> empty;
      for (const auto& s : p.order) {
        bool used = false;
        for (const auto& [id, d] : deals_) used = used || (d.status == "open" && d.stage == s);
        if (!used) empty.push_back(s);
      }
      if (empty.empty()) return;
      const auto stage = pick(empty);
      std::erase(p.order, stage);
      stats_.stages_removed += 1;
      add(stream, domain::pipeline_stage_removed{{p.id}, {stage}});
    }
  }

  history_stats stats_;
  std::mt19937_64 rng_;
  std::size_t window_;
  std::vector<std::string> deal_order_, lead_order_, activity_order_;
  int64_t now_ = 1'704'704'400'000'000;  // 2024-01-08T09:00:00Z, a Monday
  int serial_ = 0;
  std::vector<std::pair<std::string, infra::new_event>> pending_;
  std::vector<std::string> teams_;
  std::vector<std::string> reps_;
  std::map<std::string, opt> users_;
  std::vector<g_pipeline> pipelines_;
  std::map<std::string, g_deal> deals_;
  std::map<std::string, g_lead> leads_;
  std::map<std::string, g_activity> activities_;
};

// ---- expected figures, from the generator's record

using stage_key = std::pair<std::string, std::string>;

std::map<std::tuple<std::string, std::string, std::string>, std::tuple<int64_t, int64_t, int64_t>>
expected_stage_totals(const generator& g, const tf& f) {
  std::map<std::tuple<std::string, std::string, std::string>, std::tuple<int64_t, int64_t, int64_t>>
      out;
  for (const auto& [id, d] : g.deals()) {
    if (d.status != "open" || d.archived) continue;
    if (!match(f.pipeline, d.pipeline) || !match(f.owner, d.owner) || !match(f.team, d.team)) {
      continue;
    }
    const auto& p = g.pipeline(d.pipeline);
    const auto it = p.probability.find(d.stage);
    const int64_t prob = it == p.probability.end() ? 0 : it->second;
    auto& [n, value, weighted] = out[{d.pipeline, d.stage, d.currency}];
    n += 1;
    value += d.value;
    weighted += d.value * prob / 100;
  }
  return out;
}

std::map<std::pair<std::string, std::string>, std::tuple<int64_t, int64_t, int64_t>>
expected_forecast(const generator& g, const tf& f) {
  std::map<std::pair<std::string, std::string>, std::tuple<int64_t, int64_t, int64_t>> out;
  for (const auto& [id, d] : g.deals()) {
    if (d.status != "open" || d.archived || !d.close) continue;
    if (!match(f.pipeline, d.pipeline) || !match(f.owner, d.owner) || !match(f.team, d.team)) {
      continue;
    }
    const auto month = ymd(*d.close).substr(0, 7);
    if ((f.from && month < f.from->substr(0, 7)) || (f.to && month > f.to->substr(0, 7))) continue;
    const auto& p = g.pipeline(d.pipeline);
    const auto it = p.probability.find(d.stage);
    const int64_t prob = it == p.probability.end() ? 0 : it->second;
    auto& [n, value, weighted] = out[{month, d.currency}];
    n += 1;
    value += d.value;
    weighted += d.value * prob / 100;
  }
  return out;
}

struct win_expect {
  int64_t won = 0, lost = 0;
  std::map<std::string, int64_t> won_value;
};

std::map<std::pair<std::string, opt>, win_expect> expected_win_rates(const generator& g,
                                                                     const tf& f, bool by_team) {
  std::map<std::pair<std::string, opt>, win_expect> out;
  for (const auto& [id, d] : g.deals()) {
    if (d.status == "open" || d.archived) continue;
    if (!match(f.pipeline, d.pipeline) || !match(f.owner, d.owner) || !match(f.team, d.team)) {
      continue;
    }
    if (!in_range(day_text(d.closed_at), f)) continue;
    auto& e = out[{quarter(d.closed_at), by_team ? d.team : opt(d.owner)}];
    if (d.status == "won") {
      e.won += 1;
      e.won_value[d.currency] += d.value;
    } else {
      e.lost += 1;
    }
  }
  return out;
}

struct duration_expect {
  int64_t stays = 0, total = 0, p90 = 0;
};

std::map<stage_key, duration_expect> expected_durations(const generator& g, const tf& f) {
  std::map<stage_key, std::vector<int64_t>> seconds;
  for (const auto& [id, d] : g.deals()) {
    if (d.archived || !match(f.pipeline, d.pipeline)) continue;
    for (const auto& s : d.stays) {
      if (!s.left) continue;
      if (!match(f.owner, s.owner) || !match(f.team, s.team) || !in_range(day_text(*s.left), f)) {
        continue;
      }
      seconds[{d.pipeline, s.stage}].push_back((*s.left - s.entered) / 1'000'000);
    }
  }
  std::map<stage_key, duration_expect> out;
  for (const auto& [key, v] : seconds) {
    int64_t total = 0;
    for (auto s : v) total += s;
    out[key] = {static_cast<int64_t>(v.size()), total, p90(v)};
  }
  return out;
}

std::map<stage_key, std::pair<int64_t, int64_t>> expected_conversion(const generator& g,
                                                                     const tf& f) {
  std::map<stage_key, std::pair<int64_t, int64_t>> out;
  for (const auto& [id, d] : g.deals()) {
    if (d.archived || !match(f.pipeline, d.pipeline) || !match(f.owner, d.owner) ||
        !match(f.team, d.team)) {
      continue;
    }
    std::map<std::string, bool> stages;
    for (const auto& s : d.stays) stages[s.stage] = stages[s.stage] || s.advanced;
    for (const auto& [stage, advanced] : stages) {
      auto& [entered, adv] = out[{d.pipeline, stage}];
      entered += 1;
      adv += advanced ? 1 : 0;
    }
  }
  return out;
}

an::funnel_totals expected_funnel(const generator& g, const tf& f) {
  an::funnel_totals t;
  for (const auto& [id, l] : g.leads()) {
    if (!match(f.owner, l.owner) || !match(f.team, l.team) || !match(f.source, l.source) ||
        !in_range(l.created_on, f)) {
      continue;
    }
    t.leads += 1;
    t.contacted += l.contacted ? 1 : 0;
    t.qualified += l.qualified ? 1 : 0;
    t.disqualified += l.status == "disqualified" ? 1 : 0;
    t.converted += l.status == "converted" ? 1 : 0;
    t.with_deal += l.deal ? 1 : 0;
    if (l.deal && g.deals().at(*l.deal).status == "won") t.won += 1;
  }
  return t;
}

std::map<std::string, std::tuple<std::string, int64_t, int64_t, opt, opt>> expected_slipped(
    const generator& g, const tf& f) {
  std::map<std::string, std::tuple<std::string, int64_t, int64_t, opt, opt>> out;
  for (const auto& [id, d] : g.deals()) {
    if (d.archived || d.slips == 0) continue;
    if (!match(f.pipeline, d.pipeline) || !match(f.owner, d.owner) || !match(f.team, d.team) ||
        !match(f.status, d.status)) {
      continue;
    }
    if ((f.from || f.to) && (!d.close || !in_range(ymd(*d.close), f))) continue;
    out[id] = {d.status, d.slips, d.slip_days, d.first_close ? opt(ymd(*d.first_close)) : opt(),
               d.close ? opt(ymd(*d.close)) : opt()};
  }
  return out;
}

struct velocity_expect {
  int64_t open = 0, won = 0, lost = 0, won_value = 0, cycle = 0;
};

std::map<std::string, velocity_expect> expected_velocity(const generator& g, const tf& f) {
  std::map<std::string, velocity_expect> out;
  for (const auto& [id, d] : g.deals()) {
    if (d.archived || !match(f.pipeline, d.pipeline) || !match(f.owner, d.owner) ||
        !match(f.team, d.team)) {
      continue;
    }
    if (d.status == "open") {
      out[d.currency].open += 1;
    } else if (in_range(day_text(d.closed_at), f)) {
      auto& e = out[d.currency];
      if (d.status == "won") {
        e.won += 1;
        e.won_value += d.value;
        e.cycle += (d.closed_at - d.created) / 1'000'000;
      } else {
        e.lost += 1;
      }
    }
  }
  return out;
}

std::map<std::pair<std::string, std::string>, std::array<int64_t, 6>> expected_activities(
    const generator& g, const tf& f) {
  std::map<std::pair<std::string, std::string>, std::array<int64_t, 6>> out;
  for (const auto& [id, a] : g.activities()) {
    if (a.deleted || !match(f.owner, a.user) || !match(f.team, a.team) || !match(f.kind, a.kind) ||
        !in_range(day_text(a.occurred), f)) {
      continue;
    }
    auto& e = out[{monday(a.occurred), a.user}];
    e[0] += 1;
    e[1] += a.minutes.value_or(0);
    e[2] += a.kind == "call";
    e[3] += a.kind == "email";
    e[4] += a.kind == "meeting";
    e[5] += a.kind == "note";
  }
  return out;
}

// ---- comparing

void check_close(double actual, double expected) {
  CHECK(std::abs(actual - expected) <= 1e-9 * std::max(1.0, std::abs(expected)));
}

bool unfiltered(const tf& f) {
  return !f.pipeline && !f.owner && !f.team && !f.source && !f.kind && !f.status && !f.from &&
         !f.to;
}

void check_all(infra::sql::session& db, const generator& g, const tf& f,
               std::optional<int64_t> min_position, const std::string& expect_source) {
  if (unfiltered(f)) {
    // Unfiltered, every figure has something to count.
    CHECK_FALSE(expected_stage_totals(g, f).empty());
    CHECK_FALSE(expected_forecast(g, f).empty());
    CHECK_FALSE(expected_win_rates(g, f, true).empty());
    CHECK_FALSE(expected_durations(g, f).empty());
    CHECK_FALSE(expected_conversion(g, f).empty());
    CHECK(expected_funnel(g, f).won > 0);
    CHECK_FALSE(expected_slipped(g, f).empty());
    CHECK_FALSE(expected_velocity(g, f).empty());
    CHECK_FALSE(expected_activities(g, f).empty());
  }
  auto filters = to_filters(f);
  filters.min_position = min_position;
  INFO("filters: pipeline=" << f.pipeline.value_or("-") << " owner=" << f.owner.value_or("-")
                            << " team=" << f.team.value_or("-") << " from=" << f.from.value_or("-")
                            << " to=" << f.to.value_or("-") << " source=" << expect_source);

  {  // pipeline value and count per stage (no dates)
    auto pf = filters;
    pf.from.reset();
    pf.to.reset();
    tf ef = f;
    ef.from.reset();
    ef.to.reset();
    const auto got = an::pipeline_stages(db, pf);
    CHECK(got.fresh.source == expect_source);
    std::map<std::tuple<std::string, std::string, std::string>,
             std::tuple<int64_t, int64_t, int64_t>>
        actual;
    for (const auto& r : got.rows) {
      actual[{r.pipeline_id, r.stage_id, r.currency}] = {r.deals, r.value_minor, r.weighted_minor};
    }
    CHECK(actual == expected_stage_totals(g, ef));
    const auto conv = an::stage_conversions(db, pf);
    std::map<stage_key, std::pair<int64_t, int64_t>> conv_actual;
    for (const auto& r : conv.rows) {
      conv_actual[{r.pipeline_id, r.stage_id}] = {r.entered, r.advanced};
      REQUIRE(r.rate);
      check_close(*r.rate, static_cast<double>(r.advanced) / static_cast<double>(r.entered));
    }
    CHECK(conv_actual == expected_conversion(g, ef));
  }
  {
    const auto got = an::forecast(db, filters);
    std::map<std::pair<std::string, std::string>, std::tuple<int64_t, int64_t, int64_t>> actual;
    for (const auto& r : got.rows) {
      actual[{r.month, r.currency}] = {r.deals, r.value_minor, r.weighted_minor};
    }
    CHECK(actual == expected_forecast(g, f));
  }
  for (const bool by_team : {false, true}) {
    const auto got =
        an::win_rates(db, filters, by_team ? an::win_rate_group::team : an::win_rate_group::owner);
    const auto expected = expected_win_rates(g, f, by_team);
    CHECK(got.rows.size() == expected.size());
    for (const auto& r : got.rows) {
      const auto it = expected.find({r.quarter, r.group_id});
      REQUIRE_MESSAGE(it != expected.end(), r.quarter << " " << r.group_id.value_or("(none)"));
      CHECK(r.won == it->second.won);
      CHECK(r.lost == it->second.lost);
      REQUIRE(r.win_rate);
      check_close(*r.win_rate, static_cast<double>(it->second.won) /
                                   static_cast<double>(it->second.won + it->second.lost));
      std::map<std::string, int64_t> value;
      for (const auto& m : r.won_value) value[m.currency] = m.amount_minor;
      CHECK(value == it->second.won_value);
    }
  }
  {
    const auto got = an::stage_durations(db, filters);
    const auto expected = expected_durations(g, f);
    CHECK(got.rows.size() == expected.size());
    for (const auto& r : got.rows) {
      const auto it = expected.find({r.pipeline_id, r.stage_id});
      REQUIRE(it != expected.end());
      CHECK(r.stays == it->second.stays);
      check_close(r.avg_seconds,
                  static_cast<double>(it->second.total) / static_cast<double>(it->second.stays));
      CHECK(r.p90_seconds == it->second.p90);
    }
  }
  {
    auto lf = filters;
    lf.pipeline.reset();
    tf ef = f;
    ef.pipeline.reset();
    const auto got = an::lead_funnel(db, lf).totals;
    const auto expected = expected_funnel(g, ef);
    CHECK(got.leads == expected.leads);
    CHECK(got.contacted == expected.contacted);
    CHECK(got.qualified == expected.qualified);
    CHECK(got.disqualified == expected.disqualified);
    CHECK(got.converted == expected.converted);
    CHECK(got.with_deal == expected.with_deal);
    CHECK(got.won == expected.won);
  }
  {
    const auto got = an::slipped_deals(db, filters, 100'000);
    std::map<std::string, std::tuple<std::string, int64_t, int64_t, opt, opt>> actual;
    for (const auto& r : got.rows) {
      actual[r.deal_id] = {r.status, r.slips, r.slip_days, r.first_close_date,
                           r.expected_close_date};
    }
    const auto expected = expected_slipped(g, f);
    CHECK(actual == expected);
    CHECK(got.total == static_cast<int64_t>(expected.size()));
    for (std::size_t i = 1; i < got.rows.size(); ++i) {
      CHECK(got.rows[i - 1].slips >= got.rows[i].slips);
    }
  }
  {
    const auto got = an::sales_velocity(db, filters);
    const auto expected = expected_velocity(g, f);
    CHECK(got.rows.size() == expected.size());
    for (const auto& r : got.rows) {
      const auto it = expected.find(r.currency);
      REQUIRE(it != expected.end());
      const auto& e = it->second;
      CHECK(r.open_deals == e.open);
      CHECK(r.won == e.won);
      CHECK(r.lost == e.lost);
      if (e.won > 0 && e.cycle > 0) {
        REQUIRE(r.velocity_per_day);
        // open x win rate x average won value / average cycle in days
        const double expected_velocity = static_cast<double>(e.open) *
                                         (static_cast<double>(e.won) / (e.won + e.lost)) *
                                         (static_cast<double>(e.won_value) / e.won) /
                                         (static_cast<double>(e.cycle) / e.won / 86'400.0);
        check_close(*r.velocity_per_day, expected_velocity);
      } else {
        CHECK_FALSE(r.velocity_per_day);
      }
    }
  }
  {
    auto af = filters;
    af.pipeline.reset();
    tf ef = f;
    ef.pipeline.reset();
    const auto got = an::activities_per_week(db, af);
    std::map<std::pair<std::string, std::string>, std::array<int64_t, 6>> actual;
    for (const auto& r : got.rows) {
      actual[{r.week, r.user_id}] = {r.activities, r.minutes,  r.calls,
                                     r.emails,     r.meetings, r.notes};
    }
    CHECK(actual == expected_activities(g, ef));
  }
}

// The filter combinations every figure is checked under.
std::vector<tf> filter_cases(const generator& g) {
  const auto& reps = g.reps();
  const auto& teams = g.teams();
  const std::string from = day_text(1'704'704'400'000'000 + 30 * kDay);
  const std::string to = day_text(1'704'704'400'000'000 + 150 * kDay);
  std::vector<tf> out;
  out.push_back({});
  out.push_back({.pipeline = g.pipelines()[1].id});
  out.push_back({.owner = reps[2]});
  out.push_back({.team = teams[0]});
  out.push_back({.from = from, .to = to});
  out.push_back({.pipeline = g.pipelines()[0].id, .team = teams[1], .from = from});
  out.push_back({.owner = reps[6], .to = to});
  out.push_back({.kind = "call"});
  out.push_back({.source = "web"});
  out.push_back({.status = "open"});
  return out;
}

// Leads carry no time of their own: their creation day is when the store recorded them.
void record_lead_days(infra::event_store& store, generator& g) {
  std::int64_t after = 0;
  while (true) {
    const auto events = store.read_all(after, 1000);
    if (events.empty()) break;
    for (const auto& e : events) {
      after = e.global_position;
      if (e.type != domain::lead_created::kType) continue;
      const auto created = infra::from_json<domain::lead_created>(e.data);
      g.leads()[created.lead.value].created_on = day_text(e.recorded_at.time_since_epoch().count());
    }
  }
}

std::vector<std::string> digests(infra::sql::session& db) {
  std::vector<std::string> out;
  for (const auto& relation : an::all_relations()) {
    if (relation == an::kRefreshes) continue;  // written by the refresher, not the projection
    out.push_back(relation + "\n" + testing::table_digest(db, relation));
  }
  return out;
}

// On SQLite the maintained tables must hold what their defining queries compute.
void check_maintained_tables(infra::sql::session& db) {
  if (db.dialect() != infra::sql::dialect::sqlite) return;
  for (const auto& relation :
       {an::kWinRates, an::kConversion, an::kFunnel, an::kActivityCounts, an::kStageDurations}) {
    INFO(relation);
    const auto maintained = testing::table_digest(db, std::string(relation));
    db.exec_script("DROP TABLE IF EXISTS temp.expected");
    db.exec_script("CREATE TEMP TABLE expected AS " +
                   an::definition(db.dialect(), relation, an::stable_name));
    CHECK(maintained == testing::table_digest(db, "expected"));
    db.exec_script("DROP TABLE temp.expected");
  }
}

}  // namespace

TEST_CASE_TEMPLATE("analytics: every figure matches the figure computed from the generated history",
                   Backend, realmkit::testing::sqlite_backend,
                   realmkit::testing::postgres_backend) {
  realmkit::testing::projection_env<Backend> env;
  generator g(20'240'108);
  g.setup();
  g.run(700);
  g.append_to(env.store());

  projections::projector_options options;
  options.live_batch_events = 37;  // many batches: facts are read back and adjusted across them
  {
    auto p = env.start({an::make_analytics_projection()}, options);
    env.catch_up(*p);
  }
  // A new writer carries on from the tables, not from memory.
  g.run(900);
  g.append_to(env.store());
  auto p = env.start({an::make_analytics_projection()}, options);
  env.catch_up(*p);
  record_lead_days(env.store(), g);
  // The history holds every kind of thing the analytics must get right.
  REQUIRE(g.deals().size() > 100);
  const auto& st = g.stats();
  CHECK(st.backward_moves > 10);
  CHECK(st.reopened > 5);
  CHECK(st.archived > 2);
  CHECK(st.slips > 10);
  CHECK(st.reassigned > 5);
  CHECK(st.team_changes > 2);
  CHECK(st.stages_added > 0);
  CHECK(st.stages_removed > 0);
  CHECK(st.reorders > 0);
  CHECK(st.converted_with_deal > 5);
  CHECK(st.activity_edits > 5);
  CHECK(st.activity_deletes > 5);
  CHECK(st.won > 10);
  CHECK(st.lost > 10);
  int won_from_leads = 0;
  for (const auto& [id, l] : g.leads()) {
    won_from_leads += l.deal && g.deals().at(*l.deal).status == "won";
  }
  CHECK(won_from_leads > 0);

  auto session = env.db().open_session();
  const auto head = env.store().head_position();
  CHECK(an::analytics_position(*session) == head);
  check_maintained_tables(*session);

  if (session->dialect() == infra::sql::dialect::postgres) {
    const auto r = an::refresh_analytics(*session, false);
    REQUIRE(r.refreshed);
    CHECK(r.position == head);
    CHECK(r.views.size() == an::analytics_relations().size());
    for (const auto& f : filter_cases(g)) check_all(*session, g, f, std::nullopt, "materialized");
    // Asked for a position the views have not reached, the same queries run over the facts.
    for (const auto& f : filter_cases(g)) check_all(*session, g, f, head + 1, "live");
  } else {
    for (const auto& f : filter_cases(g)) check_all(*session, g, f, std::nullopt, "current");
  }

  SUBCASE("a rebuild produces exactly what live projection produced") {
    const auto before = digests(*session);
    p->rebuild(an::kProjectionName);
    REQUIRE(p->wait_for_rebuild(an::kProjectionName, 20s));
    const auto status = p->status(an::kProjectionName);
    REQUIRE(status);
    CHECK_FALSE(status->rebuild);
    CHECK(status->generation == 2);
    if (session->dialect() == infra::sql::dialect::postgres) {
      REQUIRE(an::refresh_analytics(*session, false).refreshed);
    }
    const auto after = digests(*session);
    REQUIRE(before.size() == after.size());
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(before[i] == after[i]);
    check_maintained_tables(*session);
  }
}

// ---- the facts of single histories, given events, then rows

namespace {

constexpr int64_t kMonday = 1'704'704'400'000'000;  // 2024-01-08T09:00:00Z

domain::pipeline_created three_stages() {
  domain::pipeline_created p;
  p.pipeline = {"p1"};
  p.name = "Sales";
  p.stages = {{{"s0"}, "Lead in", 10}, {{"s1"}, "Proposal", 50}, {{"s2"}, "Negotiation", 80}};
  return p;
}

domain::user_registered rep(const std::string& id, opt team) {
  domain::user_registered u;
  u.user = {id};
  u.email = id + "@example.com";
  u.display_name = id;
  if (team) u.team = domain::team_id{*team};
  return u;
}

domain::deal_created new_deal(const std::string& id, const std::string& owner, int64_t at) {
  domain::deal_created d;
  d.deal = {id};
  d.pipeline = {"p1"};
  d.stage = {"s0"};
  d.title = "Deal";
  d.value = {100'000, "EUR"};
  d.owner = {owner};
  d.expected_close_date = std::chrono::sys_days{std::chrono::year{2024} / 3 / 1};
  d.at = ts(at);
  return d;
}

domain::deal_stage_moved moved(const std::string& deal, const std::string& from,
                               const std::string& to, int64_t at) {
  return {{deal}, {"p1"}, {from}, {to}, ts(at)};
}

std::vector<std::string> texts(const std::vector<infra::sql::row>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += (i ? " " : "") + (r.is_null(i) ? std::string("-") : r.text(i));
    }
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("analytics: a deal's stays, forward and back, its close and its reopening",
                   Backend, realmkit::testing::sqlite_backend,
                   realmkit::testing::postgres_backend) {
  realmkit::testing::projection_env<Backend> env;
  env.append("user-u1", rep("u1", "t1"));
  env.append("pipeline-p1", three_stages());
  env.append("deal-d1", new_deal("d1", "u1", kMonday), moved("d1", "s0", "s1", kMonday + kHour),
             moved("d1", "s1", "s0", kMonday + 3 * kHour),
             moved("d1", "s0", "s2", kMonday + 6 * kHour),
             domain::deal_won{{"d1"}, ts(kMonday + 10 * kHour)});
  auto p = env.start({an::make_analytics_projection()});
  env.catch_up(*p);

  // Each stay lasts until the next move or the close; only moves to a later stage (or the win)
  // advance the deal.
  CHECK(texts(env.query("SELECT seq, stage_id, duration_seconds, exit, to_stage_id, advanced, "
                        "team_id FROM fact_stage_intervals WHERE deal_id = 'd1' ORDER BY seq")) ==
        std::vector<std::string>{"1 s0 3600 moved s1 1 t1", "2 s1 7200 moved s0 0 t1",
                                 "3 s0 10800 moved s2 1 t1", "4 s2 14400 won - 1 t1"});
  CHECK(texts(env.query("SELECT status, stage_id, cycle_seconds, closed_on, closed_quarter, "
                        "reopened FROM fact_deals WHERE deal_id = 'd1'")) ==
        std::vector<std::string>{"won s2 36000 2024-01-08 2024-Q1 0"});

  if (env.db().dialect() == infra::sql::dialect::sqlite) {
    // Instants are stored in the text form of the event wire format, which sorts in time order.
    CHECK(texts(env.query("SELECT created_at, closed_at FROM fact_deals")) ==
          std::vector<std::string>{"2024-01-08T09:00:00.000000Z 2024-01-08T19:00:00.000000Z"});
  } else {
    CHECK(texts(env.query("SELECT created_at = '2024-01-08T09:00:00Z', closed_at = "
                          "'2024-01-08T19:00:00Z' FROM fact_deals")) ==
          std::vector<std::string>{"1 1"});
  }

  // Reopened a day later: open again, in a new stay, no longer closed.
  env.append("deal-d1", domain::deal_reopened{{"d1"}, {"s1"}, ts(kMonday + 34 * kHour)});
  env.catch_up(*p);
  CHECK(texts(env.query("SELECT status, stage_id, cycle_seconds, closed_on, reopened FROM "
                        "fact_deals WHERE deal_id = 'd1'")) ==
        std::vector<std::string>{"open s1 - - 1"});
  CHECK(texts(env.query("SELECT seq, stage_id, duration_seconds, exit FROM fact_stage_intervals "
                        "WHERE deal_id = 'd1' AND seq = 5")) ==
        std::vector<std::string>{"5 s1 - -"});
  auto session = env.db().open_session();
  if (session->dialect() == infra::sql::dialect::postgres) {
    an::refresh_analytics(*session, true);
  }
  // Stages come in the pipeline's order; the deal entered each and moved on from each.
  const auto after = an::stage_conversions(*session, {});
  REQUIRE(after.rows.size() == 3);
  CHECK(after.rows[0].stage_id == "s0");
  CHECK(after.rows[0].stage_name == "Lead in");
  CHECK(after.rows[1].stage_id == "s1");
  CHECK(after.rows[1].advanced == 0);  // it only went back from Proposal
  CHECK(after.rows[2].advanced == 1);  // won from Negotiation
}

TEST_CASE_TEMPLATE("analytics: a close date pushed later slips, pulled earlier does not", Backend,
                   realmkit::testing::sqlite_backend, realmkit::testing::postgres_backend) {
  using std::chrono::sys_days;
  using std::chrono::year;
  realmkit::testing::projection_env<Backend> env;
  env.append("user-u1", rep("u1", std::nullopt));
  env.append("pipeline-p1", three_stages());
  const auto d0 = sys_days{year{2024} / 3 / 1};
  env.append("deal-d1", new_deal("d1", "u1", kMonday),
             domain::deal_close_date_changed{{"d1"}, d0, d0 + std::chrono::days{10}},
             domain::deal_close_date_changed{
                 {"d1"}, d0 + std::chrono::days{10}, d0 + std::chrono::days{4}},
             domain::deal_close_date_changed{
                 {"d1"}, d0 + std::chrono::days{4}, d0 + std::chrono::days{30}},
             domain::deal_close_date_changed{{"d1"}, d0 + std::chrono::days{30}, std::nullopt},
             domain::deal_close_date_changed{{"d1"}, std::nullopt, d0 + std::chrono::days{40}});
  env.append("deal-d2", new_deal("d2", "u1", kMonday));
  auto p = env.start({an::make_analytics_projection()});
  env.catch_up(*p);
  CHECK(texts(env.query("SELECT deal_id, slips, slip_days, first_close_date, expected_close_date, "
                        "expected_close_month FROM fact_deals ORDER BY deal_id")) ==
        std::vector<std::string>{"d1 2 36 2024-03-01 2024-04-10 2024-04",
                                 "d2 0 0 2024-03-01 2024-03-01 2024-03"});
  auto session = env.db().open_session();
  if (session->dialect() == infra::sql::dialect::postgres) an::refresh_analytics(*session, true);
  const auto slipped = an::slipped_deals(*session, {}, 10);
  REQUIRE(slipped.rows.size() == 1);
  CHECK(slipped.total == 1);
  CHECK(slipped.rows[0].deal_id == "d1");
  CHECK(slipped.rows[0].expected_close_date == "2024-04-10");
}

TEST_CASE_TEMPLATE("analytics: an open deal follows its owner's team, a closed one keeps it",
                   Backend, realmkit::testing::sqlite_backend,
                   realmkit::testing::postgres_backend) {
  realmkit::testing::projection_env<Backend> env;
  env.append("user-u1", rep("u1", "red"));
  env.append("pipeline-p1", three_stages());
  env.append("deal-open", new_deal("open", "u1", kMonday));
  env.append("deal-won", new_deal("won", "u1", kMonday),
             domain::deal_won{{"won"}, ts(kMonday + kDay)});
  env.append("user-u1",
             domain::user_team_changed{{"u1"}, domain::team_id{"red"}, domain::team_id{"blue"}});
  auto p = env.start({an::make_analytics_projection()});
  env.catch_up(*p);
  CHECK(texts(env.query("SELECT deal_id, team_id FROM fact_deals ORDER BY deal_id")) ==
        std::vector<std::string>{"open blue", "won red"});
  // The stay began while the owner was in red, and says so.
  CHECK(texts(env.query("SELECT team_id FROM fact_stage_intervals WHERE deal_id = 'open'")) ==
        std::vector<std::string>{"red"});

  // Read back by a new writer (a restart), the change still reaches the open deal only.
  p.reset();
  env.append("user-u1", domain::user_team_changed{{"u1"}, domain::team_id{"blue"}, std::nullopt});
  p = env.start({an::make_analytics_projection()});
  env.catch_up(*p);
  CHECK(texts(env.query("SELECT deal_id, team_id FROM fact_deals ORDER BY deal_id")) ==
        std::vector<std::string>{"open -", "won red"});
}

TEST_CASE_TEMPLATE("analytics: a lead converted before its deal exists, and the deal won", Backend,
                   realmkit::testing::sqlite_backend, realmkit::testing::postgres_backend) {
  realmkit::testing::projection_env<Backend> env;
  env.append("user-u1", rep("u1", "red"));
  env.append("pipeline-p1", three_stages());
  domain::lead_created lead;
  lead.lead = {"l1"};
  lead.name = "Grace";
  lead.source = domain::lead_source::referral;
  lead.owner = {"u1"};
  domain::lead_converted converted;
  converted.lead = {"l1"};
  converted.contact = {"c1"};
  converted.deal = domain::deal_id{"d1"};
  converted.at = ts(kMonday + 3 * kHour);
  env.append("lead-l1", lead, domain::lead_contacted{{"l1"}, ts(kMonday)},
             domain::lead_qualified{{"l1"}, ts(kMonday + kHour)}, converted);
  auto p = env.start({an::make_analytics_projection()});
  env.catch_up(*p);
  CHECK(texts(env.query("SELECT status, deal_id, deal_status, deal_won FROM fact_lead_funnel")) ==
        std::vector<std::string>{"converted d1 - 0"});

  env.append("deal-d1", new_deal("d1", "u1", kMonday + 3 * kHour),
             domain::deal_won{{"d1"}, ts(kMonday + 50 * kHour)});
  env.catch_up(*p);
  CHECK(texts(env.query("SELECT status, deal_id, deal_status, deal_won FROM fact_lead_funnel")) ==
        std::vector<std::string>{"converted d1 won 1"});
  CHECK(texts(env.query("SELECT lead_id FROM fact_deals")) == std::vector<std::string>{"l1"});
  auto session = env.db().open_session();
  if (session->dialect() == infra::sql::dialect::postgres) an::refresh_analytics(*session, true);
  const auto funnel = an::lead_funnel(*session, {}).totals;
  CHECK(funnel.leads == 1);
  CHECK(funnel.qualified == 1);
  CHECK(funnel.with_deal == 1);
  CHECK(funnel.won == 1);
  an::filters other;
  other.source = "web";
  CHECK(an::lead_funnel(*session, other).totals.leads == 0);
}

// ---- PostgreSQL: materialized views, their refresh, and the analysts' role

TEST_CASE(
    "analytics (postgres): views hold their contents until refreshed, which says how fresh "
    "they are") {
  realmkit::testing::projection_env<realmkit::testing::postgres_backend> env;
  env.append("user-u1", rep("u1", "red"));
  env.append("pipeline-p1", three_stages());
  env.append("deal-d1", new_deal("d1", "u1", kMonday));
  auto p = env.start({an::make_analytics_projection()});
  env.catch_up(*p);
  auto session = env.db().open_session();

  // Never refreshed in this generation: the readers compute from the facts.
  auto before = an::pipeline_stages(*session, {});
  CHECK(before.fresh.source == "live");
  REQUIRE(before.rows.size() == 1);
  CHECK(before.rows[0].deals == 1);

  auto first = an::refresh_analytics(*session, false);
  REQUIRE(first.refreshed);
  const auto position = env.store().head_position();
  CHECK(first.position == position);
  CHECK(an::refresh_analytics(*session, false).reason ==
        "the facts have not changed since the last refresh");

  // A second deal: the facts have it, the materialized view not yet.
  const auto appended = env.append("deal-d2", new_deal("d2", "u1", kMonday + kHour));
  env.catch_up(*p);
  auto stale = an::pipeline_stages(*session, {});
  CHECK(stale.fresh.source == "materialized");
  CHECK(stale.fresh.position == position);
  CHECK(stale.fresh.refreshed_at.has_value());
  CHECK(stale.rows[0].deals == 1);
  // Whoever needs the new deal asks for its position, and gets it from the facts.
  an::filters wants;
  wants.min_position = appended;
  const auto fresh = an::pipeline_stages(*session, wants);
  CHECK(fresh.fresh.source == "live");
  CHECK(fresh.fresh.position >= appended);
  CHECK(fresh.rows[0].deals == 2);

  const auto second = an::refresh_analytics(*session, false);
  REQUIRE(second.refreshed);
  CHECK(second.position == appended);
  const auto now = an::pipeline_stages(*session, wants);
  CHECK(now.fresh.source == "materialized");
  CHECK(now.rows[0].deals == 2);
  CHECK(texts(env.query("SELECT COUNT(*), MIN(position) FROM an_refreshes")) ==
        std::vector<std::string>{std::to_string(an::analytics_relations().size()) + " " +
                                 std::to_string(appended)});
}

TEST_CASE("analytics (postgres): the scheduled refresher refreshes once the facts change") {
  realmkit::testing::projection_env<realmkit::testing::postgres_backend> env;
  env.append("user-u1", rep("u1", "red"));
  env.append("pipeline-p1", three_stages());
  auto p = env.start({an::make_analytics_projection()});
  env.catch_up(*p);
  an::analytics_refresher refresher(env.db(), {.interval = 20ms});
  refresher.start();
  const auto appended = env.append("deal-d1", new_deal("d1", "u1", kMonday));
  env.catch_up(*p);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto last = refresher.last();
    if (last && last->position >= appended) break;
    std::this_thread::sleep_for(5ms);  // polling a condition, bounded by the deadline
  }
  const auto last = refresher.last();
  REQUIRE(last);
  CHECK(last->position >= appended);
  // Nothing changes afterwards: rounds go on, refreshes do not.
  const auto rounds = refresher.rounds();
  while (refresher.rounds() < rounds + 3 && std::chrono::steady_clock::now() < deadline + 10s) {
    std::this_thread::sleep_for(5ms);
  }
  CHECK(refresher.last()->position == last->position);
  CHECK(refresher.last()->took == last->took);
  refresher.stop();
}

TEST_CASE(
    "analytics (postgres): the analyst role reads read models and analytics, and nothing "
    "private, also after a rebuild") {
  realmkit::testing::projection_env<realmkit::testing::postgres_backend> env;
  env.append("user-u1", rep("u1", "red"));
  auto p = env.start({an::make_analytics_projection()});
  env.catch_up(*p);
  auto session = env.db().open_session();
  const auto can_read = [&](const std::string& relation) {
    const infra::sql::value params[] = {relation};
    const auto rows = session->query(
        "SELECT has_table_privilege('realmkit_analyst', quote_ident(current_schema()) || '.' || "
        "quote_ident($1), 'SELECT')",
        params);
    return rows[0].integer(0) == 1;
  };
  CHECK(session->query("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'realmkit_analyst'")[0]
            .integer(0) == 0);
  CHECK(session
            ->query("SELECT has_schema_privilege('realmkit_analyst', current_schema(), "
                    "'USAGE')")[0]
            .integer(0) == 1);
  for (const auto& r : an::all_relations()) {
    INFO(r);
    CHECK(can_read(r));          // the stable view
    CHECK(can_read(r + "_g1"));  // the generation behind it
  }
  CHECK(can_read("projection_generations"));
  CHECK_FALSE(can_read("events"));
  CHECK_FALSE(can_read("refresh_tokens"));
  CHECK_FALSE(can_read("jwt_keys"));
  CHECK_FALSE(can_read("projector_feed"));  // a copy of the log
  CHECK_FALSE(can_read("subject_keys"));    // would open every person's sealed fields
  CHECK_FALSE(can_read("inbound_unmatched"));
  CHECK_FALSE(can_read("webhook_subscriptions"));

  // A credentials read model, as the projector would create it: default privileges grant it,
  // the refresher takes that back.
  session->exec_script("CREATE TABLE rm_user_credentials_g1 (user_id text, password_hash text)");
  session->exec_script("CREATE VIEW rm_user_credentials AS SELECT * FROM rm_user_credentials_g1");
  CHECK(can_read("rm_user_credentials"));
  CHECK(an::revoke_private_relations(*session) == 2);
  CHECK_FALSE(can_read("rm_user_credentials"));
  CHECK_FALSE(can_read("rm_user_credentials_g1"));
  CHECK(an::revoke_private_relations(*session) == 0);

  // A rebuild's new generation is readable too, without any grant by hand.
  p->rebuild(an::kProjectionName);
  REQUIRE(p->wait_for_rebuild(an::kProjectionName, 20s));
  for (const auto& r : an::all_relations()) {
    INFO(r);
    CHECK(can_read(r + "_g2"));
    CHECK(can_read(r));
  }
  // And an analyst really reads through it.
  session->exec_script("SET ROLE realmkit_analyst");
  CHECK(session->query("SELECT COUNT(*) FROM fact_users")[0].integer(0) == 1);
  CHECK_THROWS_AS(session->query("SELECT COUNT(*) FROM events"), infra::sql::error);
  session->exec_script("RESET ROLE");
}

// ---- cost: run explicitly (--no-skip -tc="*benchmark*"); REALMKIT_ANALYTICS_BENCH_STEPS sets the
// history's length (each step is about one event).

TEST_CASE_TEMPLATE("analytics: rebuild and refresh cost over a large history (benchmark)" *
                       doctest::skip(),
                   Backend, realmkit::testing::sqlite_backend,
                   realmkit::testing::postgres_backend) {
  using clock = std::chrono::steady_clock;
  const auto seconds = [](clock::duration d) { return std::chrono::duration<double>(d).count(); };
  int steps = 300'000;
  if (const char* s = std::getenv("REALMKIT_ANALYTICS_BENCH_STEPS")) steps = std::atoi(s);
  realmkit::testing::projection_env<Backend> env;
  generator g(7, 400);
  g.setup();
  for (int done = 0; done < steps; done += 10'000) {
    g.run(std::min(10'000, steps - done));
    g.append_to(env.store());
  }
  const auto head = env.store().head_position();

  projections::projector_options options;
  options.live_batch_events = 10'000;
  // CPU time of this process too: the machine is shared, and on SQLite nearly all of it is the
  // projector's thread (the test waits, the store is idle).
  const auto cpu = [] { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; };
  auto started = clock::now();
  auto cpu_started = cpu();
  auto p = env.start({an::make_analytics_projection()}, options);
  env.catch_up(*p, 600s);
  const double first = seconds(clock::now() - started);
  const double first_cpu = cpu() - cpu_started;

  started = clock::now();
  cpu_started = cpu();
  p->rebuild(an::kProjectionName);
  REQUIRE(p->wait_for_rebuild(an::kProjectionName, 600s));
  const double rebuild = seconds(clock::now() - started);
  const double rebuild_cpu = cpu() - cpu_started;
  auto session = env.db().open_session();
  CHECK(an::analytics_position(*session) == head);

  double refresh = 0;
  if (session->dialect() == infra::sql::dialect::postgres) {
    started = clock::now();
    REQUIRE(an::refresh_analytics(*session, true).refreshed);
    refresh = seconds(clock::now() - started);
  }
  std::string reports;
  const auto time_report = [&](const char* name, auto&& run) {
    const auto t = clock::now();
    run();
    reports +=
        std::string(" ") + name + "=" + std::to_string(seconds(clock::now() - t) * 1e3) + "ms";
  };
  const an::filters all;
  time_report("pipeline", [&] { an::pipeline_stages(*session, all); });
  time_report("forecast", [&] { an::forecast(*session, all); });
  time_report("win_rates", [&] { an::win_rates(*session, all, an::win_rate_group::team); });
  time_report("durations", [&] { an::stage_durations(*session, all); });
  time_report("conversion", [&] { an::stage_conversions(*session, all); });
  time_report("funnel", [&] { an::lead_funnel(*session, all); });
  time_report("slipped", [&] { an::slipped_deals(*session, all, 100); });
  time_report("velocity", [&] { an::sales_velocity(*session, all); });
  time_report("activities", [&] { an::activities_per_week(*session, all); });
  an::filters owner;
  owner.owner = g.reps()[0];
  time_report("durations_by_owner", [&] { an::stage_durations(*session, owner); });
  MESSAGE(std::string(Backend::kName)
          << ": " << head << " events, " << g.deals().size() << " deals; first build " << first
          << " s (" << static_cast<double>(head) / first << " events/s, "
          << static_cast<double>(head) / first_cpu << " per CPU-second of this process), rebuild "
          << rebuild << " s (" << static_cast<double>(head) / rebuild << " events/s, "
          << static_cast<double>(head) / rebuild_cpu << " per CPU-second of this process), refresh "
          << refresh << " s;" << reports);
}
