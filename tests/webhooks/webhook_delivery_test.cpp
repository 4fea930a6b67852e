// Deliveries end to end, on both backends, to a receiver the test runs on loopback: the signature
// verifies with the subscription's secret, 500s are retried with growing waits and every attempt
// is recorded, a 4xx fails at once, a slow receiver times out and is tried again, Retry-After is
// honoured, a replay and a redelivery send again, and a private target is refused at delivery
// unless the operator allowed it.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <set>
#include <string>
#include <vector>

#include "infra/webhooks/webhook_signature.hpp"
#include "tests/webhooks/local_receiver.hpp"
#include "tests/webhooks/webhook_env.hpp"

using namespace realmkit;
using namespace realmkit::test::webhooks;
using realmkit::testing::postgres_backend;
using realmkit::testing::sqlite_backend;

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

long long ms_between(const received& a, const received& b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b.at - a.at).count();
}

template <class B>
std::optional<wh::delivery> only_delivery(webhook_env<B>& env, const std::string& subscription) {
  const auto all = env.deliveries(subscription);
  if (all.size() != 1) return std::nullopt;
  return all[0];
}

template <class B>
bool settled(webhook_env<B>& env, const std::string& subscription, wh::delivery_status status,
             std::size_t count = 1) {
  return eventually([&] { return env.deliveries(subscription, status).size() >= count; }, 20s);
}

}  // namespace

TEST_CASE_TEMPLATE(
    "webhooks: a delivery is signed, retried on 500 with growing waits, and recorded", B,
    sqlite_backend, postgres_backend) {
  webhook_env<B> env;
  local_receiver receiver({{500}, {500}, {500}, {200}});
  std::string secret;
  const auto id = env.subscribe(receiver.url("/hooks/crm?source=realmkit"), {"deal.*"}, secret);
  env.append("contact.created.v1", "contact-1");  // not subscribed to
  const auto moved = env.append("deal.stage_moved.v1", "deal-1",
                                R"({"deal_id":"1","from_stage_id":"a","to_stage_id":"b"})");
  // 300 ms, 600 ms, 1.2 s: steps well above what an attempt costs under the sanitizers, so the
  // growth shows through the noise of a busy machine.
  // One sender: a second one would pay for its first database session inside a wait.
  auto options = fast_dispatch();
  options.retry.base = 300ms;
  options.senders = 1;
  app::webhook_dispatcher dispatcher(env.log(), env.store(), options);
  dispatcher.start();

  const auto got = receiver.wait_for(4, 20s);
  REQUIRE(got.size() == 4);
  REQUIRE(settled(env, id, wh::delivery_status::delivered));
  dispatcher.stop();

  const auto delivery = only_delivery(env, id);
  REQUIRE(delivery);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& r = got[i];
    INFO("attempt ", i + 1);
    CHECK(r.target == "/hooks/crm?source=realmkit");
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.header("user-agent").starts_with("RealmKit-Webhooks/"));
    CHECK(r.header("realmkit-delivery") == delivery->id);
    CHECK(r.header("realmkit-event-id") == moved.event_id);
    CHECK(r.header("realmkit-event-type") == "deal.stage_moved.v1");
    CHECK(r.header("realmkit-attempt") == std::to_string(i + 1));
    CHECK(r.header("host") == "127.0.0.1:" + std::to_string(receiver.port()));
    // What a receiver does: verify the signature with the secret, within 5 minutes.
    CHECK(wh::verify_signature(r.header("realmkit-signature"), secret, r.body, unix_now()) ==
          wh::signature_check::valid);
    CHECK(wh::verify_signature(r.header("realmkit-signature"), "whsec_wrong", r.body, unix_now()) ==
          wh::signature_check::mismatch);
    rapidjson::Document body;
    body.Parse(r.body.c_str());
    REQUIRE(body.IsObject());
    CHECK(std::string(body["event_id"].GetString()) == moved.event_id);
    CHECK(body["global_position"].GetInt64() == moved.global_position);
    CHECK(std::string(body["type"].GetString()) == "deal.stage_moved.v1");
    CHECK(std::string(body["data"]["to_stage_id"].GetString()) == "b");
    CHECK(std::string(body["metadata"]["actor"].GetString()) == "u-admin");
    CHECK(body["metadata"]["ip"].IsNull());
    CHECK(body["metadata"]["idempotency_key"].IsNull());
  }
  // 300 ms, 600 ms, 1.2 s apart at least (the backoff, counted from the end of an attempt).
  const auto first = ms_between(got[0], got[1]);
  const auto second = ms_between(got[1], got[2]);
  const auto third = ms_between(got[2], got[3]);
  MESSAGE("waits between attempts (", std::string(B::kName), "): ", first, " ms, ", second, " ms, ",
          third, " ms");
  CHECK(first >= 300);
  CHECK(second >= 600);
  CHECK(third >= 1200);
  // The floors double; what an attempt costs before its request leaves (reading the event,
  // claiming the delivery) adds noise of its own on a busy machine, hence the widest comparison.
  CHECK(first < third);

  CHECK(delivery->status == wh::delivery_status::delivered);
  CHECK(delivery->attempts == 4);
  CHECK(delivery->last_status_code == 200);
  CHECK(delivery->completed_at);
  const auto attempts = env.store().attempts_of(delivery->id);
  REQUIRE(attempts.size() == 4);
  for (int i = 0; i < 3; ++i) {
    CHECK(attempts[i].number == i + 1);
    CHECK(attempts[i].status_code == 500);
    CHECK(attempts[i].outcome == wh::attempt_outcome::retry);
    CHECK(attempts[i].duration.count() > 0);
  }
  CHECK(attempts[3].status_code == 200);
  CHECK(attempts[3].outcome == wh::attempt_outcome::delivered);
  CHECK(attempts[1].at - attempts[0].at >= 300ms);
}

