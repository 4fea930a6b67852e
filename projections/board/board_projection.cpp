#include "projections/board/board_projection.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "domain/company/company_events.hpp"
#include "domain/deal/deal_events.hpp"
#include "domain/pipeline/pipeline_events.hpp"
#include "infra/event_codec.hpp"
#include "infra/json/json_time.hpp"
#include "projections/support/statement_batch.hpp"
#include "projections/support/user_table.hpp"

namespace realmkit::projections::board {
namespace {

namespace sql = infra::sql;
using namespace domain;
using support::statement_batch;

// Past this many cached deals the writer drops its cache after a flush and looks rows up again:
// a rebuild over millions of deals stays within memory.
constexpr std::size_t kMaxCachedDeals = 100'000;
// Deals looked up per statement.
constexpr std::size_t kLookupChunk = 500;

struct deal_row {
  bool exists = false;
  std::string pipeline, stage, title, currency, owner;
  std::int64_t amount = 0;
  std::optional<std::string> company, close_date;
  std::int64_t entered_us = 0;
  std::int64_t version = 0;
  std::string status = "open";
  bool archived = false;

  bool on_board() const { return exists && status == "open" && !archived; }
};

struct stage_row {
  std::string id, name;
  int probability = 0;
};

struct pipeline_row {
  std::string name;
  bool archived = false;
  std::vector<stage_row> stages;
};

using totals_key = std::tuple<std::string, std::string, std::string, std::string>;
struct totals_delta {
  std::int64_t deals = 0;
  std::int64_t total = 0;
};

struct pending_deal {
  deal_event event;
  std::int64_t version = 0;
  std::int64_t position = 0;
};

const deal_id& deal_of(const deal_event& e) {
  return std::visit([](const auto& v) -> const deal_id& { return v.deal; }, e);
}

std::optional<std::string> day_text(const std::optional<date>& d) {
  if (!d) return std::nullopt;
  return infra::format_date(*d);
}

sql::value text_or_null(const std::optional<std::string>& s) {
  return s ? sql::value(*s) : sql::null();
}

class writer final : public projection_writer {
 public:
  explicit writer(const relation_names& names)
      : pipelines_(sql::identifier(names("rm_board_pipelines"))),
        stages_(sql::identifier(names("rm_board_stages"))),
        deals_(sql::identifier(names("rm_board_deals"))),
        totals_(sql::identifier(names("rm_board_totals"))),
        stage_totals_(sql::identifier(names("rm_board_stage_totals"))),
        companies_(sql::identifier(names("rm_board_companies"))),
        users_(names("rm_board_users")) {}

  void apply(const infra::recorded_event& e, apply_context& ctx) override {
    load_small_tables(ctx);
    if (support::user_table::handles(e.type)) {
      if (auto moved = users_.apply(e, batch_)) moved_.insert(*moved);
    } else if (e.type.starts_with("deal.")) {
      pending_.push_back({infra::decode_event<deal_event>(e), e.stream_version, e.global_position});
    } else if (e.type.starts_with("pipeline.")) {
      apply_pipeline(infra::decode_event<pipeline_event>(e));
    } else if (e.type.starts_with("company.")) {
      apply_company(infra::decode_event<company_event>(e));
    }
  }

  void flush(apply_context& ctx) override {
    look_up_deals(ctx);
    for (const auto& p : pending_) fold(p);
    pending_.clear();

    batch_.run(ctx.db);
    write_pipelines(ctx.db);
    write_changed_owners(ctx.db);
    write_renamed_companies(ctx.db);
    write_deals(ctx.db);
    write_totals(ctx.db);
    if (deals_cache_.size() > kMaxCachedDeals) {
      deals_cache_.clear();
      deals_complete_ = false;
    }
  }

  void discard() noexcept override {
    batch_.clear();
    pending_.clear();
    moved_.clear();
    dirty_deals_.clear();
    dirty_pipelines_.clear();
    deltas_.clear();
    deals_cache_.clear();
    deals_complete_ = false;
    pipelines_cache_.clear();
    pipelines_loaded_ = false;
    companies_cache_.clear();
    companies_loaded_ = false;
    renamed_companies_.clear();
    users_.forget();
  }

