// Lead scores from an external OpenAI-compatible model (app/openai_score_provider.hpp), against a
// model server the test runs on loopback that speaks the chat completions protocol: what is sent
// (signals, never a person), what is understood of the answers, failures, and the served API
// scoring with it on both store backends.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "app/openai_score_provider.hpp"
#include "tests/app/served_api.hpp"
#include "tests/webhooks/local_receiver.hpp"

using namespace realmkit;
using namespace realmkit::test;
using test::webhooks::local_receiver;
using test::webhooks::received;
using test::webhooks::scripted_answer;

namespace {

// A chat completion whose message says `content`, as OpenAI answers one.
scripted_answer completion(const std::string& content) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("id");
  w.String("chatcmpl-local");
  w.Key("object");
  w.String("chat.completion");
  w.Key("choices");
  w.StartArray();
  w.StartObject();
  w.Key("index");
  w.Int(0);
  w.Key("message");
  w.StartObject();
  w.Key("role");
  w.String("assistant");
  w.Key("content");
  w.String(content.c_str(), static_cast<rapidjson::SizeType>(content.size()));
  w.EndObject();
  w.Key("finish_reason");
  w.String("stop");
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return {
      .status = 200, .headers = {{"Content-Type", "application/json"}}, .body = buffer.GetString()};
}

// The model of these tests: referrals convert, cold calls do not, meetings help. It reads only
// the lead's signals, as a real model would be prompted to.
scripted_answer chat_model(const received& r) {
  rapidjson::Document request;
  request.Parse(r.body.c_str());
  if (r.target != "/v1/chat/completions" || request.HasParseError() || !request.IsObject() ||
      !request.HasMember("messages") || request["messages"].Size() != 2) {
    return {.status = 400, .body = R"({"error":{"message":"not a chat completion request"}})"};
  }
  rapidjson::Document prompt;
  prompt.Parse(request["messages"][1]["content"].GetString());
  const auto& lead = prompt["lead"];
  const std::string source = lead["source"].GetString();
  int score = source == "referral" ? 80 : source == "cold_call" ? 10 : 40;
  score = std::min(99, score + 5 * lead["meetings_logged"].GetInt());
  return completion(R"({"score":)" + std::to_string(score) + R"(,"factors":[{"name":"source: )" +
                    source + R"(","effect":)" + (score >= 50 ? "0.7" : "-0.7") + "}]}");
}

domain::training_example example(const std::string& id, domain::lead_source source,
                                 bool converted) {
  domain::training_example e;
  e.lead_id = id;
  e.signals.source = source;
  e.signals.has_email = true;
  e.converted = converted;
  return e;
}

// Why the provider could not score, or "" when it did.
std::string failure_of(const commands::lead_score_provider& provider) {
  domain::lead_score_model model;
  model.version = "ext-test";
  try {
    provider.score(model, {});
    return "";
  } catch (const commands::lead_score_unavailable& e) {
    return e.what();
  }
}

}  // namespace

