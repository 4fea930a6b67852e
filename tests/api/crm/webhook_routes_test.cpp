// Webhook subscriptions over HTTP on both backends: admins create them and see the secret once;
// targets on private, loopback or link-local addresses, with credentials or another scheme are
// refused naming url; bad input is a problem naming the field and writes nothing; other roles
// are refused; secrets rotate; deliveries are listed, shown with their attempts, redelivered, and
// replayed from a position.
#include <doctest/doctest.h>

#include <algorithm>

#include "api/openapi.hpp"
#include "infra/webhooks/webhook_events.hpp"
#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

namespace wh = infra::webhooks;

std::string subscription_body(const std::string& url, const std::string& types = R"(["deal.*"])") {
  return R"({"url":)" + quoted(url) + R"(,"event_types":)" + types + "}";
}

std::size_t items_of(const reply& r) {
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json["items"].Size();
}

}  // namespace

TEST_CASE_TEMPLATE("webhooks over HTTP: an admin subscribes, sees the secret once, and manages it",
                   B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& admin = f.admin;
  const auto created = f.call("POST", "/api/webhooks", admin,
                              R"({"url":"https://hooks.example.com/crm?k=1",)"
                              R"("event_types":["deal.stage_moved","contact.*"],)"
                              R"("description":"Sync to the warehouse"})");
  REQUIRE_MESSAGE(created.status == 201, created.body);
  const auto id = created.str("id");
  CHECK(created.header("Location") == "/api/webhooks/" + id);
  const auto secret = created.str("secret");
  CHECK(secret.starts_with("whsec_"));
  CHECK(secret.size() == 49);
  CHECK(created.json["active"].GetBool());
  CHECK(created.integer("position") == f.head());
  CHECK(created.str("created_by") == admin);
  CHECK(created.json["event_types"].Size() == 2);

  // Never shown again.
  const auto got = f.call("GET", "/api/webhooks/" + id, admin);
  REQUIRE(got.status == 200);
  CHECK_FALSE(got.has("secret"));
  CHECK(got.body.find(secret) == std::string::npos);
  CHECK(got.str("url") == "https://hooks.example.com/crm?k=1");
  CHECK(got.str("description") == "Sync to the warehouse");
  const auto listed = f.call("GET", "/api/webhooks", admin);
  CHECK(items_of(listed) == 1);
  CHECK(listed.body.find(secret) == std::string::npos);

  // Changes: switched off and on again hears from then on.
  const auto off = f.call("PATCH", "/api/webhooks/" + id, admin, R"({"active":false})");
  REQUIRE_MESSAGE(off.status == 200, off.body);
  CHECK_FALSE(off.json["active"].GetBool());
  f.make_company(f.a.rep);  // an event meanwhile
  const auto on = f.call("PATCH", "/api/webhooks/" + id, admin,
                         R"({"active":true,"event_types":["*"],"description":""})");
  REQUIRE_MESSAGE(on.status == 200, on.body);
  CHECK(on.integer("position") == f.head());
  CHECK(on.json["event_types"][0].GetString() == std::string("*"));
  CHECK(on.str("description").empty());

  // A rotation shows the new secret once; the old one signs beside it for the overlap asked.
  const auto rotated = f.call("POST", "/api/webhooks/" + id + "/rotate-secret", admin,
                              R"({"keep_previous_for_seconds":3600})");
  REQUIRE_MESSAGE(rotated.status == 200, rotated.body);
  const auto fresh = rotated.str("secret");
  CHECK(fresh.starts_with("whsec_"));
  CHECK(fresh != secret);
  CHECK(rotated.json["previous_secret_expires_at"].IsString());
  const auto immediate = f.call("POST", "/api/webhooks/" + id + "/rotate-secret", admin);
  REQUIRE_MESSAGE(immediate.status == 200, immediate.body);
  CHECK(immediate.json["previous_secret_expires_at"].IsNull());

  const auto kinds = f.call("GET", "/api/webhooks/event-types", admin);
  REQUIRE(kinds.status == 200);
  CHECK(kinds.json["items"][0].GetString() == std::string("*"));
  CHECK(kinds.json["items"].Size() == wh::known_event_kinds().size() + 1 + 9);

  // Every schema the routes give is a JSON object, or the document would not generate.
  const auto document = api::openapi_document(f.routes());
  CHECK(document.find("\"operationId\":\"webhooks.rotate_secret\"") != std::string::npos);

  const auto deleted = f.call("DELETE", "/api/webhooks/" + id, admin);
  REQUIRE(deleted.status == 200);
  CHECK(deleted.json["deleted"].GetBool());
  check_problem(f.call("GET", "/api/webhooks/" + id, admin), 404, "not-found");
  check_problem(f.call("DELETE", "/api/webhooks/" + id, admin), 404, "not-found");
  CHECK(items_of(f.call("GET", "/api/webhooks", admin)) == 0);
}