 private:
  // Users (teams and names), pipelines (stage order) and company names are few next to deals:
  // kept whole in memory, so cards carry them without a join when read.
  void load_small_tables(apply_context& ctx) {
    if (!companies_loaded_) {
      companies_cache_.clear();
      if (!ctx.fresh) {
        for (const auto& r : ctx.db.query("SELECT company_id, name FROM " + companies_)) {
          companies_cache_[r.text(0)] = r.text(1);
        }
      }
      companies_loaded_ = true;
    }
    if (!users_.loaded()) {
      if (ctx.fresh) {
        users_.mark_loaded();
      } else {
        users_.load(ctx.db);
      }
    }
    if (!pipelines_loaded_) {
      pipelines_cache_.clear();
      if (!ctx.fresh) {
        for (const auto& r :
             ctx.db.query("SELECT pipeline_id, name, archived FROM " + pipelines_)) {
          pipelines_cache_[r.text(0)] = {r.text(1), r.integer(2) != 0, {}};
        }
        for (const auto& r : ctx.db.query("SELECT pipeline_id, stage_id, name, probability FROM " +
                                          stages_ + " ORDER BY pipeline_id, position")) {
          pipelines_cache_[r.text(0)].stages.push_back(
              {r.text(1), r.text(2), static_cast<int>(r.integer(3))});
        }
      }
      pipelines_loaded_ = true;
    }
  }

  pipeline_row& pipeline(const pipeline_id& id) {
    dirty_pipelines_.insert(id.value);
    return pipelines_cache_[id.value];
  }

  static std::vector<stage_row>::iterator find_stage(pipeline_row& p, const stage_id& id) {
    return std::find_if(p.stages.begin(), p.stages.end(),
                        [&](const stage_row& s) { return s.id == id.value; });
  }

  void apply_pipeline(const pipeline_event& event) {
    std::visit(overloaded{
                   [&](const pipeline_created& e) {
                     auto& p = pipeline(e.pipeline);
                     p = {e.name, false, {}};
                     for (const auto& s : e.stages)
                       p.stages.push_back({s.id.value, s.name, s.probability});
                   },
                   [&](const pipeline_renamed& e) { pipeline(e.pipeline).name = e.name; },
                   [&](const pipeline_stage_added& e) {
                     auto& p = pipeline(e.pipeline);
                     const auto at = std::clamp<std::ptrdiff_t>(
                         e.position, 0, static_cast<std::ptrdiff_t>(p.stages.size()));
                     p.stages.insert(p.stages.begin() + at,
                                     {e.stage.id.value, e.stage.name, e.stage.probability});
                   },
                   [&](const pipeline_stage_renamed& e) {
                     auto& p = pipeline(e.pipeline);
                     if (auto it = find_stage(p, e.stage); it != p.stages.end()) it->name = e.name;
                   },
                   [&](const pipeline_stage_probability_changed& e) {
                     auto& p = pipeline(e.pipeline);
                     if (auto it = find_stage(p, e.stage); it != p.stages.end()) {
                       it->probability = e.probability;
                     }
                   },
                   [&](const pipeline_stages_reordered& e) {
                     auto& p = pipeline(e.pipeline);
                     std::vector<stage_row> ordered;
                     for (const auto& id : e.stage_ids) {
                       if (auto it = find_stage(p, id); it != p.stages.end())
                         ordered.push_back(*it);
                     }
                     // A stage the event does not name keeps its place at the end rather than
                     // vanishing.
                     for (const auto& s : p.stages) {
                       if (std::none_of(ordered.begin(), ordered.end(),
                                        [&](const stage_row& o) { return o.id == s.id; })) {
                         ordered.push_back(s);
                       }
                     }
                     p.stages = std::move(ordered);
                   },
                   [&](const pipeline_stage_removed& e) {
                     auto& p = pipeline(e.pipeline);
                     if (auto it = find_stage(p, e.stage); it != p.stages.end()) p.stages.erase(it);
                   },
                   [&](const pipeline_archived& e) { pipeline(e.pipeline).archived = true; },
               },
               event);
  }

