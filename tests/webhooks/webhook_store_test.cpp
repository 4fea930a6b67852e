// The webhook tables on both backends: subscriptions and their secrets, enqueueing exactly once
// however many enqueuers race, claims held by one sender, attempts and their consequences, pages
// of deliveries, redeliveries and replays.
#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "tests/webhooks/webhook_env.hpp"

using namespace realmkit;
using namespace realmkit::test::webhooks;
using realmkit::testing::postgres_backend;
using realmkit::testing::sqlite_backend;

TEST_CASE_TEMPLATE("webhook store: subscriptions are created, listed, changed, rotated and deleted",
                   B, sqlite_backend, postgres_backend) {
  webhook_env<B> env;
  std::string secret;
  const auto id =
      env.subscribe("https://hooks.example.com/a", {"deal.*", "contact.created"}, secret);
  std::string other_secret;
  const auto other = env.subscribe("https://hooks.example.com/b", {"*"}, other_secret);
  CHECK(secret != other_secret);

  auto s = env.store().find(id);
  REQUIRE(s);
  CHECK(s->url == "https://hooks.example.com/a");
  CHECK(s->event_types == std::vector<std::string>{"deal.*", "contact.created"});
  CHECK(s->active);
  CHECK_FALSE(s->previous_secret_expires_at);
  CHECK_FALSE(env.store().find("nope"));

  const auto first = env.store().list(std::nullopt, 1);
  REQUIRE(first.items.size() == 1);
  REQUIRE(first.next_cursor);
  const auto second = env.store().list(first.next_cursor, 1);
  REQUIRE(second.items.size() == 1);
  CHECK_FALSE(second.next_cursor);
  CHECK(std::set<std::string>{first.items[0].id, second.items[0].id} ==
        std::set<std::string>{id, other});

  s->description = "CRM sync";
  s->active = false;
  s->event_types = {"*"};
  CHECK(env.store().update(*s));
  CHECK(env.store().find(id)->description == "CRM sync");
  CHECK_FALSE(env.store().find(id)->active);

  // A rotation with an overlap: both secrets sign until it ends; without one, only the new.
  const auto t = now();
  CHECK(env.store().rotate_secret(id, "whsec_second", t + 1h, t));
  CHECK(env.store().find(id)->previous_secret_expires_at == t + 1h);
  CHECK(env.store().rotate_secret(id, "whsec_third", std::nullopt, t));
  CHECK_FALSE(env.store().find(id)->previous_secret_expires_at);
  CHECK_FALSE(env.store().rotate_secret("nope", "whsec_x", std::nullopt, t));

  CHECK(env.store().remove(id));
  CHECK_FALSE(env.store().remove(id));
  CHECK_FALSE(env.store().find(id));
  CHECK(env.store().find(other));
}

