#include "app/openai_score_provider.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "infra/crypto/mac.hpp"

namespace realmkit::app {
namespace {

namespace wh = infra::webhooks;
using commands::lead_score_unavailable;

// Changes whenever the prompt or the answer's format changes: part of the model's version, so
// scores from another prompt are never taken for this one's.
constexpr std::string_view kPromptRevision = "p1";

constexpr std::string_view kSystemPrompt =
    "You estimate how likely a sales lead is to convert into a customer. You are given the "
    "organisation's past conversion rates and what is known of one lead; nothing personal. "
    "Answer with one JSON object and nothing else: {\"score\": an integer from 0 to 100, the "
    "percent chance that the lead converts, \"factors\": up to 3 objects {\"name\": a few words "
    "naming what moved the score, \"effect\": a number from -1 to 1, how much and which way it "
    "moved it}, strongest first}.";

constexpr std::size_t kMaxFactorName = 80;
constexpr std::size_t kMaxCached = 50'000;

constexpr domain::lead_source kSources[] = {
    domain::lead_source::web,           domain::lead_source::referral,
    domain::lead_source::event,         domain::lead_source::cold_call,
    domain::lead_source::advertisement, domain::lead_source::partner,
    domain::lead_source::other};

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// The user message: the organisation's rates and the lead's signals, as JSON.
std::string describe(const domain::lead_score_model& model, const domain::lead_signals& s) {
  rapidjson::StringBuffer buffer;
  writer w(buffer);
  w.StartObject();
  write_string(w, "history");
  w.StartObject();
  write_string(w, "closed_leads");
  w.Uint64(model.trained_on);
  if (model.trained_on > 0) {
    write_string(w, "conversion_rate");
    w.Double(std::round(model.base_rate * 1000) / 1000);
    write_string(w, "conversion_rate_by_source");
    w.StartObject();
    for (const auto source : kSources) {
      write_string(w, domain::to_string(source));
      w.Double(std::round(model.source_rates[static_cast<std::size_t>(source)] * 1000) / 1000);
    }
    w.EndObject();
  }
  w.EndObject();
  write_string(w, "lead");
  w.StartObject();
  write_string(w, "source");
  write_string(w, domain::to_string(s.source));
  write_string(w, "has_email");
  w.Bool(s.has_email);
  write_string(w, "email_at_a_company_domain");
  w.Bool(s.company_email);
  write_string(w, "has_phone");
  w.Bool(s.has_phone);
  write_string(w, "has_company");
  w.Bool(s.has_company);
  write_string(w, "calls_logged");
  w.Int(s.calls);
  write_string(w, "emails_logged");
  w.Int(s.emails);
  write_string(w, "meetings_logged");
  w.Int(s.meetings);
  write_string(w, "hours_to_first_activity");
  if (s.first_response_hours) {
    w.Double(std::round(*s.first_response_hours * 10) / 10);
  } else {
    w.Null();
  }
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

std::string request_body(const std::string& model, const std::string& lead) {
  rapidjson::StringBuffer buffer;
  writer w(buffer);
  w.StartObject();
  write_string(w, "model");
  write_string(w, model);
  // As repeatable as the endpoint allows: a score should not change for no reason.
  write_string(w, "temperature");
  w.Int(0);
  write_string(w, "seed");
  w.Int(7);
  write_string(w, "max_tokens");
  w.Int(300);
  write_string(w, "response_format");
  w.StartObject();
  write_string(w, "type");
  write_string(w, "json_object");
  w.EndObject();
  write_string(w, "messages");
  w.StartArray();
  for (const auto& [role, content] :
       {std::pair<std::string_view, std::string_view>{"system", kSystemPrompt}, {"user", lead}}) {
    w.StartObject();
    write_string(w, "role");
    write_string(w, role);
    write_string(w, "content");
    write_string(w, content);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

// What an error answer says about itself ({"error":{"message":…}}, as OpenAI answers), short.
std::string error_message(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  std::string out;
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("error")) {
    const auto& e = doc["error"];
    if (e.IsObject() && e.HasMember("message") && e["message"].IsString()) {
      out = e["message"].GetString();
    } else if (e.IsString()) {
      out = e.GetString();
    }
  }
  if (out.size() > 200) out = out.substr(0, 200) + "…";
  return out;
}

// Models asked for JSON sometimes still wrap it in a Markdown fence.
std::string_view unfenced(std::string_view text) {
  const auto first = text.find('{');
  const auto last = text.rfind('}');
  if (first == std::string_view::npos || last == std::string_view::npos || last < first) {
    return text;
  }
  return text.substr(first, last - first + 1);
}

std::string printable(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  if (out.size() > kMaxFactorName) out.resize(kMaxFactorName);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The model's answer, as the prompt asked for it.
domain::lead_score parse_answer(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    throw lead_score_unavailable("the endpoint's answer is not JSON");
  }
  const auto choices = doc.FindMember("choices");
  if (choices == doc.MemberEnd() || !choices->value.IsArray() || choices->value.Empty() ||
      !choices->value[0].IsObject()) {
    throw lead_score_unavailable("the endpoint's answer has no choices");
  }
  const auto& choice = choices->value[0];
  const auto message = choice.FindMember("message");
  if (message == choice.MemberEnd() || !message->value.IsObject() ||
      !message->value.HasMember("content") || !message->value["content"].IsString()) {
    throw lead_score_unavailable("the endpoint's answer has no message content");
  }
  const std::string_view content = unfenced(message->value["content"].GetString());
  rapidjson::Document answer;
  answer.Parse(content.data(), content.size());
  if (answer.HasParseError() || !answer.IsObject()) {
    throw lead_score_unavailable("the model did not answer with a JSON object");
  }
  const auto score = answer.FindMember("score");
  if (score == answer.MemberEnd() || !score->value.IsNumber()) {
    throw lead_score_unavailable("the model's answer has no numeric \"score\"");
  }
  const double value = score->value.GetDouble();
  if (!std::isfinite(value) || value < 0 || value > 100) {
    throw lead_score_unavailable("the model's score is not between 0 and 100");
  }
  domain::lead_score out;
  out.score = static_cast<int>(std::lround(value));
  out.probability = value / 100;
  const auto factors = answer.FindMember("factors");
  if (factors != answer.MemberEnd() && factors->value.IsArray()) {
    for (const auto& f : factors->value.GetArray()) {
      if (out.factors.size() == 3) break;
      domain::score_factor factor;
      if (f.IsString()) {
        factor.name = printable(f.GetString());
      } else if (f.IsObject() && f.HasMember("name") && f["name"].IsString()) {
        factor.name = printable(f["name"].GetString());
        if (f.HasMember("effect") && f["effect"].IsNumber()) {
          factor.contribution = std::clamp(f["effect"].GetDouble(), -1.0, 1.0);
        }
      }
      if (!factor.name.empty()) out.factors.push_back(std::move(factor));
    }
  }
  out.reason = domain::reason_of(out.factors);
  return out;
}

class openai_provider final : public commands::lead_score_provider {
 public:
  explicit openai_provider(openai_score_options options)
      : options_(std::move(options)), sender_(options_.http) {
    auto base = options_.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string why;
    auto url = wh::parse_target_url(base + "/chat/completions", why);
    if (!url) throw std::invalid_argument("lead scoring URL: " + why);
    if (url->target.find('?') != std::string::npos) {
      throw std::invalid_argument("lead scoring URL: a base URL takes no query");
    }
    url_ = std::move(*url);
    if (options_.model.empty()) {
      throw std::invalid_argument("lead scoring: an external endpoint needs a model name");
    }
  }

  std::optional<domain::lead_score_model> train(
      const std::vector<domain::training_example>& history) override {
    domain::lead_score_model m;
    m.provider = std::string(kOpenAiProviderName);
    m.remote_model = options_.model;
    m.trained_on = history.size();
    std::vector<const domain::training_example*> examples;
    for (const auto& e : history) examples.push_back(&e);
    // The same rates the local model learns from, sent in the prompt.
    const auto rates = domain::conversion_rates_of(examples);
    m.base_rate = rates.overall;
    m.source_rates = rates.by_source;
    // The version names what a score depends on: the endpoint's model, the prompt, and the
    // rates the prompt carries (rounded as sent).
    const auto sample = domain::lead_signals{};
    m.version =
        "ext-" + infra::crypto::sha256_hex(options_.model + "\n" + std::string(kPromptRevision) +
                                           "\n" + describe(m, sample))
                     .substr(0, 16);
    {
      std::lock_guard lock(mutex_);
      cache_.clear();
    }
    evaluate(m, history);
    return m;
  }

  domain::lead_score score(const domain::lead_score_model& model,
                           const domain::lead_signals& signals) const override {
    const auto lead = describe(model, signals);
    const auto key = model.version + "\n" + lead;
    {
      std::lock_guard lock(mutex_);
      if (const auto it = cache_.find(key); it != cache_.end()) return it->second;
    }
    auto scored = ask(lead);
    std::lock_guard lock(mutex_);
    if (cache_.size() >= kMaxCached) cache_.clear();
    cache_.emplace(key, scored);
    return scored;
  }

 private:
  domain::lead_score ask(const std::string& lead) const {
    webhook_post post;
    post.url = url_;
    try {
      post.addresses =
          wh::checked_addresses(url_, {.allow_private = true, .resolve = options_.resolve});
    } catch (const std::exception& e) {
      throw lead_score_unavailable(std::string("the scoring endpoint: ") + e.what());
    }
    post.body = request_body(options_.model, lead);
    if (!options_.api_key.empty()) {
      post.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
    }
    const auto answer = sender_.post(post);
    if (!answer.status) {
      throw lead_score_unavailable("the scoring endpoint did not answer: " + answer.error);
    }
    if (*answer.status != 200) {
      auto what = "the scoring endpoint answered HTTP " + std::to_string(*answer.status);
      if (*answer.status == 401 || *answer.status == 403) what += " (is the API key right?)";
      if (const auto message = error_message(answer.body); !message.empty()) {
        what += ": " + message;
      }
      throw lead_score_unavailable(what);
    }
    return parse_answer(answer.body);
  }

  // Scores up to evaluate_on closed leads, spread over the history by lead id, and records the
  // AUC of those scores against the leads' outcomes.
  void evaluate(domain::lead_score_model& m,
                const std::vector<domain::training_example>& history) const {
    if (options_.evaluate_on == 0 || history.empty()) return;
    std::vector<const domain::training_example*> sample;
    for (const auto& e : history) sample.push_back(&e);
    std::sort(sample.begin(), sample.end(),
              [](const auto* a, const auto* b) { return a->lead_id < b->lead_id; });
    if (sample.size() > options_.evaluate_on) {
      std::vector<const domain::training_example*> spread;
      for (std::size_t i = 0; i < options_.evaluate_on; ++i) {
        spread.push_back(sample[i * sample.size() / options_.evaluate_on]);
      }
      sample = std::move(spread);
    }
    std::vector<double> scores;
    std::vector<bool> outcomes;
    try {
      for (const auto* e : sample) {
        scores.push_back(score(m, e->signals).probability);
        outcomes.push_back(e->converted);
      }
    } catch (const lead_score_unavailable& e) {
      spdlog::warn("lead scoring: the external model could not be evaluated: {}", e.what());
      return;
    }
    m.held_out = sample.size();
    m.holdout_auc = domain::roc_auc(scores, outcomes);
  }

  openai_score_options options_;
  webhook_sender sender_;
  wh::target_url url_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, domain::lead_score> cache_;
};

}  // namespace

std::unique_ptr<commands::lead_score_provider> make_openai_score_provider(
    openai_score_options options) {
  return std::make_unique<openai_provider>(std::move(options));
}

}  // namespace realmkit::app