TEST_CASE_TEMPLATE("webhooks: a 4xx fails at once; 8 failures in a row give up", B, sqlite_backend,
                   postgres_backend) {
  webhook_env<B> env;
  local_receiver gone(std::vector<scripted_answer>{{404}});
  local_receiver broken(std::vector<scripted_answer>{{503}});
  std::string secret;
  const auto refused = env.subscribe(gone.url(), {"*"}, secret);
  const auto failing = env.subscribe(broken.url(), {"*"}, secret);
  env.append("deal.won.v1", "deal-1");
  auto options = fast_dispatch();
  options.retry.max_attempts = 3;
  options.retry.base = 50ms;
  app::webhook_dispatcher dispatcher(env.log(), env.store(), options);
  dispatcher.start();
  REQUIRE(settled(env, refused, wh::delivery_status::failed));
  REQUIRE(settled(env, failing, wh::delivery_status::failed));
  dispatcher.stop();

  const auto no = only_delivery(env, refused);
  REQUIRE(no);
  CHECK(no->attempts == 1);  // never retried
  CHECK_FALSE(no->next_attempt_at);
  CHECK(no->last_status_code == 404);
  CHECK(no->last_error == "the receiver answered 404");
  CHECK(gone.requests().size() == 1);

  const auto given_up = only_delivery(env, failing);
  REQUIRE(given_up);
  CHECK(given_up->attempts == 3);
  CHECK(broken.requests().size() == 3);
  const auto attempts = env.store().attempts_of(given_up->id);
  REQUIRE(attempts.size() == 3);
  CHECK(attempts[1].outcome == wh::attempt_outcome::retry);
  CHECK(attempts[2].outcome == wh::attempt_outcome::failed);
  CHECK(attempts[2].error == "gave up after 3 attempts");
}

TEST_CASE_TEMPLATE(
    "webhooks: a receiver that does not answer in time, or asks for time, is tried "
    "again later",
    B, sqlite_backend, postgres_backend) {
  webhook_env<B> env;
  local_receiver slow({{200, 1000ms}, {200}});
  local_receiver busy({{429, 0ms, {{"Retry-After", "1"}}}, {200}});
  std::string secret;
  const auto late = env.subscribe(slow.url(), {"deal.*"}, secret);
  const auto later = env.subscribe(busy.url(), {"deal.*"}, secret);
  env.append("deal.created.v1", "deal-1");
  auto options = fast_dispatch();
  options.http.response_timeout = 500ms;
  options.retry.base = 600ms;
  app::webhook_dispatcher dispatcher(env.log(), env.store(), options);
  dispatcher.start();
  REQUIRE(settled(env, late, wh::delivery_status::delivered));
  REQUIRE(settled(env, later, wh::delivery_status::delivered));
  dispatcher.stop();

  const auto timed_out = env.store().attempts_of(only_delivery(env, late)->id);
  REQUIRE(timed_out.size() == 2);
  CHECK_FALSE(timed_out[0].status_code);
  CHECK(timed_out[0].error == "reading the answer timed out");
  CHECK(timed_out[0].duration >= 500ms);
  CHECK(timed_out[0].outcome == wh::attempt_outcome::retry);
  CHECK(timed_out[1].outcome == wh::attempt_outcome::delivered);

  const auto asked = busy.requests();
  REQUIRE(asked.size() == 2);
  MESSAGE("Retry-After: 1 was followed after ", ms_between(asked[0], asked[1]), " ms");
  CHECK(ms_between(asked[0], asked[1]) >= 1000);
}

