// A generated CRM history for tests and benchmarks: teams and users, pipelines, companies,
// contacts, leads through the funnel, deals moving back and forth between stages until won or
// lost, activities and tasks — every event decided by the domain's own decide functions (so the
// history is one the command path could have written), with time advancing a few minutes per
// command. Deterministic for a seed. Events come out as store writes, in large appends.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
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
#include "infra/event_metadata.hpp"
#include "infra/event_store.hpp"

namespace realmkit::testing {

struct crm_history_options {
  std::uint32_t seed = 1;
  int teams = 4;
  int users_per_team = 6;
  int pipelines = 2;
  // History starts here and each command moves the clock 1–`max_step` ahead.
  domain::timestamp start =
      domain::timestamp{std::chrono::sys_days{std::chrono::year{2025} / std::chrono::January / 6}};
  std::chrono::seconds max_step{900};
};

class crm_history {
 public:
  explicit crm_history(crm_history_options options = {})
      : options_(options), random_(options.seed), now_(options.start) {}

  // About `events` more events (a command's events are never split), as writes to append in one
  // call. The first call also sets up teams, users and pipelines.
  std::vector<infra::stream_write> next(std::size_t events) {
    pending_.clear();
    produced_ = 0;
    if (users_.empty()) setup();
    while (produced_ < events) step();
    return take_writes();
  }

  // Appends until at least `events` events were written; returns the head position. An append
  // holds at most 1,000 events and a command's events are never split, hence some room.
  std::int64_t append_to(infra::event_store& store, std::size_t events,
                         std::size_t per_append = 900) {
    std::int64_t position = 0;
    std::size_t written = 0;
    while (written < events) {
      const auto writes = next(std::min(per_append, events - written));
      for (const auto& w : writes) written += w.events.size();
      position = store.append(writes, std::nullopt).position;
    }
    return position;
  }

  // About `contacts` contact.created events (after the setup and a few companies), in appends
  // of `per_append`: a contact base for search benchmarks.
  std::int64_t append_contacts_to(infra::event_store& store, std::size_t contacts,
                                  std::size_t per_append = 900) {
    std::int64_t position = 0;
    std::size_t written = 0;
    while (written < contacts) {
      pending_.clear();
      produced_ = 0;
      if (users_.empty()) setup();
      while (companies_.size() < 50) new_company(pick_from(users_));
      while (produced_ < std::min(per_append, contacts - written)) new_contact(pick_from(users_));
      written += produced_;
      position = store.append(take_writes(), std::nullopt).position;
    }
    return position;
  }

  std::size_t total_events() const { return total_; }
  domain::timestamp now() const { return now_; }

 private:
  using clock_step = std::uniform_int_distribution<long long>;

