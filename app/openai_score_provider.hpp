// Lead scores from an external model behind an OpenAI-compatible chat completions endpoint:
// OpenAI itself, or a server run in the organisation's own network (vLLM, llama.cpp's server,
// Ollama) that speaks the same protocol. Off unless an operator configures it; the default scores
// with the local model and sends nothing anywhere (commands/lead_scorer.hpp).
//
// What leaves RealmKit is what the local model sees, and nothing personal: the lead's source,
// which details it has (not the details), whether its address is a company's, how many calls,
// e-mails and meetings were logged and how soon the first came, and the organisation's past
// conversion rates. Never a name, address, number, note or id.
//
// Each distinct set of signals is asked once per model version: a rescore with nothing new costs
// no request. Training asks the model to score a sample of closed leads, to report its AUC on
// them beside the local model's (GET /api/leads/scoring).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "app/webhook_sender.hpp"
#include "commands/lead_scorer.hpp"
#include "infra/webhooks/webhook_target.hpp"

namespace realmkit::app {

inline constexpr std::string_view kOpenAiProviderName = "openai-compatible";

struct openai_score_options {
  // The API's base, requests go to base_url + "/chat/completions": "https://api.openai.com/v1",
  // "http://10.0.0.5:8000/v1". Private and loopback addresses are allowed: the operator names the
  // endpoint, not a user (unlike a webhook's target).
  std::string base_url;
  std::string model;    // "gpt-4o-mini", or the local server's model name
  std::string api_key;  // sent as a bearer token; empty: none (a local server may need none)
  // Closed leads scored at each training to measure the model's AUC (spread over the history by
  // lead id); 0: not measured.
  std::size_t evaluate_on = 40;
  webhook_sender_options http{.connect_timeout = std::chrono::seconds(5),
                              .response_timeout = std::chrono::seconds(30),
                              .max_response_bytes = 1024 * 1024,
                              .user_agent = "RealmKit-LeadScoring/1.0"};
  infra::webhooks::resolver resolve;  // the system's resolver when empty
};

// Throws std::invalid_argument when the URL or the model name is unusable.
std::unique_ptr<commands::lead_score_provider> make_openai_score_provider(
    openai_score_options options);

}  // namespace realmkit::app
