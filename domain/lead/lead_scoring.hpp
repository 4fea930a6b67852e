// Lead scoring that sends nothing anywhere: a logistic regression trained on RealmKit's own
// history (leads converted against leads disqualified), over what is known of a lead when it is
// scored — its source and how well that source converted before, how complete its details are,
// whether its address is a company's, and how the team engaged with it (calls, e-mails and
// meetings logged about it, and how soon the first one came). Every score names the model that
// produced it and the factors that moved it most.
//
// Training is deterministic (fixed order, zero start, fixed steps): the same examples give the
// same model, and the model's version is a digest of its parameters, so a score recorded with a
// version can be reproduced from that version. Pure: no I/O, no clock.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "domain/lead/lead_events.hpp"

namespace realmkit::domain {

// What is known of a lead when it is scored.
struct lead_signals {
  lead_source source = lead_source::other;
  bool has_email = false;
  bool has_phone = false;
  bool has_company = false;
  bool company_email = false;  // an address at a company's domain, not a free mail provider's
  int calls = 0;               // activities logged about the lead, by type
  int emails = 0;
  int meetings = 0;
  // Hours from the lead's creation to its first logged activity; none yet: absent.
  std::optional<double> first_response_hours;
};

// Whether an e-mail address belongs to a free mail provider (gmail.com, outlook.com, ...).
bool free_mail_address(std::string_view address);

struct training_example {
  std::string lead_id;  // decides which examples are held out, stably
  lead_signals signals;
  bool converted = false;
};

inline constexpr std::size_t kLeadFeatureCount = 9;

struct lead_score_model {
  std::string version;  // "lr-" + a digest of everything below
  // Where the scores come from: "local" (this model), or an external provider's name, whose
  // model (`remote_model`) is asked for each score; the weights then stay zero and unnamed.
  std::string provider = "local";
  std::string remote_model;
  std::array<std::string, kLeadFeatureCount> feature_names{};
  std::array<double, kLeadFeatureCount> means{};  // standardization of the raw features
  std::array<double, kLeadFeatureCount> scales{};
  std::array<double, kLeadFeatureCount> weights{};
  double bias = 0;
  // Past conversion rate of each source (smoothed toward the overall rate), a feature itself.
  std::array<double, 7> source_rates{};
  double base_rate = 0;               // share of converted leads among the training examples
  std::size_t trained_on = 0;         // examples used to fit
  std::size_t held_out = 0;           // examples kept aside to measure it
  std::optional<double> holdout_auc;  // none when the held-out set lacks either outcome
};

// Fits a model, holding out about one example in five (by a hash of the lead id) to measure its
// AUC. Needs examples of both outcomes; nullopt otherwise.
std::optional<lead_score_model> train_lead_model(const std::vector<training_example>& examples);

struct score_factor {
  std::string name;         // "source: referral", "3 meetings", "no reply within a day"
  double contribution = 0;  // to the log-odds, signed

  bool operator==(const score_factor&) const = default;
};

struct lead_score {
  int score = 0;  // 0–100: the chance of conversion, in percent
  double probability = 0;
  std::vector<score_factor> factors;  // the three that moved it most, strongest first
  std::string reason;                 // the factors in words, for the lead's page
};

lead_score score_lead_with(const lead_score_model& model, const lead_signals& signals);

// The share of `examples` converted, and each source's, smoothed toward it by ten leads' weight
// so that a source seen twice does not claim 0% or 100% (0 everywhere when there are none).
struct conversion_rates {
  double overall = 0;
  std::array<double, 7> by_source{};  // indexed by lead_source
};
conversion_rates conversion_rates_of(const std::vector<const training_example*>& examples);

// The factors in words with their direction, for the lead's page: "3 meetings (+), no reply
// within a day (−)"; a factor without a direction has no sign.
std::string reason_of(const std::vector<score_factor>& factors);

// The area under the ROC curve of `scores` against `outcomes` (ties count half); nullopt when
// either outcome is missing.
std::optional<double> roc_auc(const std::vector<double>& scores, const std::vector<bool>& outcomes);

}  // namespace realmkit::domain
