#include "commands/lead_scorer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <map>

#include "commands/crm_commands.hpp"
#include "domain/lead/lead_state.hpp"
#include "infra/event_codec.hpp"
#include "infra/ids.hpp"

namespace realmkit::commands {
namespace {

namespace sql = infra::sql;
using namespace std::chrono_literals;

class local_provider final : public lead_score_provider {
 public:
  std::optional<domain::lead_score_model> train(
      const std::vector<domain::training_example>& history) override {
    return domain::train_lead_model(history);
  }
  domain::lead_score score(const domain::lead_score_model& model,
                           const domain::lead_signals& signals) const override {
    return domain::score_lead_with(model, signals);
  }
};

struct lead_row {
  domain::lead_state state;
  std::int64_t created_us = 0;
  std::int64_t updated_us = 0;
};

struct activity_row {
  std::string type;
  std::int64_t at_us = 0;
};

}  // namespace

// Every lead of the records read model with the activities its timeline holds, oldest first.
struct lead_scorer::snapshot {
  std::vector<lead_row> leads;
  std::map<std::string, std::vector<activity_row>> activities;
};

namespace {

lead_scorer::snapshot read_history(sql::database& db) {
  lead_scorer::snapshot out;
  auto session = db.acquire();
  for (const auto& r : session->query("SELECT doc, created_at, updated_at FROM rm_leads", {})) {
    out.leads.push_back(
        {infra::from_json<domain::lead_state>(r.text(0)), r.integer(1), r.integer(2)});
  }
  for (const auto& r : session->query(
           "SELECT entity_id, type, at_us FROM rm_timeline WHERE entity_kind = 'lead' AND entry "
           "= 'activity' ORDER BY entity_id, at_us",
           {})) {
    out.activities[r.text(0)].push_back({r.text(1), r.integer(2)});
  }
  return out;
}

// What was known of a lead up to `until_us` (its outcome, for a closed lead; now for an open one):
// activities logged later, because the deal was already won or lost, must not teach the model.
domain::lead_signals signals_of(const lead_row& lead, const std::vector<activity_row>* activities,
                                std::int64_t until_us) {
  domain::lead_signals s;
  const auto& l = lead.state;
  s.source = l.source;
  s.has_email = !l.email.empty();
  s.company_email = s.has_email && !domain::free_mail_address(l.email);
  s.has_phone = !l.phone.empty();
  s.has_company = !l.company_name.empty();
  if (activities) {
    for (const auto& a : *activities) {
      if (a.at_us > until_us) break;
      if (!s.first_response_hours) {
        s.first_response_hours =
            std::max(0.0, static_cast<double>(a.at_us - lead.created_us) / 3.6e9);
      }
      if (a.type == "call") ++s.calls;
      if (a.type == "email") ++s.emails;
      if (a.type == "meeting") ++s.meetings;
    }
  }
  return s;
}

bool open(const domain::lead_state& l) {
  return l.exists && !l.erased &&
         (l.status == domain::lead_status::fresh || l.status == domain::lead_status::contacted ||
          l.status == domain::lead_status::qualified);
}

}  // namespace

std::unique_ptr<lead_score_provider> make_local_score_provider() {
  return std::make_unique<local_provider>();
}

lead_scorer::lead_scorer(command_handler& commands, sql::database& read_db,
                         lead_scorer_options options)
    : commands_(commands), db_(read_db), options_(std::move(options)) {
  if (!options_.provider) options_.provider = make_local_score_provider();
  if (auto* m = options_.metrics) {
    scored_ = &m->counter_for("realmkit_lead_scores_total", "lead.scored events recorded");
    auc_ = &m->gauge_for("realmkit_lead_model_auc",
                         "AUC of the current lead scoring model on its held-out leads");
    failures_ = &m->counter_for("realmkit_lead_score_failures_total",
                                "leads the scoring provider could not score when asked");
  }
}

lead_scorer::~lead_scorer() {
  stop();
}

std::optional<domain::lead_score_model> lead_scorer::model() const {
  std::lock_guard lock(mutex_);
  return model_;
}

scoring_run lead_scorer::retrain() {
  std::lock_guard run(run_mutex_);
  const auto snapshot = read_history(db_);
  std::vector<domain::training_example> history;
  for (const auto& lead : snapshot.leads) {
    const auto& l = lead.state;
    if (!l.exists || l.erased) continue;
    const bool converted = l.status == domain::lead_status::converted;
    if (!converted && l.status != domain::lead_status::disqualified) continue;
    const auto until =
        converted && l.converted_at ? l.converted_at->time_since_epoch().count() : lead.updated_us;
    const auto it = snapshot.activities.find(l.id.value);
    history.push_back(
        {l.id.value,
         signals_of(lead, it == snapshot.activities.end() ? nullptr : &it->second, until),
         converted});
  }
  auto model = options_.provider->train(history);
  {
    std::lock_guard lock(mutex_);
    model_ = model;
  }
  if (model && auc_ && model->holdout_auc) auc_->set(*model->holdout_auc);
  if (model) {
    spdlog::info("lead scoring: model {} trained on {} closed leads ({} held out, AUC {})",
                 model->version, model->trained_on, model->held_out,
                 model->holdout_auc ? std::to_string(*model->holdout_auc) : "n/a");
  }
  // The leads trained on are the leads scored: one read of the read models serves both.
  return score_open_leads(std::move(model), history.size(), snapshot);
}

scoring_run lead_scorer::rescore() {
  if (!model()) return retrain();
  std::lock_guard run(run_mutex_);
  return score_open_leads(model(), 0, read_history(db_));
}

scoring_run lead_scorer::score_open_leads(std::optional<domain::lead_score_model> model,
                                          std::size_t history, const snapshot& snapshot) {
  scoring_run out;
  out.history = history;
  out.model = model;
  if (!model) return out;
  const auto now = options_.clock ? options_.clock()
                                  : std::chrono::time_point_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now());
  command_metadata meta;
  meta.actor = domain::user_id{"system"};
  meta.now = now;
  // One correlation per run: the audit trail shows every score one run recorded.
  meta.correlation_id = "lead-scoring:" + model->version + ":" + infra::new_uuid_v7();
  std::size_t failures_in_a_row = 0;
  for (const auto& lead : snapshot.leads) {
    const auto& l = lead.state;
    if (!open(l)) continue;
    ++out.open_leads;
    const auto it = snapshot.activities.find(l.id.value);
    domain::lead_score scored;
    try {
      scored = options_.provider->score(
          *model, signals_of(lead, it == snapshot.activities.end() ? nullptr : &it->second,
                             now.time_since_epoch().count()));
      failures_in_a_row = 0;
    } catch (const lead_score_unavailable& e) {
      ++out.failed;
      if (failures_) failures_->inc();
      spdlog::warn("lead scoring: lead {} not scored: {}", l.id.value, e.what());
      if (++failures_in_a_row >= std::max<std::size_t>(1, options_.max_consecutive_failures)) {
        spdlog::warn(
            "lead scoring: {} leads in a row could not be scored; the others wait for "
            "the next run",
            failures_in_a_row);
        out.gave_up = true;
        break;
      }
      continue;
    }
    if (l.score == scored.score && l.score_model == model->version &&
        l.score_reason == scored.reason) {
      continue;
    }
    const auto result = execute(
        commands_,
        domain::lead_command{domain::score_lead{l.id, scored.score, scored.reason, model->version}},
        meta);
    if (!result.ok()) {
      ++out.refused;  // converted or erased since the snapshot: nothing to score any more
      continue;
    }
    if (result.result().streams.empty()) continue;
    ++out.scored;
    if (scored_) scored_->inc();
  }
  return out;
}

void lead_scorer::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void lead_scorer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void lead_scorer::run() {
  auto last_training = std::chrono::steady_clock::time_point{};
  bool trained = false;
  for (;;) {
    auto pause = options_.rescore_interval;
    try {
      const auto now = std::chrono::steady_clock::now();
      if (!trained || now - last_training >= options_.retrain_interval) {
        retrain();
        trained = true;
        last_training = now;
      } else {
        rescore();
      }
    } catch (const std::exception& e) {
      // At start the read models may not exist yet: try again soon rather than in a quarter hour.
      spdlog::warn("lead scoring: {}", e.what());
      pause = std::min<std::chrono::milliseconds>(pause, std::chrono::seconds{10});
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, pause, [&] { return stopping_; })) return;
  }
}

}  // namespace realmkit::commands
