// The log's hash chain on both stores: every append links its events to their predecessors, the
// verifier finds the first changed, removed or reordered event, a signed checkpoint exposes a
// rewrite that recomputed every later hash, and a log written before the chain existed gets its
// hashes once.
#include "infra/audit/event_chain.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "infra/audit/chain_verify.hpp"
#include "infra/sql/sql_database.hpp"
#include "infra/sqlite/sqlite_event_store.hpp"
#include "tests/infra/event_store_test_support.hpp"
#include "tests/infra/postgres_test_support.hpp"
#include "tests/infra/store_backends.hpp"

namespace {

using namespace realmkit;
using infra::chain_hash;
using infra::audit::chain_link;
using infra::audit::kGenesisHash;
using infra::audit::verify_chain;
using testing::contract::event;
using testing::contract::read_everything;
using testing::contract::write;

// A store that can be closed and reopened on the same data, and whose tables a test may change
// behind its back, as an attacker with database access would.
struct sqlite_chain_store {
  static constexpr const char* kName = "sqlite";
  testing::temp_dir dir;
  std::unique_ptr<infra::event_store> store;

  sqlite_chain_store() { open(); }
  void open() {
    infra::sqlite_store_options options;
    options.path = dir.path() / "realmkit.db";
    store = std::make_unique<infra::sqlite_event_store>(options);
  }
  void close() { store.reset(); }
  void sql(const std::string& statements) {
    auto db = infra::sql::open_sqlite_database({.path = dir.path() / "realmkit.db"});
    db->acquire()->exec_script(statements);
  }
  // SQL that rewrites one event's data text.
  static std::string set_data(std::int64_t position, const std::string& data) {
    return "UPDATE events SET data = '" + data +
           "' WHERE global_position = " + std::to_string(position);
  }
  static std::string set_hash(std::int64_t position, const chain_hash& hash) {
    return "UPDATE events SET hash = x'" + infra::audit::to_hex(hash) +
           "' WHERE global_position = " + std::to_string(position);
  }
  static constexpr const char* kForgetChain =
      "UPDATE events SET hash = NULL; INSERT INTO event_chain_backfill (id) VALUES (1);";
};

struct postgres_chain_store {
  static constexpr const char* kName = "postgres";
  infra::postgres_store_options options = testing::fresh_postgres_options();
  std::unique_ptr<infra::event_store> store;