  void apply_company(const company_event& event) {
    std::visit(overloaded{
                   [&](const company_created& e) {
                     companies_cache_[e.company.value] = e.name;
                     batch_.add("INSERT INTO " + companies_ +
                                    " (company_id, name) VALUES ($1, $2) ON CONFLICT (company_id) "
                                    "DO UPDATE SET name = excluded.name",
                                {e.company.value, e.name});
                   },
                   [&](const company_updated& e) {
                     if (!e.name) return;
                     companies_cache_[e.company.value] = *e.name;
                     renamed_companies_.insert(e.company.value);
                     batch_.add("UPDATE " + companies_ + " SET name = $2 WHERE company_id = $1",
                                {e.company.value, *e.name});
                   },
                   [](const auto&) {},
               },
               event);
  }

  // Reads the deals the pending events touch and the cache lacks, a chunk per statement. A
  // generation that started empty and whose cache holds everything it wrote needs none.
  void look_up_deals(apply_context& ctx) {
    if (ctx.fresh && deals_complete_) return;
    std::vector<std::string> missing;
    std::set<std::string> seen;
    for (const auto& p : pending_) {
      const auto& id = deal_of(p.event).value;
      if (!deals_cache_.contains(id) && seen.insert(id).second) missing.push_back(id);
    }
    const std::string select =
        "SELECT deal_id, pipeline_id, stage_id, title, amount_minor, currency, owner_id, "
        "company_id, expected_close_date, stage_entered_us, version, status, archived FROM " +
        deals_ + " WHERE deal_id IN (" + support::key_set(ctx.db.dialect(), 1) + ")";
    for (std::size_t from = 0; from < missing.size(); from += kLookupChunk) {
      const std::vector<std::string> chunk(
          missing.begin() + static_cast<std::ptrdiff_t>(from),
          missing.begin() +
              static_cast<std::ptrdiff_t>(std::min(missing.size(), from + kLookupChunk)));
      const sql::value params[] = {support::json_array(chunk)};
      for (const auto& r : ctx.db.query(select, params)) {
        deal_row d;
        d.exists = true;
        d.pipeline = r.text(1);
        d.stage = r.text(2);
        d.title = r.text(3);
        d.amount = r.integer(4);
        d.currency = r.text(5);
        d.owner = r.text(6);
        d.company = r.optional_text(7);
        d.close_date = r.optional_text(8);
        d.entered_us = r.integer(9);
        d.version = r.integer(10);
        d.status = r.text(11);
        d.archived = r.integer(12) != 0;
        deals_cache_[r.text(0)] = std::move(d);
      }
      for (const auto& id : chunk) deals_cache_.try_emplace(id);  // absent: not created yet
    }
  }

  void contribute(const deal_row& d, std::int64_t sign) {
    if (!d.on_board()) return;
    auto& delta = deltas_[{d.pipeline, d.stage, d.owner, d.currency}];
    delta.deals += sign;
    delta.total += sign * d.amount;
  }

  void fold(const pending_deal& p) {
    const auto& id = deal_of(p.event).value;
    auto& d = deals_cache_[id];
    const bool creates = std::holds_alternative<deal_created>(p.event);
    if (!creates && !d.exists) {
      throw std::runtime_error("the deal event at position " + std::to_string(p.position) +
                               " is for deal " + id + ", which was never created");
    }
    contribute(d, -1);
    std::visit(overloaded{
                   [&](const deal_created& e) {
                     d = deal_row{};
                     d.exists = true;
                     d.pipeline = e.pipeline.value;
                     d.stage = e.stage.value;
                     d.title = e.title;
                     d.amount = e.value.amount_minor;
                     d.currency = e.value.currency;
                     d.owner = e.owner.value;
                     if (e.company) d.company = e.company->value;
                     d.close_date = day_text(e.expected_close_date);
                     d.entered_us = support::micros(e.at);
                   },
                   [&](const deal_renamed& e) { d.title = e.title; },
                   [&](const deal_value_changed& e) {
                     d.amount = e.to.amount_minor;
                     d.currency = e.to.currency;
                   },
                   [&](const deal_stage_moved& e) {
                     d.pipeline = e.pipeline.value;
                     d.stage = e.to_stage.value;
                     d.entered_us = support::micros(e.at);
                   },
                   [&](const deal_owner_assigned& e) { d.owner = e.to_owner.value; },
                   [&](const deal_company_linked& e) { d.company = e.company.value; },
                   [&](const deal_company_unlinked& e) {
                     if (d.company == e.company.value) d.company.reset();
                   },
                   [&](const deal_contact_linked&) {},
                   [&](const deal_contact_unlinked&) {},
                   [&](const deal_contact_relinked&) {},
                   [&](const deal_close_date_changed& e) { d.close_date = day_text(e.to); },
                   [&](const deal_won&) { d.status = "won"; },
                   [&](const deal_lost&) { d.status = "lost"; },
                   [&](const deal_reopened& e) {
                     d.status = "open";
                     d.stage = e.stage.value;
                     d.entered_us = support::micros(e.at);
                   },
                   [&](const deal_archived&) { d.archived = true; },
                   [&](const deal_restored&) { d.archived = false; },
               },
               p.event);
    d.version = p.version;
    contribute(d, +1);
    dirty_deals_.insert(id);
  }