  std::string make_id(std::string_view prefix) {
    return std::string(prefix) + std::to_string(++next_id_);
  }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(random_) < p; }
  template <class T>
  const T& pick_from(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))];
  }

  domain::command_context context(const std::string& actor) {
    now_ += std::chrono::seconds(clock_step(1, options_.max_step.count())(random_));
    return {domain::user_id{actor}, now_};
  }

  // Decides a command for one aggregate, folds the events into its state, queues them.
  template <class Aggregate, class State, class Command, class... Extra>
  bool run(State& state, const std::string& id, const Command& command, const std::string& actor,
           const Extra&... extra) {
    const auto ctx = context(actor);
    auto decision = decide(typename Aggregate::command{command}, state, extra..., ctx);
    if (!decision.ok()) return false;
    const std::string stream = std::string(Aggregate::kCategory) + "-" + id;
    infra::event_metadata meta;
    meta.actor = actor;
    meta.correlation_id = "gen-" + std::to_string(total_);
    const auto metadata = infra::encode_metadata(meta);
    for (auto& e : decision.events()) {
      state = evolve(std::move(state), e);
      queue(stream, infra::encode_event(e, make_id("evt-"), metadata));
    }
    return true;
  }

  // What was queued, in the order the streams were first written to, so records come before
  // what refers to them.
  std::vector<infra::stream_write> take_writes() {
    std::vector<infra::stream_write> out;
    out.reserve(pending_.size());
    for (const auto& stream : pending_order_) out.push_back(std::move(pending_.at(stream)));
    pending_order_.clear();
    pending_.clear();
    return out;
  }

  void queue(const std::string& stream, infra::new_event e) {
    auto it = pending_.find(stream);
    if (it == pending_.end()) {
      it = pending_.emplace(stream, infra::stream_write{stream, std::nullopt, {}}).first;
      pending_order_.push_back(stream);
    }
    it->second.events.push_back(std::move(e));
    ++produced_;
    ++total_;
  }

  void setup() {
    const std::string admin = "u-admin";
    for (int t = 0; t < options_.teams; ++t) {
      const auto id = make_id("team-");
      teams_.push_back(id);
      run<domain::team_aggregate>(
          team_states_[id], id, domain::create_team{domain::team_id{id}, "Team " + id, {}}, admin);
      for (int u = 0; u < options_.users_per_team; ++u) {
        const auto uid = make_id("user-");
        domain::register_user r{domain::user_id{uid},
                                uid + "@example.com",
                                "User " + uid,
                                u == 0 ? domain::user_role::manager : domain::user_role::sales_rep,
                                domain::team_id{id},
                                std::nullopt};
        run<domain::user_aggregate>(user_states_[uid], uid, r, admin);
        users_.push_back(uid);
      }
    }
    for (int p = 0; p < options_.pipelines; ++p) {
      const auto id = make_id("pipe-");
      std::vector<domain::pipeline_stage> stages;
      const int probabilities[] = {10, 25, 50, 75, 90};
      for (int s = 0; s < 5; ++s) {
        stages.push_back({domain::stage_id{make_id("stage-")}, "Stage " + std::to_string(s + 1),
                          probabilities[s]});
      }
      run<domain::pipeline_aggregate>(
          pipeline_states_[id], id,
          domain::create_pipeline{domain::pipeline_id{id}, "Pipeline " + id, stages}, admin);
      pipelines_.push_back(id);
    }
  }

  void step() {
    const auto& actor = pick_from(users_);
    const int roll = pick(100);
    if (roll < 6 || companies_.empty()) return new_company(actor);
    if (roll < 18 || contacts_.empty()) return new_contact(actor);
    if (roll < 26) return new_lead(actor);
    if (roll < 34 && !leads_.empty()) return advance_lead(actor);
    if (roll < 44 || open_deals_.empty()) return new_deal(actor);
    if (roll < 66) return move_deal(actor);
    if (roll < 71) return change_value(actor);
    if (roll < 74) return change_close_date(actor);
    if (roll < 80) return close_deal(actor);
    if (roll < 81 && !closed_deals_.empty()) return reopen_deal(actor);
    if (roll < 92) return log_activity(actor);
    if (roll < 97 || open_tasks_.empty()) return new_task(actor);
    return complete_task(actor);
  }

  void new_company(const std::string& actor) {
    const auto id = make_id("co-");
    domain::create_company c;
    c.company = domain::company_id{id};
    c.name = "Company " + id;
    c.domain = id + ".example.com";
    c.owner = domain::user_id{actor};
    if (run<domain::company_aggregate>(company_states_[id], id, c, actor)) companies_.push_back(id);
  }

  void new_contact(const std::string& actor) {
    static const char* first[] = {"Anna",  "Ben",  "Carla", "Dmitri", "Elif",  "Farid",
                                  "Greta", "Hugo", "Ines",  "Jonas",  "Kemal", "Lena"};
    static const char* last[] = {"Meyer",   "Novak",  "Okafor", "Petrov", "Quinn", "Rossi",
                                 "Schmidt", "Tanaka", "Ueda",   "Varga",  "Weber", "Young"};
    const auto id = make_id("ct-");
    domain::create_contact c;
    c.contact = domain::contact_id{id};
    c.first_name = first[pick(12)];
    c.last_name = last[pick(12)];
    c.emails.push_back({id + "@mail.example.com", true});
    c.company = domain::company_id{pick_from(companies_)};
    c.owner = domain::user_id{actor};
    if (run<domain::contact_aggregate>(contact_states_[id], id, c, actor)) contacts_.push_back(id);
  }

  void new_lead(const std::string& actor) {
    const auto id = make_id("lead-");
    domain::create_lead c;
    c.lead = domain::lead_id{id};
    c.name = "Lead " + id;
    c.email = id + "@lead.example.com";
    c.source = static_cast<domain::lead_source>(pick(7));
    c.owner = domain::user_id{actor};
    if (run<domain::lead_aggregate>(lead_states_[id], id, c, actor)) leads_.push_back(id);
  }

  void advance_lead(const std::string& actor) {
    const auto id = pick_from(leads_);
    auto& state = lead_states_[id];
    switch (state.status) {
      case domain::lead_status::fresh:
        if (chance(0.85)) {
          run<domain::lead_aggregate>(state, id, domain::mark_lead_contacted{domain::lead_id{id}},
                                      actor);
        } else {
          run<domain::lead_aggregate>(
              state, id, domain::disqualify_lead{domain::lead_id{id}, "no budget"}, actor);
        }
        break;
      case domain::lead_status::contacted:
        if (chance(0.7)) {
          run<domain::lead_aggregate>(state, id, domain::qualify_lead{domain::lead_id{id}}, actor);
        } else {
          run<domain::lead_aggregate>(
              state, id, domain::disqualify_lead{domain::lead_id{id}, "no budget"}, actor);
        }
        break;
      case domain::lead_status::qualified: {
        const auto contact = make_id("ct-");
        const auto deal = make_id("deal-");
        if (run<domain::lead_aggregate>(
                state, id,
                domain::convert_lead{domain::lead_id{id}, domain::contact_id{contact}, std::nullopt,
                                     domain::deal_id{deal}},
                actor)) {
          domain::create_contact c;
          c.contact = domain::contact_id{contact};
          c.first_name = "From";
          c.last_name = "Lead " + id;
          c.owner = domain::user_id{actor};
          if (run<domain::contact_aggregate>(contact_states_[contact], contact, c, actor)) {
            contacts_.push_back(contact);
          }
          create_deal(actor, deal, contact);
        }
        break;
      }
      default:
        break;
    }
  }

  void create_deal(const std::string& actor, const std::string& id, const std::string& contact) {
    const auto& pipeline_id = pick_from(pipelines_);
    const auto& pipeline = pipeline_states_[pipeline_id];
    domain::create_deal c;
    c.deal = domain::deal_id{id};
    c.pipeline = domain::pipeline_id{pipeline_id};
    c.stage = pipeline.stages.front().id;
    c.title = "Deal " + id;
    c.value = domain::money{1'000'00 + 500'00 * pick(40), "EUR"};
    c.owner = domain::user_id{actor};
    c.company = domain::company_id{pick_from(companies_)};
    if (!contact.empty()) c.contacts.push_back(domain::contact_id{contact});
    c.expected_close_date =
        std::chrono::floor<std::chrono::days>(now_) + std::chrono::days{14 + pick(120)};
    if (run<domain::deal_aggregate>(deal_states_[id], id, c, actor, pipeline)) {
      open_deals_.push_back(id);
    }
  }

  void new_deal(const std::string& actor) {
    create_deal(actor, make_id("deal-"), pick_from(contacts_));
  }

  domain::deal_state& some_open_deal(std::string& id) {
    for (;;) {
      const auto index = static_cast<std::size_t>(pick(static_cast<int>(open_deals_.size())));
      id = open_deals_[index];
      auto& state = deal_states_[id];
      if (state.status == domain::deal_status::open) return state;
      open_deals_[index] = open_deals_.back();
      open_deals_.pop_back();
      if (open_deals_.empty()) {
        new_deal(users_.front());
      }
    }
  }

  void move_deal(const std::string& actor) {
    std::string id;
    auto& state = some_open_deal(id);
    const auto& pipeline = pipeline_states_[state.pipeline.value];
    std::size_t at = 0;
    while (at < pipeline.stages.size() && pipeline.stages[at].id != state.stage) ++at;
    // Mostly forward, sometimes back.
    std::size_t to = at;
    if (chance(0.75) && at + 1 < pipeline.stages.size()) {
      to = at + 1;
    } else if (at > 0) {
      to = at - 1;
    } else {
      to = at + 1;
    }
    run<domain::deal_aggregate>(
        state, id, domain::move_deal_stage{domain::deal_id{id}, pipeline.stages[to].id}, actor,
        pipeline);
  }

  void change_value(const std::string& actor) {
    std::string id;
    auto& state = some_open_deal(id);
    run<domain::deal_aggregate>(
        state, id,
        domain::change_deal_value{domain::deal_id{id},
                                  domain::money{state.value.amount_minor + 250'00, "EUR"}},
        actor, domain::pipeline_state{});
  }

  void change_close_date(const std::string& actor) {
    std::string id;
    auto& state = some_open_deal(id);
    auto when = state.expected_close_date.value_or(std::chrono::floor<std::chrono::days>(now_));
    run<domain::deal_aggregate>(
        state, id,
        domain::change_deal_close_date{domain::deal_id{id}, when + std::chrono::days{7 + pick(30)}},
        actor, domain::pipeline_state{});
  }

  void close_deal(const std::string& actor) {
    std::string id;
    auto& state = some_open_deal(id);
    const bool won = chance(0.45);
    bool ok = won ? run<domain::deal_aggregate>(state, id, domain::win_deal{domain::deal_id{id}},
                                                actor, domain::pipeline_state{})
                  : run<domain::deal_aggregate>(state, id,
                                                domain::lose_deal{domain::deal_id{id}, "price"},
                                                actor, domain::pipeline_state{});
    if (ok) closed_deals_.push_back(id);
  }

  void reopen_deal(const std::string& actor) {
    const auto index = static_cast<std::size_t>(pick(static_cast<int>(closed_deals_.size())));
    const auto id = closed_deals_[index];
    auto& state = deal_states_[id];
    closed_deals_[index] = closed_deals_.back();
    closed_deals_.pop_back();
    if (state.status == domain::deal_status::open) return;
    if (run<domain::deal_aggregate>(state, id, domain::reopen_deal{domain::deal_id{id}, {}}, actor,
                                    pipeline_states_[state.pipeline.value])) {
      open_deals_.push_back(id);
    }
  }

  void log_activity(const std::string& actor) {
    const auto id = make_id("act-");
    domain::log_activity c;
    c.activity = domain::activity_id{id};
    c.type = static_cast<domain::activity_type>(pick(4));
    if (!open_deals_.empty() && chance(0.5)) {
      c.subject = {domain::entity_kind::deal, pick_from(open_deals_)};
    } else {
      c.subject = {domain::entity_kind::contact, pick_from(contacts_)};
    }
    c.summary = "Talked about next steps";
    c.occurred_at = now_;
    c.owner = domain::user_id{actor};
    domain::activity_state state;
    run<domain::activity_aggregate>(state, id, c, actor);
  }

  void new_task(const std::string& actor) {
    const auto id = make_id("task-");
    domain::create_task c;
    c.task = domain::task_id{id};
    c.title = "Follow up " + id;
    c.assignee = domain::user_id{actor};
    c.due_at = now_ + std::chrono::hours{24 * (1 + pick(14))};
    if (!open_deals_.empty())
      c.link = domain::entity_ref{domain::entity_kind::deal, pick_from(open_deals_)};
    if (run<domain::task_aggregate>(task_states_[id], id, c, actor)) open_tasks_.push_back(id);
  }

  void complete_task(const std::string& actor) {
    const auto index = static_cast<std::size_t>(pick(static_cast<int>(open_tasks_.size())));
    const auto id = open_tasks_[index];
    open_tasks_[index] = open_tasks_.back();
    open_tasks_.pop_back();
    auto& state = task_states_[id];
    run<domain::task_aggregate>(state, id, domain::complete_task{domain::task_id{id}}, actor);
    task_states_.erase(id);
  }

  crm_history_options options_;
  std::mt19937_64 random_;
  domain::timestamp now_;
  std::uint64_t next_id_ = 0;
  std::size_t produced_ = 0;
  std::size_t total_ = 0;

  std::unordered_map<std::string, infra::stream_write> pending_;
  std::vector<std::string> pending_order_;

  std::vector<std::string> teams_, users_, pipelines_, companies_, contacts_, leads_, open_deals_,
      closed_deals_, open_tasks_;
  std::unordered_map<std::string, domain::team_state> team_states_;
  std::unordered_map<std::string, domain::user_state> user_states_;
  std::unordered_map<std::string, domain::pipeline_state> pipeline_states_;
  std::unordered_map<std::string, domain::company_state> company_states_;
  std::unordered_map<std::string, domain::contact_state> contact_states_;
  std::unordered_map<std::string, domain::lead_state> lead_states_;
  std::unordered_map<std::string, domain::deal_state> deal_states_;
  std::unordered_map<std::string, domain::task_state> task_states_;
};

}  // namespace realmkit::testing