  postgres_chain_store() { open(); }
  ~postgres_chain_store() {
    store.reset();
    testing::drop_postgres_schema(options.schema);
  }
  void open() {
    auto o = options;
    o.drop_schema_on_close = false;  // reopened by the test; dropped by the destructor
    store = std::make_unique<infra::postgres_event_store>(o);
  }
  void close() { store.reset(); }
  void sql(const std::string& statements) { testing::postgres_exec(options.schema, statements); }
  static std::string set_data(std::int64_t position, const std::string& data) {
    return "UPDATE events SET data = '" + data +
           "'::json WHERE global_position = " + std::to_string(position);
  }
  static std::string set_hash(std::int64_t position, const chain_hash& hash) {
    return "UPDATE events SET hash = decode('" + infra::audit::to_hex(hash) +
           "', 'hex') WHERE global_position = " + std::to_string(position);
  }
  static constexpr const char* kForgetChain =
      "UPDATE events SET hash = NULL; UPDATE event_position SET last_hash = NULL; "
      "INSERT INTO event_chain_backfill (id) VALUES (true);";
};

// 40 events in 16 appends: single events, several events in one stream, two streams in one
// append, and appends made concurrently so that some share a group-commit batch.
void fill(infra::event_store& store) {
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&store, w] {
      const auto stream = "deal-" + std::to_string(w);
      std::int64_t version = 0;
      for (int i = 0; i < 3; ++i) {
        const auto id = stream + "-" + std::to_string(i);
        std::vector<infra::new_event> events;
        for (int n = 0; n <= i; ++n) {
          events.push_back(
              event(id + "-" + std::to_string(n), R"({"n":)" + std::to_string(100 + n) + "}"));
        }
        version = store.append(write(stream, version, std::move(events))).streams[0].version;
      }
    });
  }
  for (auto& t : writers) t.join();
  const std::vector<infra::stream_write> pair{
      write("contact-a", infra::kNoStream, {event("a-1"), event("a-2")}),
      write("contact-b", infra::kNoStream, {event("b-1"), event("b-2")})};
  store.append(std::span<const infra::stream_write>(pair), std::nullopt);
  for (int i = 0; i < 3; ++i) {
    store.append(write("task-" + std::to_string(i), infra::kNoStream,
                       {event("t-" + std::to_string(i)), event("t2-" + std::to_string(i))}));
  }
  for (int i = 0; i < 4; ++i) {
    store.append(write("note-" + std::to_string(i), infra::kNoStream,
                       {event("n-" + std::to_string(i), R"({"text":"a note"})")}));
  }
  REQUIRE(store.head_position() == 4 * 6 + 4 + 6 + 4);
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("the event log's hash chain", B, event_chain) {
  B backend;
  auto& store = *backend.store;
  fill(store);
  const auto head = store.head_position();

  SUBCASE("every stored event carries the link to its predecessor, and an untouched log verifies") {
    chain_hash previous = kGenesisHash;
    for (const auto& e : read_everything(store)) {
      REQUIRE(e.hash.has_value());
      CHECK(*e.hash == chain_link(previous, e));
      previous = *e.hash;
    }
    const auto report = verify_chain(store, {.page = 7});  // pages that split appends
    CHECK(report.ok());
    CHECK(report.checked == head);
    CHECK(report.verified_through == head);
    CHECK(report.last_hash == previous);
    // Appends after a restart go on from the stored head's link.
    backend.close();
    backend.open();
    backend.store->append(write("after-restart", infra::kNoStream, {event("r-1")}));
    CHECK(verify_chain(*backend.store).ok());
    CHECK(verify_chain(*backend.store).verified_through == head + 1);
  }

  SUBCASE("one changed byte is reported at its position") {
    auto data = read_everything(store)[16].data;
    const auto digit = data.find_last_of("0123456789");
    REQUIRE(digit != std::string::npos);
    data[digit] = data[digit] == '0' ? '1' : '0';
    backend.sql(B::set_data(17, data));
    const auto report = verify_chain(store);
    REQUIRE(report.first_break.has_value());
    CHECK(report.first_break->position == 17);
    CHECK(report.first_break->reason.find("hash mismatch") != std::string::npos);
    CHECK(report.verified_through == 16);
    CHECK(report.checked == 16);
  }

  SUBCASE("a removed event is reported at its position") {
    backend.sql("DELETE FROM events WHERE global_position = 23");
    const auto report = verify_chain(store);
    REQUIRE(report.first_break.has_value());
    CHECK(report.first_break->position == 23);
    CHECK(report.first_break->reason.find("missing") != std::string::npos);
  }

  SUBCASE("the last event removed is reported too") {
    backend.sql("DELETE FROM events WHERE global_position = " + std::to_string(head));
    const auto report = verify_chain(store, {.up_to = head});
    REQUIRE(report.first_break.has_value());
    CHECK(report.first_break->position == head);
  }

  SUBCASE("two swapped events are reported at the first of them") {
    backend.sql(
        "UPDATE events SET global_position = 1000000 WHERE global_position = 12; "
        "UPDATE events SET global_position = 12 WHERE global_position = 30; "
        "UPDATE events SET global_position = 30 WHERE global_position = 1000000;");
    const auto report = verify_chain(store);
    REQUIRE(report.first_break.has_value());
    CHECK(report.first_break->position == 12);
  }

  SUBCASE("a missing hash is a broken link, not something to fill in") {
    backend.sql("UPDATE events SET hash = NULL WHERE global_position = 5");
    backend.close();
    backend.open();
    const auto report = verify_chain(*backend.store);
    REQUIRE(report.first_break.has_value());
    CHECK(report.first_break->position == 5);
    CHECK(report.first_break->reason.find("no chain hash") != std::string::npos);
  }

  SUBCASE("a signed checkpoint exposes a rewrite that recomputed every later hash") {
    const auto key = infra::audit::generate_signing_key();
    const auto before = verify_chain(store);
    REQUIRE(before.ok());
    const auto cp = infra::audit::sign_checkpoint(before.verified_through, before.last_hash,
                                                  infra::timestamp{}, key);
    const auto restored = infra::audit::decode_checkpoint(infra::audit::encode_checkpoint(cp));
    CHECK(infra::audit::signature_valid(restored));
    CHECK(verify_chain(store, {.expect = restored}).checkpoint_matched);

    // The attacker changes event 9 and recomputes the links from there on.
    backend.sql(B::set_data(9, R"({"n":999})"));
    chain_hash previous = kGenesisHash;
    for (auto e : read_everything(store)) {
      if (e.global_position >= 9) {
        e.hash = chain_link(previous, e);
        backend.sql(B::set_hash(e.global_position, *e.hash));
      }
      previous = chain_link(previous, e);
    }
    CHECK(verify_chain(store).ok());  // the chain alone cannot tell
    const auto report = verify_chain(store, {.expect = restored});
    REQUIRE(report.first_break.has_value());
    CHECK(report.first_break->position == cp.position);
    CHECK(report.first_break->reason.find("differs from the checkpoint") != std::string::npos);
    CHECK_FALSE(report.checkpoint_matched);

    // Nor can the checkpoint be moved to match: its signature covers position and hash.
    auto forged = restored;
    forged.hash = report.last_hash;
    CHECK_FALSE(infra::audit::signature_valid(forged));
  }

  SUBCASE("a log written before the chain existed gets its hashes once, in order") {
    std::vector<chain_hash> original;
    for (const auto& e : read_everything(store)) original.push_back(*e.hash);
    backend.close();
    backend.sql(B::kForgetChain);
    backend.open();
    std::vector<chain_hash> filled;
    for (const auto& e : read_everything(*backend.store)) {
      REQUIRE(e.hash.has_value());
      filled.push_back(*e.hash);
    }
    CHECK(filled == original);
    backend.store->append(write("after-fill", infra::kNoStream, {event("f-1")}));
    CHECK(verify_chain(*backend.store).ok());
  }
}