TEST_CASE_TEMPLATE(
    "webhooks over HTTP: private, loopback and link-local targets are refused (SSRF)", B,
    sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  for (const char* url : {"http://127.0.0.1/hook",
                          "http://127.0.0.1:8080/hook",
                          "http://10.0.0.1/hook",
                          "http://192.168.1.1/hook",
                          "http://172.16.5.4/hook",
                          "http://169.254.169.254/latest/",
                          "http://[::1]/hook",
                          "http://[::ffff:127.0.0.1]/hook",
                          "http://[fd00::1]/hook",
                          "http://[fe80::1]/hook",
                          "http://0.0.0.0/hook",
                          "http://100.64.0.1/hook",
                          "http://localhost/hook",
                          "http://localhost:8080/hook",
                          "http://2130706433/hook",
                          "http://internal.example.net/hook",
                          "http://user:pass@hooks.example.com/hook",
                          "https://token@hooks.example.com/hook",
                          "ftp://hooks.example.com/hook",
                          "file:///etc/passwd",
                          "hooks.example.com/hook",
                          "http://hooks.example.com/#x"}) {
    INFO(url);
    check_problem(f.call("POST", "/api/webhooks", f.admin, subscription_body(url)), 422,
                  "validation", "url");
  }
  const auto loopback =
      f.call("POST", "/api/webhooks", f.admin, subscription_body("http://127.0.0.1/hook"));
  CHECK(loopback.str("detail").find("loopback") != std::string::npos);
  const auto metadata =
      f.call("POST", "/api/webhooks", f.admin, subscription_body("http://169.254.169.254/"));
  CHECK(metadata.str("detail").find("link-local") != std::string::npos);
  CHECK(items_of(f.call("GET", "/api/webhooks", f.admin)) == 0);

  // A change of URL is checked the same way.
  const auto ok =
      f.call("POST", "/api/webhooks", f.admin, subscription_body("https://hooks.example.com/in"));
  REQUIRE_MESSAGE(ok.status == 201, ok.body);
  check_problem(f.call("PATCH", "/api/webhooks/" + ok.str("id"), f.admin,
                       R"({"url":"http://192.168.0.10/"})"),
                422, "validation", "url");
  CHECK(f.call("GET", "/api/webhooks/" + ok.str("id"), f.admin).str("url") ==
        "https://hooks.example.com/in");
}

TEST_CASE_TEMPLATE("webhooks over HTTP: bad input names its field and writes nothing; only admins",
                   B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& admin = f.admin;
  const std::string url = "https://hooks.example.com/x";
  const auto post = [&](const std::string& body) {
    return f.call("POST", "/api/webhooks", admin, body);
  };
  check_problem(post(R"({"event_types":["*"]})"), 422, "validation", "url");
  check_problem(post(R"({"url":42,"event_types":["*"]})"), 422, "validation", "url");
  check_problem(post(R"({"url":")" + url + R"("})"), 422, "validation", "event_types");
  check_problem(post(subscription_body(url, "[]")), 422, "validation", "event_types");
  check_problem(post(subscription_body(url, R"("deal.*")")), 422, "validation", "event_types");
  check_problem(post(subscription_body(url, R"(["deal.*","nope"])")), 422, "validation",
                "event_types/1");
  check_problem(post(subscription_body(url, R"(["deal.flew_away"])")), 422, "validation",
                "event_types/0");
  check_problem(post(subscription_body(url, R"(["deal.stage_moved.v1"])")), 422, "validation",
                "event_types/0");
  check_problem(post(subscription_body(url, R"(["user_email.*"])")), 422, "validation",
                "event_types/0");
  check_problem(post(subscription_body(url, R"(["deal.*","deal.*"])")), 422, "validation",
                "event_types/1");
  check_problem(post(subscription_body(url, R"([1])")), 422, "validation", "event_types/0");
  check_problem(post(R"({"url":")" + url + R"(","event_types":["*"],"secret":"mine"})"), 422,
                "validation", "secret");
  check_problem(post(R"({"url":")" + url + R"(","event_types":["*"],"active":"yes"})"), 422,
                "validation", "active");
  check_problem(post(R"({"url":")" + url + R"(","event_types":["*"],"description":")" +
                     std::string(501, 'd') + R"("})"),
                422, "validation", "description");
  check_problem(post("[1]"), 422, "validation");
  check_problem(post("{"), 400, "malformed-json");
  check_problem(post(R"({"url":")" + std::string(2100, 'a') + R"(","event_types":["*"]})"), 422,
                "validation", "url");
  CHECK(items_of(f.call("GET", "/api/webhooks", admin)) == 0);

  const auto made = post(subscription_body(url));
  REQUIRE(made.status == 201);
  const auto id = made.str("id");
  const auto base = "/api/webhooks/" + id;
  check_problem(f.call("PATCH", base, admin, "{}"), 422, "validation");
  check_problem(f.call("PATCH", base, admin, R"({"position":0})"), 422, "validation", "position");
  check_problem(f.call("PATCH", base, admin, R"({"event_types":["*"],"url":"ftp://x"})"), 422,
                "validation", "url");
  CHECK(f.call("GET", base, admin).json["event_types"][0].GetString() == std::string("deal.*"));
  check_problem(
      f.call("POST", base + "/rotate-secret", admin, R"({"keep_previous_for_seconds":604801})"),
      422, "validation", "keep_previous_for_seconds");
  check_problem(f.call("POST", base + "/replay", admin, "{}"), 422, "validation", "from_position");
  check_problem(f.call("POST", base + "/replay", admin, R"({"from_position":-1})"), 422,
                "validation", "from_position");
  check_problem(f.call("POST", base + "/replay", admin,
                       R"({"from_position":)" + std::to_string(f.head() + 1) + "}"),
                422, "validation", "from_position");
  check_problem(f.call("GET", base + "/deliveries?status=lost", admin), 422, "validation",
                "status");
  check_problem(f.call("GET", base + "/deliveries?cursor=nope", admin), 422, "validation",
                "cursor");
  check_problem(f.call("GET", base + "/deliveries?limit=0", admin), 422, "validation", "limit");
  check_problem(f.call("GET", base + "/deliveries?color=red", admin), 422, "validation", "color");
  check_problem(f.call("GET", "/api/webhooks/nope/deliveries", admin), 404, "not-found");
  check_problem(f.call("GET", base + "/deliveries/nope", admin), 404, "not-found");
  check_problem(f.call("POST", base + "/deliveries/nope/redeliver", admin), 404, "not-found");
  check_problem(f.call("PATCH", "/api/webhooks/nope", admin, R"({"active":false})"), 404,
                "not-found");

  // Every other role is refused, before anything is looked at.
  for (const auto& user : {f.a.manager, f.a.rep, f.a.analyst, f.a.auditor}) {
    check_problem(f.call("GET", "/api/webhooks", user), 403, "forbidden");
    check_problem(f.call("POST", "/api/webhooks", user, subscription_body(url)), 403, "forbidden");
    check_problem(f.call("POST", base + "/rotate-secret", user), 403, "forbidden");
    check_problem(f.call("DELETE", base, user), 403, "forbidden");
  }
  const auto anonymous = f.call("GET", "/api/webhooks", "");
  CHECK(anonymous.status == 401);
  CHECK(items_of(f.call("GET", "/api/webhooks", admin)) == 1);
}