  void write_pipelines(sql::session& db) {
    statement_batch out;
    for (const auto& id : dirty_pipelines_) {
      const auto& p = pipelines_cache_.at(id);
      out.add("INSERT INTO " + pipelines_ +
                  " (pipeline_id, name, archived) VALUES ($1, $2, $3) ON CONFLICT (pipeline_id) "
                  "DO UPDATE SET name = excluded.name, archived = excluded.archived",
              {id, p.name, sql::boolean(p.archived)});
      out.add("DELETE FROM " + stages_ + " WHERE pipeline_id = $1", {id});
      std::int64_t position = 0;
      for (const auto& s : p.stages) {
        out.add("INSERT INTO " + stages_ +
                    " (pipeline_id, stage_id, position, name, probability) VALUES ($1, $2, $3, "
                    "$4, $5)",
                {id, s.id, position++, s.name, std::int64_t{s.probability}});
      }
    }
    out.run(db);
    dirty_pipelines_.clear();
  }

  // A user who changed teams takes their cards along (the team is what visibility filters on);
  // a renamed one renames their cards.
  void write_changed_owners(sql::session& db) {
    std::vector<std::vector<sql::value>> rows;
    for (const auto& user : moved_) {
      rows.push_back(
          {user, text_or_null(users_.team_of(user)), text_or_null(users_.name_of(user))});
    }
    db.execute_many(
        "UPDATE " + deals_ + " SET owner_team = $2, owner_name = $3 WHERE owner_id = $1", rows);
    moved_.clear();
  }

  void write_renamed_companies(sql::session& db) {
    std::vector<std::vector<sql::value>> rows;
    for (const auto& company : renamed_companies_) {
      rows.push_back({company, companies_cache_.at(company)});
    }
    db.execute_many("UPDATE " + deals_ + " SET company_name = $2 WHERE company_id = $1", rows);
    renamed_companies_.clear();
  }

  std::optional<std::string> company_name(const std::optional<std::string>& company) const {
    if (!company) return std::nullopt;
    const auto it = companies_cache_.find(*company);
    if (it == companies_cache_.end()) return std::nullopt;
    return it->second;
  }

  void write_deals(sql::session& db) {
    std::vector<std::vector<sql::value>> rows;
    rows.reserve(dirty_deals_.size());
    for (const auto& id : dirty_deals_) {
      const auto& d = deals_cache_.at(id);
      rows.push_back({id, d.pipeline, d.stage, d.title, d.amount, d.currency, d.owner,
                      text_or_null(users_.team_of(d.owner)), text_or_null(users_.name_of(d.owner)),
                      text_or_null(d.company), text_or_null(company_name(d.company)),
                      text_or_null(d.close_date), d.entered_us, d.version, d.status,
                      sql::boolean(d.archived), sql::boolean(d.on_board())});
    }
    db.execute_many(
        "INSERT INTO " + deals_ +
            " (deal_id, pipeline_id, stage_id, title, amount_minor, currency, owner_id, "
            "owner_team, owner_name, company_id, company_name, expected_close_date, "
            "stage_entered_us, version, status, archived, on_board) VALUES ($1, $2, $3, $4, $5, "
            "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (deal_id) DO "
            "UPDATE SET pipeline_id = excluded.pipeline_id, stage_id = excluded.stage_id, title = "
            "excluded.title, amount_minor = excluded.amount_minor, currency = excluded.currency, "
            "owner_id = excluded.owner_id, owner_team = excluded.owner_team, owner_name = "
            "excluded.owner_name, company_id = excluded.company_id, company_name = "
            "excluded.company_name, "
            "expected_close_date = excluded.expected_close_date, stage_entered_us = "
            "excluded.stage_entered_us, version = excluded.version, status = excluded.status, "
            "archived = excluded.archived, on_board = excluded.on_board",
        rows);
    dirty_deals_.clear();
  }