TEST_CASE_TEMPLATE_INVOKE(event_chain, sqlite_chain_store, postgres_chain_store);

TEST_CASE("checkpoints and signing keys refuse malformed input, naming the field") {
  using infra::audit::decode_checkpoint;
  using infra::audit::decode_signing_key;
  const auto key = infra::audit::generate_signing_key();
  CHECK(decode_signing_key(infra::audit::encode_signing_key(key)).public_key == key.public_key);
  const auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  CHECK(message([] { decode_checkpoint("[1]"); }).find("not a JSON object") != std::string::npos);
  CHECK(message([] { decode_checkpoint(R"({"format":"x"})"); }).starts_with("format"));
  const auto cp = infra::audit::encode_checkpoint(
      infra::audit::sign_checkpoint(3, kGenesisHash, infra::timestamp{}, key));
  auto broken = cp;
  broken.replace(broken.find("\"hash\":\"") + 8, 2, "zz");
  CHECK(message([&] { decode_checkpoint(broken); }).starts_with("hash"));
  auto negative = cp;
  negative.replace(negative.find("\"position\":3"), 12, "\"position\":-3");
  CHECK(message([&] { decode_checkpoint(negative); }).starts_with("position"));
  auto other_key = infra::audit::encode_signing_key(key);
  other_key.replace(other_key.find("\"public_key\":\"") + 14, 2,
                    infra::audit::to_hex(key.public_key).substr(0, 2) == "00" ? "11" : "00");
  CHECK(message([&] { decode_signing_key(other_key); }).starts_with("public_key"));
}