TEST_CASE_TEMPLATE(
    "webhook store: each matching event is enqueued once, however many enqueuers race", B,
    sqlite_backend, postgres_backend) {
  webhook_env<B> env;
  std::string secret;
  const auto deals = env.subscribe("http://127.0.0.1:9/deals", {"deal.*"}, secret);
  const auto everything = env.subscribe("http://127.0.0.1:9/all", {"*"}, secret);
  const auto off = env.subscribe("http://127.0.0.1:9/off", {"*"}, secret, -1, false);
  int matching_deals = 0;
  for (int i = 0; i < 60; ++i) {
    if (i % 3 == 0) {
      env.append("contact.created.v1", "contact-" + std::to_string(i));
    } else {
      env.append("deal.stage_moved.v1", "deal-" + std::to_string(i));
      ++matching_deals;
    }
  }
  env.append("user_email.reserved.v1", "user_email-abc");  // internal: never offered

  // Three enqueuers at once, each in small batches: every round is guarded by the position.
  auto options = fast_dispatch();
  options.batch = 7;
  std::vector<std::unique_ptr<app::webhook_dispatcher>> dispatchers;
  for (int i = 0; i < 3; ++i) {
    dispatchers.push_back(
        std::make_unique<app::webhook_dispatcher>(env.log(), env.store(), options));
  }
  std::vector<std::thread> threads;
  for (auto& d : dispatchers) {
    threads.emplace_back([&d] {
      for (int round = 0; round < 40; ++round) d->enqueue_once();
    });
  }
  for (auto& t : threads) t.join();

  const auto head = env.log().head_position();
  CHECK(env.store().find(deals)->position == head);
  CHECK(env.store().find(everything)->position == head);
  CHECK(env.deliveries(deals).size() == static_cast<std::size_t>(matching_deals));
  CHECK(env.deliveries(everything).size() == 60);
  CHECK(env.deliveries(off).empty());
  std::set<std::int64_t> positions;
  for (const auto& d : env.deliveries(everything)) {
    CHECK(d.status == wh::delivery_status::pending);
    CHECK(d.reason == wh::delivery_reason::event);
    CHECK(d.attempts == 0);
    CHECK(positions.insert(d.event_position).second);  // never twice
  }
  // Nothing more to do.
  CHECK(dispatchers[0]->enqueue_once() == 0);
}

TEST_CASE_TEMPLATE("webhook store: a claimed delivery is one sender's until its lease ends", B,
                   sqlite_backend, postgres_backend) {
  webhook_env<B> env;
  std::string secret;
  const auto id = env.subscribe("http://127.0.0.1:9/hook", {"deal.*"}, secret);
  env.append("deal.created.v1", "deal-1");
  app::webhook_dispatcher dispatcher(env.log(), env.store(), fast_dispatch());
  REQUIRE(dispatcher.enqueue_once() == 1);

  const auto t = now();
  const auto claimed = env.store().claim_due(t, 60s, 10);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].url == "http://127.0.0.1:9/hook");
  CHECK(claimed[0].secrets == std::vector<std::string>{secret});
  CHECK(env.store().claim_due(t, 60s, 10).empty());            // held
  CHECK(env.store().claim_due(t + 61s, 60s, 10).size() == 1);  // its sender died: taken over

  // An attempt that asks for a retry makes it due again then, and releases it.
  wh::attempt a{.number = 1,
                .at = t,
                .duration = 1500us,
                .status_code = 503,
                .outcome = wh::attempt_outcome::retry};
  CHECK(env.store().record_attempt(claimed[0].delivery.id, a, t + 5s));
  CHECK_FALSE(env.store().record_attempt(claimed[0].delivery.id, a, t + 5s));  // not twice
  CHECK(env.store().claim_due(t + 4s, 60s, 10).empty());
  CHECK(env.store().next_due() == t + 5s);
  auto again = env.store().claim_due(t + 5s, 60s, 10);
  REQUIRE(again.size() == 1);
  CHECK(again[0].delivery.attempts == 1);
  CHECK(again[0].delivery.last_status_code == 503);

  // An inactive subscription's deliveries wait.
  auto s = *env.store().find(id);
  wh::attempt b{.number = 2,
                .at = t + 5s,
                .error = "connecting timed out",
                .outcome = wh::attempt_outcome::retry};
  CHECK(env.store().record_attempt(again[0].delivery.id, b, t + 6s));
  s.active = false;
  REQUIRE(env.store().update(s));
  CHECK(env.store().claim_due(t + 1h, 60s, 10).empty());
  CHECK_FALSE(env.store().next_due());
  s.active = true;
  REQUIRE(env.store().update(s));

  auto last = env.store().claim_due(t + 1h, 60s, 10);
  REQUIRE(last.size() == 1);
  wh::attempt c{.number = 3,
                .at = t + 1h,
                .duration = 2ms,
                .status_code = 200,
                .outcome = wh::attempt_outcome::delivered};
  CHECK(env.store().record_attempt(last[0].delivery.id, c, std::nullopt));
  const auto done = env.store().find_delivery(id, last[0].delivery.id);
  REQUIRE(done);
  CHECK(done->status == wh::delivery_status::delivered);
  CHECK(done->attempts == 3);
  CHECK_FALSE(done->next_attempt_at);
  CHECK(done->completed_at == t + 1h + 2ms);
  const auto attempts = env.store().attempts_of(done->id);
  REQUIRE(attempts.size() == 3);
  CHECK(attempts[0].status_code == 503);
  CHECK(attempts[0].duration == 1500us);
  CHECK(attempts[0].outcome == wh::attempt_outcome::retry);
  CHECK_FALSE(attempts[1].status_code);
  CHECK(attempts[1].error == "connecting timed out");
  CHECK(attempts[2].outcome == wh::attempt_outcome::delivered);
  CHECK(env.store().claim_due(t + 2h, 60s, 10).empty());
  CHECK(env.store().pending_count() == 0);
}