TEST_CASE("external lead scoring: the endpoint gets signals and rates, and each is asked once") {
  local_receiver server(chat_model);
  auto provider = app::make_openai_score_provider(
      {.base_url = server.url("/v1/"), .model = "test-model", .api_key = "sk-test-key"});
  std::vector<domain::training_example> history;
  for (int i = 0; i < 12; ++i) {
    history.push_back(example(
        "lead-" + std::to_string(i),
        i % 2 ? domain::lead_source::referral : domain::lead_source::cold_call, i % 2 == 1));
  }
  const auto model = provider->train(history);
  REQUIRE(model);
  CHECK(model->provider == "openai-compatible");
  CHECK(model->remote_model == "test-model");
  CHECK(model->version.starts_with("ext-"));
  CHECK(model->trained_on == 12);
  CHECK(model->base_rate == doctest::Approx(0.5));
  // Measured on the history: all twelve leads, but only two distinct sets of signals to ask about.
  CHECK(model->held_out == 12);
  REQUIRE(model->holdout_auc);
  CHECK(*model->holdout_auc == doctest::Approx(1.0));
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);

  const auto& first = requests[0];
  CHECK(first.target == "/v1/chat/completions");
  CHECK(first.header("authorization") == "Bearer sk-test-key");
  CHECK(first.header("content-type") == "application/json");
  rapidjson::Document body;
  body.Parse(first.body.c_str());
  REQUIRE(body.IsObject());
  CHECK(std::string(body["model"].GetString()) == "test-model");
  CHECK(body["temperature"].GetInt() == 0);
  CHECK(std::string(body["response_format"]["type"].GetString()) == "json_object");
  CHECK(std::string(body["messages"][0]["role"].GetString()) == "system");
  rapidjson::Document prompt;
  prompt.Parse(body["messages"][1]["content"].GetString());
  REQUIRE(prompt.IsObject());
  CHECK(prompt["history"]["closed_leads"].GetInt() == 12);
  CHECK(prompt["history"]["conversion_rate"].GetDouble() == doctest::Approx(0.5));
  CHECK(prompt["history"]["conversion_rate_by_source"]["referral"].GetDouble() > 0.5);
  CHECK(prompt["lead"]["has_email"].GetBool());
  CHECK(first.body.find("lead-") == std::string::npos);  // no id

  domain::lead_signals warm;
  warm.source = domain::lead_source::referral;
  warm.meetings = 2;
  const auto scored = provider->score(*model, warm);
  CHECK(scored.score == 90);
  CHECK(scored.probability == doctest::Approx(0.9));
  REQUIRE(scored.factors.size() == 1);
  CHECK(scored.factors[0].contribution == doctest::Approx(0.7));
  CHECK(scored.reason == "source: referral (+)");
  CHECK(server.requests().size() == 3);
  // The same signals again: answered from what the endpoint said, no request.
  const auto again = provider->score(*model, warm);
  CHECK(again.score == scored.score);
  CHECK(again.reason == scored.reason);
  CHECK(server.requests().size() == 3);

  // The same history trains the same version; another model's scores are another version.
  CHECK(provider->train(history)->version == model->version);
  auto other = app::make_openai_score_provider({.base_url = server.url("/v1"), .model = "other"});
  CHECK(other->train(history)->version != model->version);
}

TEST_CASE("external lead scoring: refusals, nonsense and silence score nothing, and say why") {
  const auto answering = [](scripted_answer answer) {
    return std::make_unique<local_receiver>(std::vector<scripted_answer>{std::move(answer)});
  };
  const auto provider_at = [](const local_receiver& server) {
    return app::make_openai_score_provider({.base_url = server.url("/v1"), .model = "m"});
  };
  const auto failure = [&](scripted_answer answer) {
    const auto server = answering(std::move(answer));
    return failure_of(*provider_at(*server));
  };

  auto why = failure({.status = 500, .body = R"({"error":{"message":"the model is overloaded"}})"});
  CHECK(why == "the scoring endpoint answered HTTP 500: the model is overloaded");
  why = failure({.status = 401, .body = R"({"error":{"message":"Incorrect API key provided"}})"});
  CHECK(why.find("HTTP 401 (is the API key right?)") != std::string::npos);
  CHECK(failure({.status = 429, .body = "slow down"}) == "the scoring endpoint answered HTTP 429");
  CHECK(failure({.body = "<html>ok</html>"}) == "the endpoint's answer is not JSON");
  CHECK(failure({.body = R"({"choices":[]})"}) == "the endpoint's answer has no choices");
  CHECK(failure(completion("Probably about 80%.")) ==
        "the model did not answer with a JSON object");
  CHECK(failure(completion(R"({"score":"high"})")) ==
        "the model's answer has no numeric \"score\"");
  CHECK(failure(completion(R"({"score":140})")) == "the model's score is not between 0 and 100");

  // Nothing listens on a port a server just left.
  std::string closed;
  {
    local_receiver gone;
    closed = gone.url("/v1");
  }
  why = failure_of(*app::make_openai_score_provider({.base_url = closed, .model = "m"}));
  CHECK(why.starts_with("the scoring endpoint did not answer: "));

  // What a chatty local model sends is still understood: a fenced object, factors as plain
  // strings; names are cut to a line and stripped of control characters.
  const auto fenced =
      answering(completion("```json\n{\"score\": 61.6, \"factors\": [\"short\", \"" +
                           std::string(200, 'x') + "\", \"bell\\u0007\"]}\n```"));
  domain::lead_score_model model;
  model.version = "ext-test";
  const auto scored = provider_at(*fenced)->score(model, {});
  CHECK(scored.score == 62);
  REQUIRE(scored.factors.size() == 3);
  CHECK(scored.factors[1].name == std::string(80, 'x'));
  CHECK(scored.factors[2].name == "bell");
  CHECK(scored.reason == "short, " + std::string(80, 'x') + ", bell");

  // What cannot be an endpoint is refused when configured, not at the first lead.
  for (const auto* url : {"ftp://models.example.com/v1", "https://key:secret@models.example.com/v1",
                          "https://models.example.com/v1?key=1", "models.example.com/v1"}) {
    INFO(url);
    CHECK_THROWS_AS(app::make_openai_score_provider({.base_url = url, .model = "m"}),
                    std::invalid_argument);
  }
  CHECK_THROWS_WITH_AS(
      app::make_openai_score_provider({.base_url = "https://models.example.com/v1"}),
      doctest::Contains("needs a model name"), std::invalid_argument);
}