TEST_CASE_TEMPLATE("webhooks over HTTP: deliveries page by page, with attempts; redeliver; replay",
                   B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto& admin = f.admin;
  const auto made =
      f.call("POST", "/api/webhooks", admin, subscription_body("https://hooks.example.com/d"));
  REQUIRE(made.status == 201);
  const auto id = made.str("id");
  const auto base = "/api/webhooks/" + id;
  const auto start = made.integer("position");

  // Deliveries enqueued as the dispatcher would (ids in log order), the oldest failed after an
  // attempt.
  auto& store = f.webhooks();
  for (int i = 0; i < 3; ++i) f.make_deal(f.a.rep, "Deal " + std::to_string(i));
  const auto events = f.store().read_all(start, 100);
  REQUIRE(events.size() >= 3);
  const auto n = events.size();
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < n; ++i) ids.push_back(infra::new_uuid_v7());
  std::sort(ids.begin(), ids.end());
  std::vector<wh::new_delivery> enqueued;
  for (std::size_t i = 0; i < n; ++i) enqueued.push_back({ids[i], &events[i]});
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  REQUIRE(
      store.enqueue(store.active_cursors().at(0), events.back().global_position, enqueued, now));
  const auto claimed = store.claim_due(now, std::chrono::seconds(60), 1);
  REQUIRE(claimed.size() == 1);
  const auto failed_id = claimed[0].delivery.id;
  CHECK(failed_id == ids[0]);
  REQUIRE(store.record_attempt(failed_id,
                               {.number = 1,
                                .at = now,
                                .duration = std::chrono::microseconds(12'345),
                                .status_code = 410,
                                .outcome = wh::attempt_outcome::failed},
                               std::nullopt));

  // Newest first, two at a time.
  std::vector<std::int64_t> positions;
  std::string next = base + "/deliveries?limit=2";
  for (int pages = 0; !next.empty(); ++pages) {
    REQUIRE(pages < 10);
    const auto page = f.call("GET", next, admin);
    REQUIRE_MESSAGE(page.status == 200, page.body);
    CHECK(page.json["items"].Size() <= 2);
    for (const auto& d : page.json["items"].GetArray()) {
      positions.push_back(d["event_position"].GetInt64());
      CHECK(d["subscription_id"].GetString() == id);
    }
    next = page.json["next_cursor"].IsNull()
               ? std::string()
               : base + "/deliveries?limit=2&cursor=" + page.json["next_cursor"].GetString();
  }
  REQUIRE(positions.size() == n);
  CHECK(std::is_sorted(positions.rbegin(), positions.rend()));

  const auto failed = f.call("GET", base + "/deliveries?status=failed", admin);
  REQUIRE(items_of(failed) == 1);
  CHECK(failed.json["items"][0]["last_status_code"].GetInt() == 410);
  CHECK(failed.json["items"][0]["attempt_count"].GetInt() == 1);
  CHECK(items_of(f.call("GET", base + "/deliveries?status=pending", admin)) == n - 1);
  CHECK(items_of(f.call("GET", base + "/deliveries?status=delivered", admin)) == 0);

  const auto detail = f.call("GET", base + "/deliveries/" + failed_id, admin);
  REQUIRE_MESSAGE(detail.status == 200, detail.body);
  CHECK(detail.str("status") == "failed");
  CHECK(detail.str("event_id") == events[0].event_id);
  CHECK(detail.json["next_attempt_at"].IsNull());
  const auto& attempts = detail.json["attempts"];
  REQUIRE(attempts.Size() == 1);
  CHECK(attempts[0]["attempt"].GetInt() == 1);
  CHECK(attempts[0]["status_code"].GetInt() == 410);
  CHECK(attempts[0]["outcome"].GetString() == std::string("failed"));
  CHECK(attempts[0]["duration_ms"].GetDouble() == doctest::Approx(12.3));

  const auto again = f.call("POST", base + "/deliveries/" + failed_id + "/redeliver", admin);
  REQUIRE_MESSAGE(again.status == 200, again.body);
  CHECK(again.str("reason") == "redelivery");
  CHECK(again.str("redelivery_of") == failed_id);
  CHECK(again.str("status") == "pending");
  CHECK(again.str("event_id") == events[0].event_id);
  CHECK(again.str("id") != failed_id);
  CHECK(items_of(f.call("GET", base + "/deliveries?status=pending", admin)) == n);

  // A replay moves the subscription back; from ahead of it, nothing changes.
  const auto replay =
      f.call("POST", base + "/replay", admin, R"({"from_position":)" + std::to_string(start) + "}");
  REQUIRE_MESSAGE(replay.status == 200, replay.body);
  CHECK(replay.integer("from_position") == start);
  CHECK(replay.integer("position") == start);
  CHECK(replay.integer("head") == f.head());
  CHECK(store.find(id)->position == start);
  const auto ahead = f.call("POST", base + "/replay", admin,
                            R"({"from_position":)" + std::to_string(f.head()) + "}");
  REQUIRE(ahead.status == 200);
  CHECK(ahead.integer("position") == start);
  check_problem(f.call("GET", base + "/deliveries?status=failed", f.a.manager), 403, "forbidden");
}