  // Totals move by deltas (no read needed); a row whose count reaches zero goes, so the table
  // holds the same rows however the events were batched. Per owner for scoped boards, and per
  // stage for the board of everyone.
  void write_totals(sql::session& db) {
    std::vector<std::vector<sql::value>> upserts, keys;
    std::map<std::tuple<std::string, std::string, std::string>, totals_delta> per_stage;
    for (const auto& [key, delta] : deltas_) {
      if (delta.deals == 0 && delta.total == 0) continue;
      const auto& [pipeline, stage, owner, currency] = key;
      upserts.push_back({pipeline, stage, owner, currency, delta.deals, delta.total});
      if (delta.deals < 0) keys.push_back({pipeline, stage, owner, currency});
      auto& s = per_stage[{pipeline, stage, currency}];
      s.deals += delta.deals;
      s.total += delta.total;
    }
    std::vector<std::vector<sql::value>> stage_upserts, stage_keys;
    for (const auto& [key, delta] : per_stage) {
      if (delta.deals == 0 && delta.total == 0) continue;
      const auto& [pipeline, stage, currency] = key;
      stage_upserts.push_back({pipeline, stage, currency, delta.deals, delta.total});
      if (delta.deals < 0) stage_keys.push_back({pipeline, stage, currency});
    }
    db.execute_many("INSERT INTO " + stage_totals_ +
                        " (pipeline_id, stage_id, currency, deals, total) VALUES ($1, $2, $3, $4, "
                        "$5) ON CONFLICT (pipeline_id, stage_id, currency) DO UPDATE SET deals = " +
                        stage_totals_ + ".deals + excluded.deals, total = " + stage_totals_ +
                        ".total + excluded.total",
                    stage_upserts);
    db.execute_many("DELETE FROM " + stage_totals_ +
                        " WHERE pipeline_id = $1 AND stage_id = $2 AND currency = $3 AND deals = 0",
                    stage_keys);
    db.execute_many("INSERT INTO " + totals_ +
                        " (pipeline_id, stage_id, owner_id, currency, deals, total) VALUES ($1, "
                        "$2, $3, $4, $5, $6) ON CONFLICT (pipeline_id, stage_id, owner_id, "
                        "currency) DO UPDATE SET deals = " +
                        totals_ + ".deals + excluded.deals, total = " + totals_ +
                        ".total + excluded.total",
                    upserts);
    db.execute_many("DELETE FROM " + totals_ +
                        " WHERE pipeline_id = $1 AND stage_id = $2 AND owner_id = $3 AND "
                        "currency = $4 AND deals = 0",
                    keys);
    deltas_.clear();
  }