TEST_CASE_TEMPLATE(
    "served: an external model scores leads, nothing personal leaves, and an endpoint that is "
    "down changes no score",
    B, sqlite_session_backend, postgres_session_backend) {
  auto model_server = std::make_unique<local_receiver>(chat_model);
  served_options options;
  options.external_scoring = app::openai_score_options{
      .base_url = model_server->url("/v1"), .model = "test-model", .api_key = "sk-served"};
  served_api<B> s(options);
  s.register_user("admin-1", "admin@example.com", domain::user_role::admin);
  const auto login = s.login("admin@example.com");
  REQUIRE(login.status == 200);
  const std::vector<std::pair<std::string, std::string>> admin{
      {"Authorization", "Bearer " + access_token_of(login)}};
  const auto json = [](const http_reply& reply) {
    auto doc = std::make_shared<rapidjson::Document>();
    doc->Parse(reply.body.c_str());
    REQUIRE_MESSAGE(doc->IsObject(), reply.body);
    return doc;
  };

  // Leads with everything personal a lead can hold; every one must stay here.
  std::vector<std::string> personal;
  std::vector<std::string> ids;
  std::int64_t position = 0;
  const auto lead = [&](const std::string& source, int n) {
    const auto name = "Zebulon" + std::to_string(n) + " Quist";
    const auto email = "zq" + std::to_string(n) + "@quist-industries.example";
    const auto phone = "+1 415 555 01" + std::to_string(10 + n);
    personal.insert(personal.end(), {name, email, phone, "Quist Industries"});
    const auto r =
        s.request("POST", "/api/leads", admin,
                  R"({"name":")" + name + R"(","email":")" + email + R"(","phone":")" + phone +
                      R"(","company_name":"Quist Industries","source":")" + source + R"("})");
    REQUIRE_MESSAGE(r.status == 201, r.body);
    const auto id = std::string((*json(r))["id"].GetString());
    ids.push_back(id);
    return id;
  };
  const auto step = [&](const std::string& path, const std::string& body) {
    const auto r = s.request("POST", path, admin, body);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    position = (*json(r))["position"].GetInt64();
  };
  for (int i = 0; i < 4; ++i) {
    const auto won = lead("referral", i);
    step("/api/leads/" + won + "/contacted", "");
    step("/api/leads/" + won + "/qualify", "");
    step("/api/leads/" + won + "/convert", "{}");
    step("/api/leads/" + lead("cold_call", 10 + i) + "/disqualify", R"({"reason":"no fit"})");
  }
  const auto warm = lead("referral", 20);
  const auto middling = lead("web", 21);
  const auto cold = lead("cold_call", 22);
  step("/api/leads/" + cold + "/contacted", "");
  REQUIRE(s.request("GET", "/api/leads?min_position=" + std::to_string(position), admin).status ==
          200);

  const auto run = s.request("POST", "/api/leads/scoring/retrain", admin);
  REQUIRE_MESSAGE(run.status == 200, run.body);
  auto doc = json(run);
  const auto& m = (*doc)["model"];
  CHECK(std::string(m["provider"].GetString()) == "openai-compatible");
  CHECK(std::string(m["remote_model"].GetString()) == "test-model");
  const std::string version = m["version"].GetString();
  CHECK(version.starts_with("ext-"));
  CHECK(m["weights"].ObjectEmpty());
  CHECK(m["holdout_auc"].GetDouble() == doctest::Approx(1.0));
  CHECK((*doc)["history"].GetInt64() == 8);
  CHECK((*doc)["open_leads"].GetInt64() == 3);
  CHECK((*doc)["scored"].GetInt64() == 3);
  CHECK((*doc)["failed"].GetInt64() == 0);

  const auto scores = [&] {
    std::map<std::string, std::pair<std::int64_t, std::string>> out;
    const auto list = s.request("GET", "/api/leads?sort=-score&limit=100", admin);
    REQUIRE(list.status == 200);
    const auto d = json(list);
    for (const auto& item : (*d)["items"].GetArray()) {
      if (!item.HasMember("score") || !item["score"].IsInt64()) continue;
      out[item["id"].GetString()] = {item["score"].GetInt64(), item["score_model"].GetString()};
    }
    return out;
  };
  // The scores are recorded as events; wait until the read model shows all three.
  std::map<std::string, std::pair<std::int64_t, std::string>> now;
  for (int i = 0; i < 200 && now.size() < 3; ++i) {
    now = scores();
    if (now.size() < 3) std::this_thread::sleep_for(25ms);
  }
  REQUIRE(now.size() == 3);
  CHECK(now[warm] == std::pair<std::int64_t, std::string>{80, version});
  CHECK(now[middling] == std::pair<std::int64_t, std::string>{40, version});
  CHECK(now[cold] == std::pair<std::int64_t, std::string>{10, version});
  const auto detail = s.request("GET", "/api/leads/" + warm, admin);
  CHECK(detail.body.find(R"x("score_reason":"source: referral (+)")x") != std::string::npos);

  const auto sent = model_server->requests();
  CHECK(sent.size() >= 3);
  for (const auto& r : sent) {
    for (const auto& p : personal) CHECK_MESSAGE(r.body.find(p) == std::string::npos, p);
    for (const auto& id : ids) CHECK_MESSAGE(r.body.find(id) == std::string::npos, id);
    CHECK(r.body.find("Quist") == std::string::npos);
    CHECK(r.body.find("555") == std::string::npos);
  }

  // The endpoint goes away: a run records nothing, gives up after three leads, and every lead
  // keeps the score it had.
  model_server.reset();
  const auto down = s.request("POST", "/api/leads/scoring/retrain", admin);
  REQUIRE_MESSAGE(down.status == 200, down.body);
  doc = json(down);
  CHECK((*doc)["scored"].GetInt64() == 0);
  CHECK((*doc)["failed"].GetInt64() == 3);
  CHECK((*doc)["model"]["holdout_auc"].IsNull());
  CHECK(scores() == now);
  CHECK(s.request("GET", "/metrics").body.find("realmkit_lead_score_failures_total 3") !=
        std::string::npos);
  const auto shown = s.request("GET", "/api/leads/scoring", admin);
  CHECK(shown.body.find(R"("provider":"openai-compatible")") != std::string::npos);
}