TEST_CASE_TEMPLATE(
    "webhook store: deliveries page newest first, by status; redeliveries and replays", B,
    sqlite_backend, postgres_backend) {
  webhook_env<B> env;
  std::string secret;
  const auto start = env.log().head_position();
  const auto id = env.subscribe("http://127.0.0.1:9/hook", {"*"}, secret);
  std::vector<infra::recorded_event> events;
  for (int i = 0; i < 5; ++i)
    events.push_back(env.append("deal.created.v1", "deal-" + std::to_string(i)));
  app::webhook_dispatcher dispatcher(env.log(), env.store(), fast_dispatch());
  REQUIRE(dispatcher.enqueue_once() == 5);

  // Fail the oldest.
  const auto t = now();
  auto claimed = env.store().claim_due(t, 60s, 1);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].delivery.event_id == events[0].event_id);
  REQUIRE(env.store().record_attempt(
      claimed[0].delivery.id,
      {.number = 1, .at = t, .status_code = 410, .outcome = wh::attempt_outcome::failed},
      std::nullopt));

  std::vector<std::string> seen;
  std::optional<std::string> cursor;
  do {
    const auto page = env.store().deliveries(id, std::nullopt, cursor, 2);
    CHECK(page.items.size() <= 2);
    for (const auto& d : page.items) seen.push_back(d.event_id);
    cursor = page.next_cursor;
  } while (cursor);
  REQUIRE(seen.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(seen[i] == events[4 - i].event_id);  // newest first
  const auto failed = env.deliveries(id, wh::delivery_status::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].last_status_code == 410);
  CHECK(env.deliveries(id, wh::delivery_status::pending).size() == 4);
  CHECK(env.deliveries(id, wh::delivery_status::delivered).empty());

  // A redelivery is a new delivery of the same event, due at once.
  const auto again = env.store().redeliver(id, failed[0].id, infra::new_uuid_v7(), now());
  REQUIRE(again);
  CHECK(again->event_id == events[0].event_id);
  CHECK(again->reason == wh::delivery_reason::redelivery);
  CHECK(again->redelivery_of == failed[0].id);
  CHECK(again->status == wh::delivery_status::pending);
  CHECK_FALSE(env.store().redeliver(id, "nope", infra::new_uuid_v7(), now()));
  CHECK_FALSE(env.store().redeliver("other", failed[0].id, infra::new_uuid_v7(), now()));

  // A replay from the second event: the 4 after it again, marked as replays; a position ahead of
  // the subscription changes nothing.
  CHECK(env.store().rewind(id, env.log().head_position() + 5, now()) == env.log().head_position());
  CHECK(env.store().rewind(id, events[0].global_position, now()) == events[0].global_position);
  REQUIRE(dispatcher.enqueue_once() == 4);
  std::size_t replays = 0;
  for (const auto& d : env.deliveries(id)) {
    if (d.reason == wh::delivery_reason::replay) {
      ++replays;
      CHECK(d.event_position > events[0].global_position);
    }
  }
  CHECK(replays == 4);
  CHECK(env.deliveries(id).size() == 5 + 1 + 4);
  // Events after the replayed range are ordinary again.
  const auto fresh = env.append("deal.created.v1", "deal-new");
  REQUIRE(dispatcher.enqueue_once() == 1);
  for (const auto& d : env.deliveries(id)) {
    if (d.event_id == fresh.event_id) CHECK(d.reason == wh::delivery_reason::event);
  }
  CHECK(start < events[0].global_position);
}