TEST_CASE_TEMPLATE(
    "webhooks: a replay delivers every matching event after a position again; a "
    "redelivery repeats one",
    B, sqlite_backend, postgres_backend) {
  webhook_env<B> env;
  local_receiver receiver;
  std::string secret;
  const auto start = env.log().head_position();
  const auto id = env.subscribe(receiver.url(), {"deal.created", "deal.won"}, secret);
  std::vector<infra::recorded_event> sent;
  sent.push_back(env.append("deal.created.v1", "deal-1"));
  env.append("deal.lost.v1", "deal-2");
  sent.push_back(env.append("deal.won.v1", "deal-3"));
  sent.push_back(env.append("deal.created.v1", "deal-4"));
  app::webhook_dispatcher dispatcher(env.log(), env.store(), fast_dispatch());
  dispatcher.start();
  REQUIRE(settled(env, id, wh::delivery_status::delivered, 3));

  // From the first event's position: the two matching events after it, once more.
  REQUIRE(env.store().rewind(id, sent[0].global_position, now()) == sent[0].global_position);
  REQUIRE(settled(env, id, wh::delivery_status::delivered, 5));
  const auto got = receiver.wait_for(5, 5s);
  REQUIRE(got.size() == 5);
  // Two senders: the replayed pair may arrive in either order.
  CHECK(std::set<std::string>{got[3].header("realmkit-event-id"),
                              got[4].header("realmkit-event-id")} ==
        std::set<std::string>{sent[1].event_id, sent[2].event_id});
  std::size_t replays = 0;
  for (const auto& d : env.deliveries(id)) {
    if (d.reason == wh::delivery_reason::replay) ++replays;
  }
  CHECK(replays == 2);

  // A redelivery: a new delivery id, the same event.
  const auto first = env.deliveries(id).back();
  REQUIRE(first.event_id == sent[0].event_id);
  const auto again = env.store().redeliver(id, first.id, infra::new_uuid_v7(), now());
  REQUIRE(again);
  REQUIRE(settled(env, id, wh::delivery_status::delivered, 6));
  dispatcher.stop();
  const auto all = receiver.wait_for(6, 5s);
  REQUIRE(all.size() == 6);
  CHECK(all[5].header("realmkit-event-id") == sent[0].event_id);
  CHECK(all[5].header("realmkit-delivery") == again->id);
  CHECK(all[5].header("realmkit-delivery") != all[0].header("realmkit-delivery"));
  CHECK(start < sent[0].global_position);
}

TEST_CASE_TEMPLATE(
    "webhooks: a private target is refused at delivery unless the operator allows it", B,
    sqlite_backend, postgres_backend) {
  webhook_env<B> env;
  local_receiver receiver;
  std::string secret;
  // Stored directly: the API would have refused it (the route test shows that).
  const auto id = env.subscribe(receiver.url(), {"*"}, secret);
  env.append("deal.created.v1", "deal-1");
  {
    infra::metrics_registry metrics;
    auto options = fast_dispatch(false);
    options.metrics = &metrics;
    app::webhook_dispatcher strict(env.log(), env.store(), options);
    strict.start();
    REQUIRE(settled(env, id, wh::delivery_status::failed));
    strict.stop();
    const auto exposed = metrics.expose();
    CHECK(exposed.find("realmkit_webhook_targets_refused_total 1\n") != std::string::npos);
    CHECK(exposed.find("realmkit_webhook_attempts_total{outcome=\"failed\"} 1\n") !=
          std::string::npos);
  }
  const auto refused = only_delivery(env, id);
  REQUIRE(refused);
  CHECK(refused->attempts == 1);
  CHECK_FALSE(refused->last_status_code);
  REQUIRE(refused->last_error);
  CHECK(refused->last_error->find("refused: 127.0.0.1 is a loopback address") == 0);
  CHECK(receiver.requests().empty());

  // With the operator's consent, a redelivery goes through.
  REQUIRE(env.store().redeliver(id, refused->id, infra::new_uuid_v7(), now()));
  app::webhook_dispatcher allowed(env.log(), env.store(), fast_dispatch(true));
  allowed.start();
  REQUIRE(settled(env, id, wh::delivery_status::delivered));
  allowed.stop();
  CHECK(receiver.requests().size() == 1);
}
