// The right to erasure, end to end on both backends: a contact with canary values, referenced by a
// deal and an activity, is erased; then no table of the database, no export, no replay and no log
// line holds a canary, while the hash chain still verifies and replay still works.
#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "infra/event_envelope.hpp"
#include "tests/app/served_api.hpp"

using namespace realmkit;
using namespace realmkit::test;

namespace {

// Lower case: the search index folds case.
constexpr std::string_view kCanaries[] = {"quillfeather", "zanzibarre", "zq.canary",
                                          "79460958",     "7946 0958",  "canary officer",
                                          "canary-form"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<std::string_view> canary_in(const std::string& text) {
  const auto l = lower(text);
  for (const auto c : kCanaries) {
    if (l.find(c) != std::string::npos) return c;
  }
  return std::nullopt;
}

rapidjson::Document parse(const http_reply& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE_MESSAGE(d.IsObject(), r.body);
  return d;
}

std::vector<std::pair<std::string, std::string>> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

// Every row of every table (and view) in the database, as text, that holds a canary.
std::vector<std::string> canaries_in_database(infra::sql::database& db) {
  auto s = db.acquire();
  std::vector<std::string> tables;
  if (s->dialect() == infra::sql::dialect::sqlite) {
    for (const auto& r : s->query("SELECT name FROM sqlite_master WHERE type = 'table'")) {
      tables.push_back(r.text(0));
    }
  } else {
    for (const auto& r : s->query("SELECT table_name FROM information_schema.tables WHERE "
                                  "table_schema = current_schema()")) {
      tables.push_back(r.text(0));
    }
  }
  REQUIRE(tables.size() > 10);
  std::vector<std::string> hits;
  for (const auto& t : tables) {
    for (const auto& row : s->query("SELECT * FROM " + infra::sql::identifier(t))) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (auto c = canary_in(row.text(i))) hits.push_back(t + ": " + std::string(*c));
      }
    }
  }
  return hits;
}

}  // namespace

