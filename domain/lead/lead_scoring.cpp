#include "domain/lead/lead_scoring.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string_view>

namespace realmkit::domain {
namespace {

constexpr std::array<lead_source, 7> kSources{
    lead_source::web,           lead_source::referral, lead_source::event, lead_source::cold_call,
    lead_source::advertisement, lead_source::partner,  lead_source::other};

constexpr std::array<std::string_view, kLeadFeatureCount> kFeatureNames{
    "source_conversion", "has_phone",          "has_company",    "company_email", "calls", "emails",
    "meetings",          "replied_within_day", "never_contacted"};

// Fitting: plain batch gradient descent on the L2-penalized log-loss over standardized features.
// Small data (thousands of leads), so simple and exactly repeatable beats clever.
constexpr int kIterations = 500;
constexpr double kLearningRate = 0.5;
constexpr double kL2 = 1e-3;
// How many examples of a source weigh as much as the overall rate when estimating its rate.
constexpr double kSourcePrior = 10;

std::uint64_t fnv1a(std::string_view text, std::uint64_t h = 1469598103934665603ull) {
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool held_out(const std::string& lead_id) {
  return fnv1a(lead_id) % 5 == 0;
}

std::size_t source_index(lead_source s) {
  const auto it = std::find(kSources.begin(), kSources.end(), s);
  return it == kSources.end() ? kSources.size() - 1
                              : static_cast<std::size_t>(it - kSources.begin());
}

bool replied_within_day(const lead_signals& s) {
  return s.first_response_hours && *s.first_response_hours <= 24;
}

std::array<double, kLeadFeatureCount> raw_features(const lead_signals& s,
                                                   const std::array<double, 7>& source_rates) {
  return {source_rates[source_index(s.source)],
          s.has_phone ? 1.0 : 0.0,
          s.has_company ? 1.0 : 0.0,
          s.company_email ? 1.0 : 0.0,
          std::log1p(std::max(0, s.calls)),
          std::log1p(std::max(0, s.emails)),
          std::log1p(std::max(0, s.meetings)),
          replied_within_day(s) ? 1.0 : 0.0,
          s.first_response_hours ? 0.0 : 1.0};
}

double sigmoid(double z) {
  return 1 / (1 + std::exp(-z));
}

void append_number(std::string& out, double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  out.append(text, end);
  out.push_back(';');
}

std::string digest(const lead_score_model& m) {
  std::string text;
  for (std::size_t i = 0; i < kLeadFeatureCount; ++i) {
    text += m.feature_names[i];
    append_number(text, m.means[i]);
    append_number(text, m.scales[i]);
    append_number(text, m.weights[i]);
  }
  append_number(text, m.bias);
  for (const auto r : m.source_rates) append_number(text, r);
  static constexpr char kHex[] = "0123456789abcdef";
  auto h = fnv1a(text);
  std::string out = "lr-";
  for (int i = 0; i < 12; ++i, h >>= 4) out.push_back(kHex[h & 15]);
  return out;
}

double log_odds(const lead_score_model& m, const std::array<double, kLeadFeatureCount>& x,
                std::array<double, kLeadFeatureCount>* parts = nullptr) {
  double z = m.bias;
  for (std::size_t i = 0; i < kLeadFeatureCount; ++i) {
    const double part = m.weights[i] * (x[i] - m.means[i]) / m.scales[i];
    if (parts) (*parts)[i] = part;
    z += part;
  }
  return z;
}

std::string plural(int n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string factor_name(std::size_t feature, const lead_signals& s, const lead_score_model& m) {
  switch (feature) {
    case 0:
      return "source: " + std::string(to_string(s.source)) + " (" +
             std::to_string(
                 static_cast<int>(std::lround(m.source_rates[source_index(s.source)] * 100))) +
             "% converted)";
    case 1:
      return s.has_phone ? "has a phone number" : "no phone number";
    case 2:
      return s.has_company ? "names a company" : "no company named";
    case 3:
      return s.company_email ? "company e-mail address" : "no company e-mail address";
    case 4:
      return plural(s.calls, "call", "calls");
    case 5:
      return plural(s.emails, "e-mail", "e-mails");
    case 6:
      return plural(s.meetings, "meeting", "meetings");
    case 7:
      return replied_within_day(s) ? "first contact within a day" : "no contact within a day";
    default:
      return s.first_response_hours ? "contacted" : "never contacted";
  }
}

}  // namespace

bool free_mail_address(std::string_view address) {
  static constexpr std::string_view kFree[] = {
      "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com",  "msn.com",
      "yahoo.com", "ymail.com",      "icloud.com",  "me.com",      "mac.com",   "aol.com",
      "gmx.de",    "gmx.net",        "gmx.com",     "web.de",      "proton.me", "protonmail.com",
      "mail.com",  "yandex.ru",      "yandex.com",  "mail.ru",     "qq.com",    "163.com",
      "zoho.com",  "t-online.de",    "orange.fr",   "free.fr",     "libero.it", "hey.com"};
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string domain;
  for (const char c : address.substr(at + 1)) {
    domain.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  return std::find(std::begin(kFree), std::end(kFree), domain) != std::end(kFree);
}

std::optional<lead_score_model> train_lead_model(const std::vector<training_example>& examples) {
  std::vector<const training_example*> fit;
  std::vector<const training_example*> test;
  for (const auto& e : examples) (held_out(e.lead_id) ? test : fit).push_back(&e);
  // Stable order whatever order the examples came in: the model depends on the data only.
  auto by_id = [](const training_example* a, const training_example* b) {
    return a->lead_id < b->lead_id;
  };
  std::sort(fit.begin(), fit.end(), by_id);
  std::sort(test.begin(), test.end(), by_id);
  const auto converted = static_cast<std::size_t>(
      std::count_if(fit.begin(), fit.end(), [](const auto* e) { return e->converted; }));
  if (converted == 0 || converted == fit.size()) return std::nullopt;

  lead_score_model m;
  for (std::size_t i = 0; i < kLeadFeatureCount; ++i) m.feature_names[i] = kFeatureNames[i];
  m.trained_on = fit.size();
  m.held_out = test.size();
  const auto rates = conversion_rates_of(fit);
  m.base_rate = rates.overall;
  m.source_rates = rates.by_source;

  std::vector<std::array<double, kLeadFeatureCount>> x;
  x.reserve(fit.size());
  for (const auto* e : fit) x.push_back(raw_features(e->signals, m.source_rates));
  const auto n = static_cast<double>(x.size());
  for (std::size_t i = 0; i < kLeadFeatureCount; ++i) {
    double sum = 0;
    for (const auto& row : x) sum += row[i];
    m.means[i] = sum / n;
    double var = 0;
    for (const auto& row : x) var += (row[i] - m.means[i]) * (row[i] - m.means[i]);
    const double sd = std::sqrt(var / n);
    m.scales[i] = sd > 1e-9 ? sd : 1;  // a constant feature contributes nothing either way
  }
  std::vector<std::array<double, kLeadFeatureCount>> z(x.size());
  for (std::size_t r = 0; r < x.size(); ++r) {
    for (std::size_t i = 0; i < kLeadFeatureCount; ++i) {
      z[r][i] = (x[r][i] - m.means[i]) / m.scales[i];
    }
  }
  m.bias = std::log(m.base_rate / (1 - m.base_rate));
  for (int step = 0; step < kIterations; ++step) {
    std::array<double, kLeadFeatureCount> grad{};
    double grad_bias = 0;
    for (std::size_t r = 0; r < z.size(); ++r) {
      double logit = m.bias;
      for (std::size_t i = 0; i < kLeadFeatureCount; ++i) logit += m.weights[i] * z[r][i];
      const double error = sigmoid(logit) - (fit[r]->converted ? 1.0 : 0.0);
      for (std::size_t i = 0; i < kLeadFeatureCount; ++i) grad[i] += error * z[r][i];
      grad_bias += error;
    }
    for (std::size_t i = 0; i < kLeadFeatureCount; ++i) {
      m.weights[i] -= kLearningRate * (grad[i] / n + kL2 * m.weights[i]);
    }
    m.bias -= kLearningRate * grad_bias / n;
  }
  m.version = digest(m);

  std::vector<double> scores;
  std::vector<bool> outcomes;
  for (const auto* e : test) {
    scores.push_back(score_lead_with(m, e->signals).probability);
    outcomes.push_back(e->converted);
  }
  m.holdout_auc = roc_auc(scores, outcomes);
  return m;
}

lead_score score_lead_with(const lead_score_model& model, const lead_signals& signals) {
  std::array<double, kLeadFeatureCount> parts{};
  const double z = log_odds(model, raw_features(signals, model.source_rates), &parts);
  lead_score out;
  out.probability = sigmoid(z);
  out.score = static_cast<int>(std::lround(out.probability * 100));
  std::array<std::size_t, kLeadFeatureCount> order{};
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::abs(parts[a]) > std::abs(parts[b]);
  });
  for (std::size_t k = 0; k < 3; ++k) {
    const auto i = order[k];
    if (std::abs(parts[i]) < 1e-6) break;
    out.factors.push_back({factor_name(i, signals, model), parts[i]});
  }
  out.reason = reason_of(out.factors);
  return out;
}

conversion_rates conversion_rates_of(const std::vector<const training_example*>& examples) {
  conversion_rates out;
  if (examples.empty()) return out;
  std::array<double, 7> won{};
  std::array<double, 7> seen{};
  double converted = 0;
  for (const auto* e : examples) {
    const auto s = source_index(e->signals.source);
    seen[s] += 1;
    if (e->converted) {
      won[s] += 1;
      converted += 1;
    }
  }
  out.overall = converted / static_cast<double>(examples.size());
  for (std::size_t s = 0; s < kSources.size(); ++s) {
    out.by_source[s] = (won[s] + kSourcePrior * out.overall) / (seen[s] + kSourcePrior);
  }
  return out;
}

std::string reason_of(const std::vector<score_factor>& factors) {
  std::string out;
  for (const auto& f : factors) {
    if (!out.empty()) out += ", ";
    out += f.name;
    if (f.contribution > 0) out += " (+)";
    if (f.contribution < 0) out += " (\u2212)";
  }
  return out;
}

std::optional<double> roc_auc(const std::vector<double>& scores,
                              const std::vector<bool>& outcomes) {
  const auto n = std::min(scores.size(), outcomes.size());
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney: the positives' rank sum, tied scores sharing their average rank.
  double positive_ranks = 0;
  std::size_t positives = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k) {
      if (outcomes[order[k]]) {
        positive_ranks += rank;
        ++positives;
      }
    }
    i = j;
  }
  const std::size_t negatives = n - positives;
  if (positives == 0 || negatives == 0) return std::nullopt;
  const auto p = static_cast<double>(positives);
  return (positive_ranks - p * (p + 1) / 2) / (p * static_cast<double>(negatives));
}

}  // namespace realmkit::domain
