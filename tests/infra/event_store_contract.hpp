// The event store contract: what every backend must do, written once against the event_store
// interface. A backend joins by adding its type to TEST_CASE_TEMPLATE_INVOKE(contract, ...) in
// event_store_contract_test.cpp; a Backend type has `static constexpr const char* kName` and
// `static std::unique_ptr<event_store> make_store()` returning a fresh, empty store.
// Include this header from exactly one translation unit.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "infra/event_store.hpp"
#include "tests/infra/event_store_test_support.hpp"

TEST_CASE_TEMPLATE_DEFINE("event store contract", Backend, contract) {
  using namespace realmkit::testing::contract;
  using realmkit::infra::idempotency_key_reused;
  using realmkit::infra::invalid_append;
  using realmkit::infra::kMaxEventDataBytes;
  using realmkit::infra::wrong_expected_version;

  INFO("backend: " << std::string(Backend::kName));
  auto store_ptr = Backend::make_store();
  REQUIRE(store_ptr != nullptr);
  event_store& store = *store_ptr;

  SUBCASE("an empty store has no events") {
    CHECK(store.head_position() == 0);
    CHECK(store.read_all(0, 100).empty());
    CHECK(store.stream_version("deal-1") == 0);
    CHECK(store.read_stream("deal-1").empty());
  }

  SUBCASE("an append reads back with every envelope field") {
    const auto before = std::chrono::system_clock::now();
    new_event first{
        "ev-1", "deal.created.v1", 1,
        R"({"title":"Acme \"Big\" deal","value":{"amount_minor":125000,"currency":"EUR"},"note":"caf\u00e9 \u2603"})",
        R"({"actor":"user-7","correlation_id":"corr-1","causation_id":null,"idempotency_key":"k-1","ip":"127.0.0.1"})"};
    new_event second{"ev-2", "deal.stage_moved.v2", 2, R"({"stage_id":"s-2"})", R"({})"};
    const auto result = store.append(write("deal-1", kNoStream, {first, second}));
    const auto after = std::chrono::system_clock::now();

    CHECK_FALSE(result.replayed);
    CHECK(result.position == 2);
    REQUIRE(result.streams.size() == 1);
    CHECK(result.streams[0].stream_id == "deal-1");
    CHECK(result.streams[0].version == 2);
    CHECK(result.streams[0].last_position == 2);

    const auto events = store.read_stream("deal-1");
    REQUIRE(events.size() == 2);
    const new_event* sent[] = {&first, &second};
    for (std::size_t i = 0; i < 2; ++i) {
      const auto& e = events[i];
      CAPTURE(i);
      CHECK(e.event_id == sent[i]->event_id);
      CHECK(e.stream_id == "deal-1");
      CHECK(e.stream_version == static_cast<std::int64_t>(i + 1));
      CHECK(e.global_position == static_cast<std::int64_t>(i + 1));
      CHECK(e.type == sent[i]->type);
      CHECK(e.schema_version == sent[i]->schema_version);
      // Stored bytes come back unchanged: the audit hash chain is computed over them.
      CHECK(e.data == sent[i]->data);
      CHECK(e.metadata == sent[i]->metadata);
      // Recorded by the store's clock during the append (a second of slack for a database clock).
      CHECK(e.recorded_at >= before - 1s);
      CHECK(e.recorded_at <= after + 1s);
    }
    CHECK(events[0].recorded_at == events[1].recorded_at);

    const auto all = read_everything(store);
    REQUIRE(all.size() == 2);
    CHECK(all[0].event_id == "ev-1");
    CHECK(all[1].data == second.data);
    CHECK(all[1].recorded_at == events[1].recorded_at);
    CHECK(store.stream_version("deal-1") == 2);
    CHECK(store.head_position() == 2);
  }

  SUBCASE("expected version: any, no stream, exact") {
    CHECK(store.append(write("s", kNoStream, {event("a1")})).streams[0].version == 1);
    CHECK(store.append(write("s", std::nullopt, {event("a2")})).streams[0].version == 2);
    CHECK(store.append(write("s", 2, {event("a3"), event("a4")})).streams[0].version == 4);
    CHECK(store.append(write("t", std::nullopt, {event("b1")})).streams[0].version == 1);
    CHECK(store.stream_version("s") == 4);
    CHECK(store.stream_version("t") == 1);
    CHECK(store.head_position() == 5);
  }

  SUBCASE("a wrong expected version changes nothing and reports the actual version") {
    store.append(write("s", kNoStream, {event("a1"), event("a2")}));

    auto stale = thrown<wrong_expected_version>([&] { store.append(write("s", 1, {event("x")})); });
    REQUIRE(stale);
    CHECK(stale->stream_id() == "s");
    CHECK(stale->expected() == expected_version{1});
    CHECK(stale->actual() == 2);

    auto exists =
        thrown<wrong_expected_version>([&] { store.append(write("s", kNoStream, {event("y")})); });
    REQUIRE(exists);
    CHECK(exists->expected() == expected_version{kNoStream});
    CHECK(exists->actual() == 2);

    auto missing =
        thrown<wrong_expected_version>([&] { store.append(write("new", 3, {event("z")})); });
    REQUIRE(missing);
    CHECK(missing->stream_id() == "new");
    CHECK(missing->actual() == 0);

    CHECK(store.head_position() == 2);
    CHECK(store.stream_version("s") == 2);
    CHECK(store.stream_version("new") == 0);
    CHECK(positions(read_everything(store)) == iota(1, 2));
    // The refused event ids stay free.
    CHECK(store.append(write("s", 2, {event("x")})).position == 3);
  }

  SUBCASE("a multi-stream append is atomic") {
    store.append(write("b", kNoStream, {event("b1")}));
    const std::vector<stream_write> conflicting{write("a", kNoStream, {event("a1"), event("a2")}),
                                                write("b", 5, {event("b2")})};
    auto conflict =
        thrown<wrong_expected_version>([&] { store.append(conflicting, std::nullopt); });
    REQUIRE(conflict);
    CHECK(conflict->stream_id() == "b");
    CHECK(conflict->actual() == 1);
    CHECK(store.stream_version("a") == 0);
    CHECK(store.read_stream("a").empty());
    CHECK(store.head_position() == 1);

    const std::vector<stream_write> good{write("a", kNoStream, {event("a1"), event("a2")}),
                                         write("b", 1, {event("b2")})};
    const auto result = store.append(good, std::nullopt);
    REQUIRE(result.streams.size() == 2);
    CHECK(result.streams[0].stream_id == "a");
    CHECK(result.streams[0].version == 2);
    CHECK(result.streams[0].last_position == 3);
    CHECK(result.streams[1].stream_id == "b");
    CHECK(result.streams[1].version == 2);
    CHECK(result.streams[1].last_position == 4);
    CHECK(result.position == 4);
    const auto all = read_everything(store);
    REQUIRE(all.size() == 4);
    CHECK(all[1].event_id == "a1");
    CHECK(all[2].event_id == "a2");
    CHECK(all[3].event_id == "b2");
    CHECK(all[3].stream_version == 2);
  }

  SUBCASE("an idempotency key returns the first result and writes nothing again") {
    const idempotency_key key{"user-1", "key-1", "fp-1"};
    CHECK_FALSE(store.find_idempotent(key).has_value());
    const auto first = store.append(write("s", kNoStream, {event("e1")}), key);
    CHECK_FALSE(first.replayed);

    // The same request again: its expected version is stale and its event id taken, yet it is
    // answered from the key.
    const auto again = store.append(write("s", kNoStream, {event("e1")}), key);
    CHECK(again.replayed);
    CHECK(again.position == first.position);
    REQUIRE(again.streams.size() == 1);
    CHECK(again.streams[0].stream_id == "s");
    CHECK(again.streams[0].version == first.streams[0].version);
    CHECK(again.streams[0].last_position == first.streams[0].last_position);
    CHECK(store.head_position() == 1);

    // Even with new event ids (a client that regenerates them) nothing is written.
    CHECK(store.append(write("s", std::nullopt, {event("e1-bis")}), key).replayed);
    CHECK(store.head_position() == 1);

    const auto found = store.find_idempotent(key);
    REQUIRE(found.has_value());
    CHECK(found->position == first.position);
    REQUIRE(found->streams.size() == 1);
    CHECK(found->streams[0].version == 1);

    // Keys are per actor.
    const auto other =
        store.append(write("s", 1, {event("e2")}), idempotency_key{"user-2", "key-1", "fp-9"});
    CHECK_FALSE(other.replayed);
    CHECK(other.position == 2);
  }

  SUBCASE("a reused idempotency key with another request is refused") {
    const idempotency_key key{"user-1", "key-1", "fp-1"};
    store.append(write("s", kNoStream, {event("e1")}), key);
    const idempotency_key reused{"user-1", "key-1", "fp-2"};
    CHECK_THROWS_AS(store.append(write("s", std::nullopt, {event("e2")}), reused),
                    idempotency_key_reused);
    CHECK_THROWS_AS((void)store.find_idempotent(reused), idempotency_key_reused);
    CHECK(store.head_position() == 1);
    CHECK(store.read_stream("s").size() == 1);
  }

  SUBCASE("a refused append does not consume its idempotency key") {
    const idempotency_key key{"user-1", "key-1", "fp-1"};
    store.append(write("s", kNoStream, {event("e1")}));
    CHECK_THROWS_AS(store.append(write("s", kNoStream, {event("e2")}), key),
                    wrong_expected_version);
    CHECK_FALSE(store.find_idempotent(key).has_value());
    const auto result = store.append(write("s", 1, {event("e2")}), key);
    CHECK_FALSE(result.replayed);
    CHECK(result.position == 2);
  }

  SUBCASE("a re-sent append with the same event ids is answered from the store") {
    const auto original = store.append(write("s", kNoStream, {event("e1"), event("e2")}));
    store.append(write("s", 2, {event("e3")}));

    for (expected_version expected : {expected_version{kNoStream}, expected_version{}}) {
      CAPTURE(expected.value_or(-1));
      const auto retry = store.append(write("s", expected, {event("e1"), event("e2")}));
      CHECK(retry.replayed);
      CHECK(retry.position == original.position);
      REQUIRE(retry.streams.size() == 1);
      CHECK(retry.streams[0].version == 2);
      CHECK(retry.streams[0].last_position == 2);
    }
    // A retry of the later append alone, too.
    const auto later = store.append(write("s", 2, {event("e3")}));
    CHECK(later.replayed);
    CHECK(later.streams[0].version == 3);
    CHECK(store.head_position() == 3);
  }

  SUBCASE("event ids partly stored, out of order or in another stream are refused") {
    store.append(write("s", kNoStream, {event("e1"), event("e2")}));
    store.append(write("s", 2, {event("e3")}));

    auto partial = thrown<invalid_append>([&] {
      store.append(write("s", std::nullopt, {event("e2"), event("e9")}));
    });
    REQUIRE(partial);
    CHECK(partial->field().starts_with("streams/0.events/"));
    CHECK(partial->field().ends_with(".event_id"));

    auto gap = thrown<invalid_append>([&] {
      store.append(write("s", std::nullopt, {event("e1"), event("e3")}));
    });
    REQUIRE(gap);
    CHECK(gap->field().ends_with(".event_id"));

    auto elsewhere =
        thrown<invalid_append>([&] { store.append(write("t", kNoStream, {event("e1")})); });
    REQUIRE(elsewhere);
    CHECK(elsewhere->field() == "streams/0.events/0.event_id");

    CHECK(store.head_position() == 3);
    CHECK(store.stream_version("t") == 0);
    CHECK(positions(read_everything(store)) == iota(1, 3));
  }

  SUBCASE("read_all returns contiguous positions in order, from a position, at most max") {
    int n = 0;
    for (int round = 0; round < 4; ++round) {
      for (const char* stream : {"a", "b", "c"}) {
        store.append(write(stream, std::nullopt,
                           {event("e" + std::to_string(++n)), event("e" + std::to_string(++n))}));
      }
    }
    const auto all = read_everything(store);
    CHECK(positions(all) == iota(1, 24));
    for (std::size_t i = 0; i < all.size(); ++i) {
      CHECK(all[i].event_id == "e" + std::to_string(i + 1));
    }
    CHECK(positions(store.read_all(3, 2)) == iota(4, 5));
    CHECK(positions(store.read_all(20, 100)) == iota(21, 24));
    CHECK(store.read_all(24, 100).empty());
    CHECK(store.read_all(0, 0).empty());
    CHECK(store.head_position() == 24);
  }

  SUBCASE("read_stream returns the stream's events from a version, at most max") {
    for (int i = 1; i <= 5; ++i) {
      store.append(write("s", std::nullopt, {event("s" + std::to_string(i))}));
      store.append(write("other", std::nullopt, {event("o" + std::to_string(i))}));
    }
    const auto from3 = store.read_stream("s", 3);
    REQUIRE(from3.size() == 3);
    CHECK(from3[0].stream_version == 3);
    CHECK(from3[0].event_id == "s3");
    CHECK(from3[2].stream_version == 5);
    CHECK(from3[2].global_position == 9);

    const auto one = store.read_stream("s", 2, 1);
    REQUIRE(one.size() == 1);
    CHECK(one[0].event_id == "s2");
    CHECK(store.read_stream("s", 6).empty());
    CHECK(store.read_stream("missing").empty());
    CHECK(store.stream_version("missing") == 0);
    CHECK(store.stream_version("s") == 5);
  }

  SUBCASE("bad input is refused naming the field, and nothing is written") {
    store.append(write("keep", kNoStream, {event("k1")}));
    struct bad_case {
      const char* name;
      std::vector<stream_write> writes;
      std::string field;
    };
    const std::vector<bad_case> cases{
        {"empty stream id", {write("", std::nullopt, {event("x1")})}, "streams/0.stream_id"},
        {"oversized data",
         {write("s", std::nullopt,
                {event("x1", R"({"blob":")" + std::string(kMaxEventDataBytes, 'a') + R"("})")})},
         "streams/0.events/0.data"},
        {"data not a JSON object",
         {write("s", std::nullopt, {event("x1", "[1,2]")})},
         "streams/0.events/0.data"},
        {"data not JSON",
         {write("s", std::nullopt, {event("x1", "{\"a\":")})},
         "streams/0.events/0.data"},
        {"duplicate event id in one append",
         {write("s", std::nullopt, {event("x1"), event("x1")})},
         "streams/0.events/1.event_id"},
        {"duplicate event id across streams",
         {write("s", std::nullopt, {event("x1")}), write("t", std::nullopt, {event("x1")})},
         "streams/1.events/0.event_id"},
        {"no events", {write("s", std::nullopt, {})}, "streams/0.events"},
        {"a bad write next to a good one",
         {write("good", kNoStream, {event("g1")}), write("s", std::nullopt, {event("x1", "null")})},
         "streams/1.events/0.data"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto refused = thrown<invalid_append>([&] { store.append(c.writes, std::nullopt); });
      REQUIRE(refused);
      CHECK(refused->field() == c.field);
    }
    CHECK(store.head_position() == 1);
    CHECK(store.stream_version("s") == 0);
    CHECK(store.stream_version("t") == 0);
    CHECK(store.stream_version("good") == 0);
    CHECK(positions(read_everything(store)) == iota(1, 1));
  }

  SUBCASE("wait_for_append wakes on an append and gives up at its timeout") {
    store.append(write("s", std::nullopt, {event("e1")}));
    const auto start = std::chrono::steady_clock::now();
    store.wait_for_append(1, 30ms);  // nothing comes
    CHECK(std::chrono::steady_clock::now() - start >= 30ms);

    store.wait_for_append(0, 10s);  // already past
    CHECK(std::chrono::steady_clock::now() - start < 5s);

    std::atomic<bool> woke{false};
    std::thread waiter([&] {
      store.wait_for_append(1, 20s);
      woke = store.head_position() > 1;
    });
    const auto appended = std::chrono::steady_clock::now();
    store.append(write("s", std::nullopt, {event("e2")}));
    waiter.join();
    CHECK(woke);
    CHECK(std::chrono::steady_clock::now() - appended < 10s);
  }

  SUBCASE("a subscription catches up, then goes live with no gap and no duplicate") {
    constexpr int kBefore = 60;
    constexpr int kThreads = 4;
    constexpr int kPerThread = 50;
    constexpr std::int64_t kTotal = kBefore + kThreads * kPerThread;
    constexpr std::int64_t kFrom = 10;
    for (int i = 0; i < kBefore; ++i) {
      store.append(
          write("pre-" + std::to_string(i % 7), std::nullopt, {event("pre-" + std::to_string(i))}));
    }
    event_sink sink;
    auto subscription = store.subscribe_all(
        kFrom, [&](const recorded_event& e) { sink.add(e); },
        [&](std::exception_ptr error) { sink.fail(error); });

    thread_errors errors;
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&, t] {
        try {
          for (int i = 0; i < kPerThread; ++i) {
            store.append(write("live-" + std::to_string(i % 5), std::nullopt,
                               {event("live-" + std::to_string(t) + "-" + std::to_string(i))}));
          }
        } catch (const std::exception& e) {
          errors.add(e.what());
        }
      });
    }
    for (auto& w : writers) w.join();
    CHECK(errors.take().empty());

    const bool complete = sink.wait_for(kTotal - kFrom);
    CHECK_MESSAGE(complete, sink.failure());
    CHECK(sink.positions() == iota(kFrom + 1, kTotal));
    // position() moves once the handler returns: by the time the next event is handed over, it
    // covers every earlier one.
    store.append(write("after", std::nullopt, {event("after-1")}));
    REQUIRE(sink.wait_for(kTotal + 1 - kFrom));
    CHECK(subscription->position() >= kTotal);
    subscription.reset();
    CHECK(sink.positions() == iota(kFrom + 1, kTotal + 1));
  }

  SUBCASE("concurrent appenders keep streams and positions contiguous and lose nothing") {
    constexpr int kThreads = 8;
    constexpr int kAppendsPerThread = 60;
    const std::vector<std::string> streams{"deal-a", "deal-b", "deal-c", "deal-d"};

    thread_errors errors;
    std::atomic<int> conflicts{0};
    std::mutex acknowledged_mutex;                                    // guards acknowledged
    std::vector<std::pair<std::string, append_result>> acknowledged;  // first event id, result
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        try {
          for (int i = 0; i < kAppendsPerThread; ++i) {
            const auto& stream = streams[static_cast<std::size_t>(t + i) % streams.size()];
            const int count = 1 + (i % 3);
            std::vector<new_event> events;
            for (int k = 0; k < count; ++k) {
              events.push_back(event("t" + std::to_string(t) + "-" + std::to_string(i) + "-" +
                                     std::to_string(k)));
            }
            std::optional<append_result> result;
            if (t % 2 == 0) {
              result = store.append(write(stream, std::nullopt, events));
            } else {
              // Optimistic concurrency: read the version, append at it, retry on a conflict.
              while (!result) {
                try {
                  result = store.append(write(stream, store.stream_version(stream), events));
                } catch (const realmkit::infra::wrong_expected_version&) {
                  ++conflicts;
                }
              }
            }
            std::lock_guard lock(acknowledged_mutex);
            acknowledged.emplace_back(events.front().event_id, *result);
          }
        } catch (const std::exception& e) {
          errors.add(e.what());
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(errors.take().empty());
    MESSAGE("version conflicts retried: " << conflicts.load());

    const auto all = read_everything(store);
    std::int64_t expected_total = 0;
    for (int i = 0; i < kAppendsPerThread; ++i) expected_total += 1 + (i % 3);
    expected_total *= kThreads;
    CHECK(store.head_position() == expected_total);
    CHECK(positions(all) == iota(1, expected_total));

    std::set<std::string> ids;
    std::map<std::string, std::int64_t> versions;
    for (const auto& e : all) {
      CHECK(ids.insert(e.event_id).second);
      CHECK(e.stream_version == ++versions[e.stream_id]);
    }
    for (const auto& stream : streams) {
      CHECK(store.stream_version(stream) == versions[stream]);
      CHECK(static_cast<std::int64_t>(store.read_stream(stream).size()) == versions[stream]);
    }
    // Each acknowledged append is where its result says.
    REQUIRE(acknowledged.size() == static_cast<std::size_t>(kThreads * kAppendsPerThread));
    for (const auto& [first_id, result] : acknowledged) {
      const auto& r = result.streams.at(0);
      REQUIRE(r.last_position >= 1);
      REQUIRE(r.last_position <= expected_total);
      const auto& last = all[static_cast<std::size_t>(r.last_position - 1)];
      CHECK(last.stream_id == r.stream_id);
      CHECK(last.stream_version == r.version);
      CHECK(last.event_id.substr(0, first_id.size() - 1) ==
            first_id.substr(0, first_id.size() - 1));
    }
  }

  SUBCASE("the same request sent concurrently is written once") {
    constexpr int kThreads = 8;
    const idempotency_key key{"user-1", "key-1", "fp-1"};
    thread_errors errors;
    std::atomic<int> replayed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        try {
          // Half carry the key, half only the same event ids: both must recognise the retry.
          const auto result =
              t % 2 == 0 ? store.append(write("s", std::nullopt, {event("e1"), event("e2")}), key)
                         : store.append(write("s", std::nullopt, {event("e1"), event("e2")}));
          if (result.replayed) ++replayed;
          if (result.position != 2 || result.streams.at(0).version != 2) {
            errors.add("unexpected result position " + std::to_string(result.position));
          }
        } catch (const std::exception& e) {
          errors.add(e.what());
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(errors.take().empty());
    CHECK(replayed == kThreads - 1);
    CHECK(store.head_position() == 2);
  }

  SUBCASE("appends that fail do not disturb concurrent ones") {
    constexpr int kThreads = 16;
    thread_errors errors;
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const auto id = "e" + std::to_string(t);
        try {
          if (t % 2 == 0) {
            store.append(write("good-" + id, kNoStream, {event(id)}));
          } else {
            store.append(write("bad-" + id, 7, {event(id)}));
          }
        } catch (const wrong_expected_version& e) {
          if (t % 2 == 1 && e.actual() == 0) {
            ++refused;
          } else {
            errors.add(e.what());
          }
        } catch (const std::exception& e) {
          errors.add(e.what());
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(errors.take().empty());
    CHECK(refused == kThreads / 2);
    CHECK(store.head_position() == kThreads / 2);
    for (int t = 0; t < kThreads; t += 2) {
      CHECK(store.stream_version("good-e" + std::to_string(t)) == 1);
    }
    CHECK(positions(read_everything(store)) == iota(1, kThreads / 2));
  }
}
