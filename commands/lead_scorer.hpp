// Scores open leads with a model trained on the organisation's own history (domain/lead/
// lead_scoring.hpp), and records each score as lead.scored with the model's version and the
// factors behind it in words. Trains from the read models — the records' leads, converted
// against disqualified, and the activities their timelines hold up to that outcome — and scores
// every open lead whose score, model or reasons would change, so a rescore with nothing new
// appends nothing.
//
// The model lives in memory: training is deterministic, so the same history gives the same
// version and weights in any process, and a restart simply trains again. The scorer runs on a
// schedule in the projector role and on demand (POST /api/leads/scoring/retrain).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "commands/command_handler.hpp"
#include "domain/lead/lead_scoring.hpp"
#include "infra/metrics.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::commands {

// A provider could not score now (an external model unreachable, refusing, or answering
// nonsense): the lead keeps the score it has, and the next run asks again.
class lead_score_unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where scores come from. The default trains a logistic regression on the local history and
// sends nothing anywhere; another provider (an external model) implements the same two steps.
class lead_score_provider {
 public:
  virtual ~lead_score_provider() = default;
  // Prepares the provider from the closed leads' history; the model's description, or nullopt
  // when it cannot score (too little history, a single outcome).
  virtual std::optional<domain::lead_score_model> train(
      const std::vector<domain::training_example>& history) = 0;
  // Scores one lead with what train prepared. Throws lead_score_unavailable when it cannot now.
  virtual domain::lead_score score(const domain::lead_score_model& model,
                                   const domain::lead_signals& signals) const = 0;
};

// The default: domain::train_lead_model and score_lead_with.
std::unique_ptr<lead_score_provider> make_local_score_provider();

struct lead_scorer_options {
  std::chrono::milliseconds rescore_interval{std::chrono::minutes{15}};
  std::chrono::milliseconds retrain_interval{std::chrono::hours{24}};
  std::function<domain::timestamp()> clock;  // the system clock when empty
  infra::metrics_registry* metrics = nullptr;
  std::unique_ptr<lead_score_provider> provider;  // the local model when null
  // A run gives up after this many leads in a row the provider could not score (an external
  // model that is down), rather than waiting out every lead's timeout.
  std::size_t max_consecutive_failures = 3;
};

struct scoring_run {
  std::optional<domain::lead_score_model> model;  // the model scored with (none: no scores)
  std::size_t history = 0;                        // closed leads trained on (fitted and held out)
  std::size_t open_leads = 0;
  std::size_t scored = 0;   // lead.scored events recorded
  std::size_t refused = 0;  // scores the lead refused (changed meanwhile)
  std::size_t failed = 0;   // leads the provider could not score (they keep their scores)
  bool gave_up = false;     // stopped early: the provider failed too often in a row
};

class lead_scorer {
 public:
  // Both must outlive the scorer. Nothing runs before start().
  lead_scorer(command_handler& commands, infra::sql::database& read_db,
              lead_scorer_options options = {});
  ~lead_scorer();
  lead_scorer(const lead_scorer&) = delete;
  lead_scorer& operator=(const lead_scorer&) = delete;

  // Trains on the history as it stands, then scores every open lead. Safe from any thread; runs
  // one at a time.
  scoring_run retrain();
  // Scores every open lead with the current model (training first when there is none).
  scoring_run rescore();
  std::optional<domain::lead_score_model> model() const;

  struct snapshot;  // the leads and their activities as read for one run (lead_scorer.cpp)

  void start();  // the schedule; idempotent
  void stop();   // idempotent

 private:
  scoring_run score_open_leads(std::optional<domain::lead_score_model> model, std::size_t history,
                               const snapshot& leads);
  void run();

  command_handler& commands_;
  infra::sql::database& db_;
  lead_scorer_options options_;
  infra::counter* scored_ = nullptr;
  infra::gauge* auc_ = nullptr;
  infra::counter* failures_ = nullptr;

  std::mutex run_mutex_;  // one training or scoring at a time
  mutable std::mutex mutex_;
  std::optional<domain::lead_score_model> model_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace realmkit::commands