TEST_CASE_TEMPLATE(
    "webhook store: finished deliveries are forgotten after the retention, with their attempts; "
    "pending ones stay",
    B, sqlite_backend, postgres_backend) {
  webhook_env<B> env;
  std::string secret;
  const auto id = env.subscribe("http://127.0.0.1:9/hook", {"deal.*"}, secret);
  for (int i = 1; i <= 3; ++i) env.append("deal.created.v1", "deal-" + std::to_string(i));
  app::webhook_dispatcher dispatcher(env.log(), env.store(), fast_dispatch());
  REQUIRE(dispatcher.enqueue_once() == 3);
  const auto t = now();
  const auto claimed = env.store().claim_due(t, 60s, 10);
  REQUIRE(claimed.size() == 3);
  const auto& delivered = claimed[0].delivery.id;
  const auto& failed = claimed[1].delivery.id;
  const auto& pending = claimed[2].delivery.id;
  constexpr auto day = std::chrono::hours(24);
  REQUIRE(env.store().record_attempt(
      delivered,
      {.number = 1, .at = t, .status_code = 200, .outcome = wh::attempt_outcome::delivered},
      std::nullopt));
  REQUIRE(env.store().record_attempt(
      failed,
      {.number = 1, .at = t + day, .status_code = 410, .outcome = wh::attempt_outcome::failed},
      std::nullopt));
  REQUIRE(env.store().record_attempt(
      pending, {.number = 1, .at = t, .status_code = 503, .outcome = wh::attempt_outcome::retry},
      t + 400 * day));

  const auto pruning_at = [&](infra::timestamp when, std::chrono::hours keep) {
    auto o = fast_dispatch();
    o.clock = [when] { return when; };
    o.keep_finished = keep;
    return app::webhook_dispatcher(env.log(), env.store(), o).prune_once();
  };
  // Retention off: nothing is forgotten, however old.
  CHECK(pruning_at(t + 365 * day, std::chrono::hours(0)) == 0);
  // Thirty days (the default) after the first finished: it alone goes, with its attempt.
  CHECK(pruning_at(t + 30 * day + std::chrono::hours(1), 30 * day) == 1);
  CHECK_FALSE(env.store().find_delivery(id, delivered));
  CHECK(env.store().attempts_of(delivered).empty());
  CHECK(env.store().find_delivery(id, failed));
  // Later: the failed one too. The pending one stays whatever its age, and so do its attempts.
  CHECK(pruning_at(t + 90 * day, 30 * day) == 1);
  CHECK_FALSE(env.store().find_delivery(id, failed));
  CHECK(env.store().attempts_of(failed).empty());
  REQUIRE(env.store().find_delivery(id, pending));
  CHECK(env.store().attempts_of(pending).size() == 1);
  CHECK(env.store().pending_count() == 1);
  CHECK(pruning_at(t + 90 * day, 30 * day) == 0);
}

TEST_CASE("webhook store (postgres): the analysts' role reads none of the webhook tables") {
  webhook_env<postgres_backend> env;
  auto session = env.db().open_session();
  for (const char* table : {"webhook_subscriptions", "webhook_deliveries", "webhook_attempts"}) {
    INFO(table);
    const infra::sql::value params[] = {std::string(table)};
    const auto rows = session->query(
        "SELECT has_table_privilege('realmkit_analyst', quote_ident(current_schema()) || '.' || "
        "quote_ident($1), 'SELECT')",
        params);
    CHECK(rows[0].integer(0) == 0);
  }
}