  std::string pipelines_, stages_, deals_, totals_, stage_totals_, companies_;
  support::user_table users_;
  statement_batch batch_;  // users and companies, in event order
  std::vector<pending_deal> pending_;
  std::unordered_map<std::string, deal_row> deals_cache_;
  bool deals_complete_ = true;  // the cache holds every deal of the generation (while fresh)
  std::set<std::string> dirty_deals_;
  std::map<std::string, pipeline_row> pipelines_cache_;
  bool pipelines_loaded_ = false;
  std::set<std::string> dirty_pipelines_;
  std::set<std::string> moved_;  // users whose team or name changed
  std::unordered_map<std::string, std::string> companies_cache_;  // id → name
  bool companies_loaded_ = false;
  std::set<std::string> renamed_companies_;
  std::map<totals_key, totals_delta> deltas_;
};

}  // namespace

std::vector<std::string> board_projection::relations() const {
  return {"rm_board_pipelines",    "rm_board_stages", "rm_board_deals",    "rm_board_totals",
          "rm_board_stage_totals", "rm_board_users",  "rm_board_companies"};
}

void board_projection::create(sql::session& db, const relation_names& names) const {
  const auto deals = names("rm_board_deals");
  db.exec_script("CREATE TABLE " + sql::identifier(names("rm_board_pipelines")) +
                 " (pipeline_id TEXT PRIMARY KEY, name TEXT NOT NULL, archived BIGINT NOT NULL)");
  db.exec_script("CREATE TABLE " + sql::identifier(names("rm_board_stages")) +
                 " (pipeline_id TEXT NOT NULL, stage_id TEXT NOT NULL, position BIGINT NOT NULL, "
                 "name TEXT NOT NULL, probability BIGINT NOT NULL, PRIMARY KEY (pipeline_id, "
                 "stage_id))");
  db.exec_script("CREATE TABLE " + sql::identifier(deals) +
                 " (deal_id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL, stage_id TEXT NOT NULL, "
                 "title TEXT NOT NULL, amount_minor BIGINT NOT NULL, currency TEXT NOT NULL, "
                 "owner_id TEXT NOT NULL, owner_team TEXT, owner_name TEXT, company_id TEXT, "
                 "company_name TEXT, expected_close_date TEXT, stage_entered_us BIGINT NOT NULL, "
                 "version BIGINT NOT NULL, status TEXT NOT NULL, archived BIGINT NOT NULL, "
                 "on_board BIGINT NOT NULL)");
  // A stage's cards in board order, for everyone, for one team and for one owner; only cards on
  // the board are indexed.
  db.exec_script("CREATE INDEX " + sql::identifier(deals + "_stage") + " ON " +
                 sql::identifier(deals) +
                 " (pipeline_id, stage_id, stage_entered_us, deal_id) WHERE on_board = 1");
  db.exec_script("CREATE INDEX " + sql::identifier(deals + "_team") + " ON " +
                 sql::identifier(deals) +
                 " (pipeline_id, stage_id, owner_team, stage_entered_us, deal_id) WHERE "
                 "on_board = 1");
  db.exec_script("CREATE INDEX " + sql::identifier(deals + "_owner_stage") + " ON " +
                 sql::identifier(deals) +
                 " (pipeline_id, stage_id, owner_id, stage_entered_us, deal_id) WHERE "
                 "on_board = 1");
  // Every deal of an owner (moved to another team, renamed) and of a company (renamed).
  db.exec_script("CREATE INDEX " + sql::identifier(deals + "_owner") + " ON " +
                 sql::identifier(deals) + " (owner_id)");
  db.exec_script("CREATE INDEX " + sql::identifier(deals + "_company") + " ON " +
                 sql::identifier(deals) + " (company_id)");
  db.exec_script("CREATE TABLE " + sql::identifier(names("rm_board_totals")) +
                 " (pipeline_id TEXT NOT NULL, stage_id TEXT NOT NULL, owner_id TEXT NOT NULL, "
                 "currency TEXT NOT NULL, deals BIGINT NOT NULL, total BIGINT NOT NULL, PRIMARY "
                 "KEY (pipeline_id, stage_id, owner_id, currency))");
  db.exec_script("CREATE TABLE " + sql::identifier(names("rm_board_stage_totals")) +
                 " (pipeline_id TEXT NOT NULL, stage_id TEXT NOT NULL, currency TEXT NOT NULL, "
                 "deals BIGINT NOT NULL, total BIGINT NOT NULL, PRIMARY KEY (pipeline_id, "
                 "stage_id, currency))");
  support::user_table::create(db, names("rm_board_users"));
  db.exec_script("CREATE TABLE " + sql::identifier(names("rm_board_companies")) +
                 " (company_id TEXT PRIMARY KEY, name TEXT NOT NULL)");
}

bool board_projection::handles(std::string_view type) const {
  if (support::user_table::handles(type)) return true;
  if (type.starts_with("deal.")) return infra::can_decode<deal_event>(type);
  if (type.starts_with("pipeline.")) return infra::can_decode<pipeline_event>(type);
  return type == company_created::kType || type == company_updated::kType;
}

std::unique_ptr<projection_writer> board_projection::open(const relation_names& names) const {
  return std::make_unique<writer>(names);
}

}  // namespace realmkit::projections::board