TEST_CASE_TEMPLATE("served: erasing a contact leaves no trace of it, and the log still verifies", B,
                   sqlite_session_backend, postgres_session_backend) {
  std::ostringstream logged;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logged);
  spdlog::default_logger()->sinks().push_back(sink);
  struct unhook {
    std::shared_ptr<spdlog::sinks::sink> sink;
    ~unhook() {
      auto& sinks = spdlog::default_logger()->sinks();
      sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
    }
  } unhooked{sink};

  served_api<B> s;
  s.register_user("admin-1", "admin@example.com", domain::user_role::admin);
  s.register_user("rep-1", "rep@example.com", domain::user_role::sales_rep);
  const auto admin = bearer(access_token_of(s.login("admin@example.com")));
  const auto rep = bearer(access_token_of(s.login("rep@example.com")));

  auto r =
      s.request("POST", "/api/contacts", admin,
                R"({"first_name":"Zanzibarre","last_name":"Quillfeather",)"
                R"("title":"Chief Canary Officer","emails":[{"address":"zq.canary@example.org"}],)"
                R"("phones":[{"number":"+44 20 7946 0958","label":"work"}],"tags":["vip"]})");
  REQUIRE_MESSAGE(r.status == 201, r.body);
  const std::string contact = parse(r)["id"].GetString();
  r = s.request("POST", "/api/contacts/" + contact + "/consents", admin,
                R"({"channel":"email_marketing","granted":true,"source":"canary-form"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  r = s.request("POST", "/api/pipelines", admin,
                R"({"name":"Sales","stages":[{"name":"New","probability":10}]})");
  REQUIRE_MESSAGE(r.status == 201, r.body);
  const std::string pipeline = parse(r)["id"].GetString();
  r = s.request("GET",
                "/api/pipelines/" + pipeline +
                    "?min_position=" + std::to_string(parse(r)["position"].GetInt64()),
                admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  const std::string stage = parse(r)["stages"][0]["id"].GetString();
  r = s.request("POST", "/api/deals", admin,
                R"({"pipeline_id":")" + pipeline + R"(","stage_id":")" + stage +
                    R"(","title":"Renewal","value":{"amount_minor":100000,"currency":"EUR"},)"
                    R"("contact_ids":[")" +
                    contact + R"("]})");
  REQUIRE_MESSAGE(r.status == 201, r.body);
  r = s.request("POST", "/api/activities", admin,
                R"({"type":"call","subject":{"kind":"contact","id":")" + contact +
                    R"("},"summary":"Intro call","occurred_at":"2024-12-20T10:00:00Z"})");
  REQUIRE_MESSAGE(r.status == 201, r.body);
  auto position = parse(r)["position"].GetInt64();

  // Before: the person is everywhere the CRM shows them.
  r = s.request("GET", "/api/contacts/" + contact + "?min_position=" + std::to_string(position),
                admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(canary_in(r.body));
  r = s.request("GET", "/api/search?q=quillfeather&min_position=" + std::to_string(position),
                admin);
  CHECK_MESSAGE(r.body.find(contact) != std::string::npos, r.body);
  // The export lists activities from the timeline read model: min_position waits for it too.
  r = s.request("GET",
                "/api/contacts/" + contact + "/export?min_position=" + std::to_string(position),
                admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.body.find("Zanzibarre") != std::string::npos);
  CHECK(r.body.find("Intro call") != std::string::npos);
  CHECK(s.request("GET", "/api/contacts/" + contact + "/export?min_position=soon", admin).status ==
        422);
  CHECK(r.body.find("\"erasure\":null") != std::string::npos);
  // In the log itself, nothing personal was ever readable.
  for (const auto& e : s.backend.store->read_all(0, 10'000)) {
    CHECK_MESSAGE(!canary_in(e.data), e.data);
  }

  // Refused requests change nothing.
  const std::string erase = "/api/contacts/" + contact + "/erase";
  CHECK(s.request("POST", erase, rep, R"({"reason":"request 17"})").status == 403);
  r = s.request("POST", erase, admin, R"({"reason":"  "})");
  CHECK(r.status == 422);
  CHECK(r.body.find("\"reason\"") != std::string::npos);
  CHECK(s.request("POST", erase, admin, R"({"reason":17})").status == 422);
  CHECK(s.request("POST", erase, admin, R"({"reason":"x","extra":1})").status == 422);
  CHECK(
      s.request("POST", "/api/contacts/no-such-contact/erase", admin, R"({"reason":"x"})").status ==
      404);
  CHECK(s.subjects.find("contact-" + contact));

  r = s.request("POST", erase, admin, R"({"reason":"request 17"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  position = parse(r)["position"].GetInt64();
  r = s.request("POST", erase, admin, R"({"reason":"request 17"})");
  CHECK(r.status == 409);
  CHECK(r.body.find("erased") != std::string::npos);
  r = s.request("PATCH", "/api/contacts/" + contact, admin, R"({"first_name":"Back"})");
  CHECK(r.status == 409);

  // Every read model has caught up with the erasure.
  const auto caught_up = "?min_position=" + std::to_string(position);
  r = s.request("GET", "/api/contacts/" + contact + caught_up, admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK_FALSE(canary_in(r.body));
  CHECK(r.body.find("\"erased\":true") != std::string::npos);
  r = s.request("GET", "/api/search?q=quillfeather&min_position=" + std::to_string(position),
                admin);
  CHECK(r.status == 200);
  CHECK(r.body.find(contact) == std::string::npos);
  r = s.request("GET", "/api/contacts/" + contact + "/timeline" + caught_up, admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK_FALSE(canary_in(r.body));
  CHECK(r.body.find("[erased]") != std::string::npos);
  CHECK(r.body.find("Intro call") != std::string::npos);  // the rep's own record stays

  // The reads above waited for the read models they read; the others (duplicates, reminders, ...)
  // may still be applying the erasure on a busy machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (bool all = false; !all;) {
    r = s.request("GET", "/api/projections", admin);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    const auto listed = parse(r);
    all = true;
    for (const auto& p : listed["projections"].GetArray()) {
      all = all && p["checkpoint"].GetInt64() >= position;
    }
    if (!all) {
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, r.body);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // No table, however kept, holds a canary.
  const auto hits = canaries_in_database(*s.keys_db);
  CHECK_MESSAGE(hits.empty(), hits.size(), " hits, the first: ", hits.empty() ? "" : hits[0]);

  // History and replay still work, showing the fields as erased; the chain still holds.
  r = s.request("GET", "/api/audit/streams/contact-" + contact + "/state", admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK_FALSE(canary_in(r.body));
  r = s.request("GET", "/api/audit/streams/contact-" + contact + "/state?version=1", admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.body.find("[erased]") != std::string::npos);
  CHECK_FALSE(canary_in(r.body));
  r = s.request("GET", "/api/audit/verify", admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.body.find("\"verified\":true") != std::string::npos);
  std::string ndjson;
  for (const auto& e : s.store.read_all(0, 10'000)) ndjson += infra::encode_envelope(e) + "\n";
  CHECK(ndjson.find("contact.erased") != std::string::npos);
  CHECK_FALSE(canary_in(ndjson));
  r = s.request("GET", "/api/contacts/" + contact + "/export", admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK_FALSE(canary_in(r.body));
  CHECK(r.body.find("\"reason\":\"request 17\"") != std::string::npos);

  spdlog::default_logger()->flush();
  CHECK_MESSAGE(!canary_in(logged.str()), logged.str());
  CHECK(logged.str().find("data subject erased: contact " + contact) != std::string::npos);
}

TEST_CASE_TEMPLATE("served: erasing a lead, and its export", B, sqlite_session_backend,
                   postgres_session_backend) {
  served_api<B> s;
  s.register_user("admin-1", "admin@example.com", domain::user_role::admin);
  const auto admin = bearer(access_token_of(s.login("admin@example.com")));
  auto r = s.request("POST", "/api/leads", admin,
                     R"({"name":"Zanzibarre Quillfeather","email":"zq.canary@example.org",)"
                     R"("phone":"+44 20 7946 0958","company_name":"Canary Ltd","source":"web"})");
  REQUIRE_MESSAGE(r.status == 201, r.body);
  const std::string lead = parse(r)["id"].GetString();
  r = s.request("GET", "/api/leads/" + lead + "/export", admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.body.find("Zanzibarre") != std::string::npos);
  r = s.request("POST", "/api/leads/" + lead + "/erase", admin, R"({"reason":"request 18"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  const auto position = parse(r)["position"].GetInt64();
  r = s.request("GET", "/api/leads/" + lead + "?min_position=" + std::to_string(position), admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK_FALSE(canary_in(r.body));
  CHECK(r.body.find("\"erased\":true") != std::string::npos);
  CHECK(s.request("POST", "/api/leads/" + lead + "/erase", admin, R"({"reason":"again"})").status ==
        409);
  // Every read model holding the lead has caught up with the erasure before the tables are read:
  // the search index and the timeline project on their own.
  r = s.request("GET", "/api/search?q=quillfeather&min_position=" + std::to_string(position),
                admin);
  CHECK(r.status == 200);
  CHECK(r.body.find(lead) == std::string::npos);
  r = s.request("GET", "/api/leads/" + lead + "/timeline?min_position=" + std::to_string(position),
                admin);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK_FALSE(canary_in(r.body));
  const auto hits = canaries_in_database(*s.keys_db);
  CHECK_MESSAGE(hits.empty(), hits.size(), " hits, the first: ", hits.empty() ? "" : hits[0]);
}
