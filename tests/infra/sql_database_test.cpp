// The read-model database, on SQLite and on PostgreSQL: one contract for both, then what is
// particular to each (transient failures, FTS5).
#include "infra/sql/sql_database.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "infra/sql/sql_detail.hpp"
#include "tests/infra/event_store_test_support.hpp"
#include "tests/infra/postgres_test_support.hpp"
#include "tests/infra/store_backends.hpp"

namespace sql = realmkit::infra::sql;
using realmkit::testing::postgres_backend;
using realmkit::testing::sqlite_backend;
using realmkit::testing::store_and_database;
using namespace std::chrono_literals;

namespace {

using values = std::vector<sql::value>;

sql::value text(std::string s) {
  return sql::value(std::move(s));
}
sql::value integer(std::int64_t n) {
  return sql::value(n);
}

// The sql::error that f throws; FAILs the test when it throws none.
template <class F>
sql::error sql_error_of(F&& f) {
  try {
    f();
  } catch (const sql::error& e) {
    return e;
  }
  FAIL("expected an sql::error");
  return sql::error("", false);
}

constexpr const char* kCreateItems =
    "CREATE TABLE items (id bigint PRIMARY KEY, name text, note text, amount bigint)";

std::int64_t count_items(sql::session& s) {
  return s.query("SELECT count(*) FROM items")[0].integer(0);
}

template <class Backend>
struct fixture {
  store_and_database env = Backend::make_store_and_database();
  sql::database& db = *env.db;
  fixture() { db.acquire()->exec_script(kCreateItems); }
};

}  // namespace

TEST_CASE("sql: identifiers are checked and quoted") {
  CHECK(sql::identifier("rm_deals_g3") == "\"rm_deals_g3\"");
  CHECK(sql::identifier("_x") == "\"_x\"");
  CHECK_THROWS_AS(sql::identifier(""), std::invalid_argument);
  CHECK_THROWS_AS(sql::identifier("3d"), std::invalid_argument);
  CHECK_THROWS_AS(sql::identifier("Deals"), std::invalid_argument);
  CHECK_THROWS_AS(sql::identifier("a\"; DROP TABLE x; --"), std::invalid_argument);
  CHECK_THROWS_AS(sql::identifier(std::string(64, 'a')), std::invalid_argument);
  CHECK(sql::identifier(std::string(63, 'a')).size() == 65);
}

TEST_CASE("sql: rows convert between integers and text, and refuse what does not convert") {
  const sql::row r(values{integer(-42), text("17"), sql::null(), text("12a"), text("")});
  CHECK(r.size() == 5);
  CHECK(r.integer(0) == -42);
  CHECK(r.text(0) == "-42");
  CHECK(r.integer(1) == 17);
  CHECK(r.is_null(2));
  CHECK(r.text(2).empty());
  CHECK(r.optional_text(2) == std::nullopt);
  CHECK(r.optional_integer(2) == std::nullopt);
  CHECK(r.optional_integer(1) == 17);
  CHECK_FALSE(sql_error_of([&] { (void)r.integer(2); }).transient());
  CHECK(std::string(sql_error_of([&] { (void)r.integer(3); }).what()).find("12a") !=
        std::string::npos);
  sql_error_of([&] { (void)r.integer(4); });
  sql_error_of([&] { (void)r.text(5); });
  CHECK(sql::boolean(true) == integer(1));
  CHECK(sql::boolean(false) == integer(0));
}

TEST_CASE("sql: placeholders are found outside literals, identifiers and comments") {
  using sql::detail::scan_placeholders;
  const auto lite = scan_placeholders(
      "SELECT $2, '$3 it''s', \"$4\", x$5 -- $6\n, /* $7 */ $1, $10", sql::dialect::sqlite);
  CHECK(lite.parameters == 10);
  CHECK(lite.sqlite_text == "SELECT ?2, '$3 it''s', \"$4\", x$5 -- $6\n, /* $7 */ ?1, ?10");
  CHECK(scan_placeholders("SELECT E'\\'$9', $$ $8 $$, $t$ $7 $t$, /* /* $6 */ $5 */ $1",
                          sql::dialect::postgres)
            .parameters == 1);
  CHECK(scan_placeholders("SELECT 1", sql::dialect::postgres).parameters == 0);
  CHECK_FALSE(
      sql_error_of([] { scan_placeholders("SELECT $0", sql::dialect::sqlite); }).transient());
  sql_error_of([] { scan_placeholders("SELECT $70000", sql::dialect::postgres); });
}

TEST_CASE("sql: a one-row INSERT is split for its array form only when that is equivalent") {
  using sql::detail::as_bulk_insert;
  const auto plain = as_bulk_insert("INSERT INTO items (id, name)\nVALUES ($1, lower($2::text));");
  REQUIRE(plain.has_value());
  CHECK(plain->head == "INSERT INTO items (id, name)\n");
  CHECK(plain->row == "rk_rows.p1, lower(rk_rows.p2::text)");
  CHECK(plain->tail.empty());
  const auto nothing =
      as_bulk_insert("insert into \"x\".items values ($2, '$1 (', $1) on conflict (id) do nothing");
  REQUIRE(nothing.has_value());
  CHECK(nothing->head == "insert into \"x\".items ");
  CHECK(nothing->row == "rk_rows.p2, '$1 (', rk_rows.p1");
  CHECK(nothing->tail == "on conflict (id) do nothing");
  const auto upsert = as_bulk_insert(
      "INSERT INTO items (id, Name, amount) VALUES ($3, $1, $2 + 1) ON CONFLICT (name, \"id\") "
      "WHERE id > 0 DO UPDATE SET amount = excluded.amount");
  REQUIRE(upsert.has_value());
  CHECK(upsert->conflict_key == std::vector<std::size_t>{0, 2});
  CHECK(upsert->tail ==
        "ON CONFLICT (name, \"id\") WHERE id > 0 DO UPDATE SET amount = excluded.amount");
  for (const char* other : {
           "INSERT INTO items (id) VALUES (lower($1)) ON CONFLICT (id) DO UPDATE SET name = 'x'",
           "INSERT INTO items VALUES ($1) ON CONFLICT (id) DO UPDATE SET name = 'x'",
           "INSERT INTO items (id) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = 'x'",
           "INSERT INTO items (id) VALUES ($1) ON CONFLICT ON CONSTRAINT k DO UPDATE SET n = 1",
           "INSERT INTO items (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET name = $1",
           "INSERT INTO items (id, n) VALUES ($1, (SELECT count(*) FROM items))",
           "INSERT INTO items (id, n) VALUES ($1, DEFAULT)",
           "INSERT INTO items (id) VALUES ($1), ($2)",
           "INSERT INTO items (id) VALUES ($1) RETURNING id",
           "INSERT INTO items (id) VALUES ($1) ON CONFLICT (id) WHERE id > $2 DO NOTHING",
           "INSERT INTO items (id) SELECT $1",
           "WITH x AS (SELECT 1) INSERT INTO items (id) VALUES ($1)",
           "UPDATE items SET name = $2 WHERE id = $1",
           "INSERT INTO items (id) VALUES ($1); DELETE FROM items",
       }) {
    CAPTURE(other);
    CHECK_FALSE(as_bulk_insert(other).has_value());
  }
}

TEST_CASE_TEMPLATE("sql: execute_many writes what one execution per row would", B, sqlite_backend,
                   postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  std::vector<values> rows;
  for (std::int64_t i = 1; i <= 40; ++i) {
    rows.push_back(values{integer(i), i % 5 == 0 ? sql::null() : text("Name " + std::to_string(i)),
                          integer(i)});
  }
  SUBCASE("a plain insert, with expressions") {
    s->execute_many("INSERT INTO items (id, name, amount) VALUES ($1, lower($2), $3 * 2)", rows);
    const auto got = s->query("SELECT id, name, amount FROM items ORDER BY id");
    REQUIRE(got.size() == 40);
    CHECK(got[0].text(1) == "name 1");
    CHECK(got[4].is_null(1));
    CHECK(got[39].integer(2) == 80);
  }
  SUBCASE("duplicates skipped: the first one wins") {
    auto twice = rows;
    for (auto& r : rows) twice.push_back(values{r[0], text("second"), integer(0)});
    s->execute_many(
        "INSERT INTO items (id, name, amount) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        twice);
    CHECK(count_items(*s) == 40);
    CHECK(s->query("SELECT count(*) FROM items WHERE name = 'second'")[0].integer(0) == 0);
  }
  SUBCASE("upserts: the last one wins") {
    auto twice = rows;
    for (auto& r : rows) twice.push_back(values{r[0], text("second"), integer(0)});
    s->execute_many(
        "INSERT INTO items (id, name, amount) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, amount = items.amount + 1",
        twice);
    CHECK(count_items(*s) == 40);
    CHECK(
        s->query("SELECT count(*) FROM items WHERE name = 'second' AND amount = id + 1")[0].integer(
            0) == 40);
  }
  SUBCASE("upserts of the same keys, interleaved, apply in order") {
    std::vector<values> mixed;
    std::map<std::int64_t, std::pair<std::string, std::int64_t>> expected;
    for (std::int64_t i = 1; i <= 60; ++i) {
      const std::int64_t id = i % 7;
      mixed.push_back(values{integer(id), text("v" + std::to_string(i)), integer(i)});
      auto& e = expected[id];
      e = {"v" + std::to_string(i), e.second + i};
    }
    s->execute_many(
        "INSERT INTO items (id, name, amount) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE "
        "SET name = excluded.name, amount = items.amount + excluded.amount",
        mixed);
    const auto got = s->query("SELECT id, name, amount FROM items ORDER BY id");
    REQUIRE(got.size() == expected.size());
    for (const auto& r : got) {
      CAPTURE(r.integer(0));
      CHECK(r.text(1) == expected[r.integer(0)].first);
      CHECK(r.integer(2) == expected[r.integer(0)].second);
    }
  }
  SUBCASE("each row sees the rows before it") {
    std::vector<values> ids;
    for (std::int64_t i = 1; i <= 40; ++i) ids.push_back(values{integer(i)});
    s->execute_many(
        "INSERT INTO items (id, amount) VALUES ($1, (SELECT count(*) FROM items AS earlier))", ids);
    CHECK(s->query("SELECT count(*) FROM items WHERE amount = id - 1")[0].integer(0) == 40);
  }
  SUBCASE("a value that looks like an array or NULL stays text") {
    std::vector<values> odd;
    const std::vector<std::string> texts{"NULL", "{1,2}", "{\"a\"}", "\\N", "", "(1,2)", "a,b"};
    for (std::size_t i = 0; i < 20; ++i) {
      odd.push_back(values{integer(static_cast<std::int64_t>(i)), text(texts[i % texts.size()])});
    }
    s->execute_many("INSERT INTO items (id, name) VALUES ($1, $2)", odd);
    const auto got = s->query("SELECT name FROM items ORDER BY id");
    REQUIRE(got.size() == 20);
    for (std::size_t i = 0; i < 20; ++i) {
      CHECK_FALSE(got[i].is_null(0));
      CHECK(got[i].text(0) == texts[i % texts.size()]);
    }
  }
}

TEST_CASE_TEMPLATE("sql: placeholders may be reused and appear out of order", B, sqlite_backend,
                   postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  CHECK(s->dialect() == f.db.dialect());
  CHECK(s->execute("INSERT INTO items (name, id, note) VALUES ($2, $1, $2)",
                   values{integer(7), text("seven")}) == 1);
  const auto rows =
      s->query("SELECT id, name, note, '$2 it''s' FROM items -- not $3\nWHERE id = $1 /* nor $4 */",
               values{integer(7)});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].integer(0) == 7);
  CHECK(rows[0].text(1) == "seven");
  CHECK(rows[0].text(2) == "seven");
  CHECK(rows[0].text(3) == "$2 it's");

  SUBCASE("another number of values than placeholders is refused") {
    const auto e = sql_error_of([&] { s->query("SELECT id FROM items WHERE id = $1", values{}); });
    CHECK_FALSE(e.transient());
    CHECK(std::string(e.what()).find("SELECT id FROM items") != std::string::npos);
    sql_error_of([&] {
      s->execute("DELETE FROM items WHERE id = $1", values{integer(7), integer(8)});
    });
    CHECK(count_items(*s) == 1);
  }
  SUBCASE("one statement per call") {
    sql_error_of([&] { s->execute("DELETE FROM items; DELETE FROM items"); });
    CHECK(count_items(*s) == 1);
  }
}

TEST_CASE_TEMPLATE("sql: NULL travels both ways", B, sqlite_backend, postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  s->execute("INSERT INTO items (id, name, note, amount) VALUES ($1, $2, $3, $4)",
             values{integer(1), sql::null(), text("n"), sql::null()});
  s->execute_many("INSERT INTO items (id, name, note, amount) VALUES ($1, $2, $3, $4)",
                  std::vector<values>{{integer(2), sql::null(), sql::null(), sql::null()}});
  const auto rows = s->query("SELECT name, note, amount FROM items ORDER BY id");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].is_null(0));
  CHECK(rows[0].optional_text(0) == std::nullopt);
  CHECK(rows[0].text(1) == "n");
  CHECK(rows[0].optional_integer(2) == std::nullopt);
  CHECK(rows[1].is_null(0));
  CHECK(rows[1].is_null(1));
  CHECK(rows[1].is_null(2));
  CHECK(s->query("SELECT count(*) FROM items WHERE amount IS NULL AND name IS NULL")[0].integer(
            0) == 2);
  CHECK(s->query("SELECT NULL")[0].is_null(0));
}

TEST_CASE_TEMPLATE("sql: integers and text round trip, one by one and in bulk", B, sqlite_backend,
                   postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  const std::vector<std::int64_t> numbers{0,
                                          -1,
                                          1,
                                          std::numeric_limits<std::int64_t>::min(),
                                          std::numeric_limits<std::int64_t>::max(),
                                          9'007'199'254'740'993};
  const std::vector<std::string> texts{"",
                                       "plain",
                                       "Zoë Çelik — 日本語 🚀",
                                       "it's \"quoted\" \\ back\\slash \\' \\\\",
                                       "line\nbreak\ttab\r\n",
                                       "$1 ; DROP TABLE items; -- ?1 :x @y",
                                       "NULL",
                                       "{1,\"2\"}",
                                       "\x01\x02\x1f\x7f binary-ish",
                                       std::string(10'000, 'x') + "'"};
  std::vector<values> bulk;
  std::int64_t id = 0;
  for (auto n : numbers) {
    for (const auto& t : texts) {
      ++id;
      if (id % 2 == 0) {
        s->execute("INSERT INTO items (id, name, amount) VALUES ($1, $2, $3)",
                   values{integer(id), text(t), integer(n)});
      } else {
        bulk.push_back(values{integer(id), text(t), integer(n)});
      }
    }
  }
  s->execute_many("INSERT INTO items (id, name, amount) VALUES ($1, $2, $3)", bulk);
  const auto rows = s->query("SELECT id, name, amount FROM items ORDER BY id");
  REQUIRE(rows.size() == numbers.size() * texts.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(i);
    CHECK(rows[i].integer(0) == static_cast<std::int64_t>(i + 1));
    CHECK(rows[i].text(1) == texts[i % texts.size()]);
    CHECK(rows[i][2] == integer(numbers[i / texts.size()]));
  }
  // Parameters compare as the values they are.
  for (const auto& t : texts) {
    CHECK(s->query("SELECT count(*) FROM items WHERE name = $1", values{text(t)})[0].integer(0) ==
          static_cast<std::int64_t>(numbers.size()));
  }
  CHECK(s->query("SELECT id FROM items WHERE amount = $1 ORDER BY id LIMIT 1",
                 values{integer(std::numeric_limits<std::int64_t>::min())})[0]
            .integer(0) == static_cast<std::int64_t>(3 * texts.size() + 1));
  SUBCASE("a text with a NUL byte is refused on both backends") {
    const auto e = sql_error_of([&] {
      s->execute("INSERT INTO items (id, name) VALUES ($1, $2)",
                 values{integer(1000), text(std::string("a\0b", 3))});
    });
    CHECK_FALSE(e.transient());
    sql_error_of([&] {
      s->execute_many("INSERT INTO items (id, name) VALUES ($1, $2)",
                      std::vector<values>{{integer(1000), text(std::string("a\0b", 3))}});
    });
    CHECK(count_items(*s) == static_cast<std::int64_t>(rows.size()));
  }
}

TEST_CASE_TEMPLATE("sql: a bulk write larger than one message arrives whole and in order", B,
                   sqlite_backend, postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  // About 6 MB of statements: more than one simple-query message on PostgreSQL.
  const std::string filler(1'000, 'q');
  std::vector<values> rows;
  for (std::int64_t i = 1; i <= 6'000; ++i) {
    rows.push_back(values{integer(i), text(filler + std::to_string(i)), integer(i * 3)});
  }
  sql::transaction txn(*s);
  s->execute_many("INSERT INTO items (id, name, amount) VALUES ($1, $2, $3)", rows);
  // In order: a later row sees the earlier ones.
  s->execute_many("UPDATE items SET amount = amount + $2 WHERE id = $1",
                  std::vector<values>{{integer(1), integer(1)}, {integer(1), integer(10)}});
  txn.commit();
  const auto totals = s->query("SELECT count(*), sum(amount), min(length(name)) FROM items");
  CHECK(totals[0].integer(0) == 6'000);
  CHECK(totals[0].integer(1) == 3 * 6'000 * 6'001 / 2 + 11);
  CHECK(totals[0].integer(2) == 1'001);
}

TEST_CASE_TEMPLATE("sql: a transaction rolled back leaves nothing", B, sqlite_backend,
                   postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  {
    sql::transaction txn(*s);
    CHECK(s->in_transaction());
    s->execute("INSERT INTO items (id) VALUES ($1)", values{integer(1)});
    s->execute_many("INSERT INTO items (id) VALUES ($1)",
                    std::vector<values>{{integer(2)}, {integer(3)}});
    s->exec_script("UPDATE items SET note = 'x'");
    CHECK(count_items(*s) == 3);
  }  // not committed
  CHECK_FALSE(s->in_transaction());
  CHECK(count_items(*s) == 0);

  s->begin();
  s->execute("INSERT INTO items (id) VALUES ($1)", values{integer(4)});
  s->rollback();
  s->rollback();  // harmless twice
  CHECK(count_items(*s) == 0);
  CHECK_FALSE(sql_error_of([&] { s->commit(); }).transient());

  s->begin();
  CHECK_FALSE(sql_error_of([&] { s->begin(); }).transient());
  CHECK(s->in_transaction());
  s->execute("INSERT INTO items (id) VALUES ($1)", values{integer(5)});
  s->commit();
  CHECK(count_items(*s) == 1);
}

TEST_CASE_TEMPLATE("sql: a failed statement in a transaction leaves it only to roll back", B,
                   sqlite_backend, postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  s->execute("INSERT INTO items (id, name) VALUES (1, 'kept')");
  s->begin();
  s->execute("INSERT INTO items (id, name) VALUES (2, 'lost')");
  const auto duplicate = sql_error_of([&] {
    s->execute("INSERT INTO items (id, name)\nVALUES ($1, $2)", values{integer(1), text("x")});
  });
  CHECK_FALSE(duplicate.transient());
  const std::string what = duplicate.what();
  CHECK(what.find("INSERT INTO items (id, name)") != std::string::npos);
  CHECK(what.find("VALUES") == std::string::npos);  // only the first line
  CHECK(s->in_transaction());

  SUBCASE("rolled back") {
    s->rollback();
  }
  SUBCASE("commit refuses and rolls back") {
    CHECK_FALSE(sql_error_of([&] { s->commit(); }).transient());
  }
  CHECK_FALSE(s->in_transaction());
  // The session is as good as new.
  CHECK(s->query("SELECT name FROM items ORDER BY id")[0].text(0) == "kept");
  CHECK(count_items(*s) == 1);
  sql::transaction txn(*s);
  s->execute("INSERT INTO items (id, name) VALUES (3, 'new')");
  txn.commit();
  CHECK(count_items(*s) == 2);
}

TEST_CASE_TEMPLATE("sql: a syntax error names the statement and the server's reason", B,
                   sqlite_backend, postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  const auto e = sql_error_of([&] { s->query("SELEC id FROM items"); });
  CHECK_FALSE(e.transient());
  const std::string what = e.what();
  CHECK(what.find("SELEC id FROM items") != std::string::npos);
  CHECK(what.find("syntax error") != std::string::npos);
  const auto script =
      sql_error_of([&] { s->exec_script("CREATE TABLE t (x int);\nCREATE TABL u"); });
  CHECK_FALSE(script.transient());
  CHECK(std::string(script.what()).find("CREATE TABLE t (x int);") != std::string::npos);
  CHECK(s->query("SELECT 1")[0].integer(0) == 1);
}

TEST_CASE_TEMPLATE("sql: execute_many outside a transaction writes all rows or none", B,
                   sqlite_backend, postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  const auto e = sql_error_of([&] {
    s->execute_many("INSERT INTO items (id) VALUES ($1)",
                    std::vector<values>{{integer(1)}, {integer(2)}, {integer(1)}, {integer(3)}});
  });
  CHECK_FALSE(e.transient());
  CHECK_FALSE(s->in_transaction());
  CHECK(count_items(*s) == 0);
  s->execute_many("INSERT INTO items (id) VALUES ($1)",
                  std::vector<values>{{integer(1)}, {integer(2)}});
  CHECK(count_items(*s) == 2);
  s->execute_many("INSERT INTO items (id) VALUES ($1)", std::vector<values>{});
  CHECK(count_items(*s) == 2);
}

TEST_CASE_TEMPLATE("sql: execute counts the rows it changed", B, sqlite_backend, postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  CHECK(s->execute("INSERT INTO items (id) VALUES (1), (2), (3)") == 3);
  CHECK(s->execute("UPDATE items SET note = 'x' WHERE id >= $1", values{integer(2)}) == 2);
  CHECK(s->execute("UPDATE items SET note = 'x' WHERE id > 10") == 0);
  CHECK(s->execute("CREATE TABLE other (x bigint)") == 0);
  CHECK(s->execute("DELETE FROM items") == 3);
}

TEST_CASE_TEMPLATE("sql: a view replaced with other columns is read anew", B, sqlite_backend,
                   postgres_backend) {
  fixture<B> f;
  auto s = f.db.acquire();
  s->exec_script(
      "CREATE TABLE items_g2 (id bigint, label text, extra bigint);"
      "INSERT INTO items_g2 VALUES (1, 'two', 22);"
      "INSERT INTO items (id, name) VALUES (1, 'one');"
      "CREATE VIEW current_items AS SELECT * FROM items");
  CHECK(s->query("SELECT * FROM current_items")[0].size() == 4);
  // What a rebuild's switch does: the stable view now shows the next generation.
  f.db.acquire()->exec_script(
      "DROP VIEW current_items; CREATE VIEW current_items AS SELECT * FROM items_g2");
  const auto rows = s->query("SELECT * FROM current_items");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].size() == 3);
  CHECK(rows[0].text(1) == "two");
}

TEST_CASE_TEMPLATE("sql: leases return sessions to the pool and discard broken ones", B,
                   sqlite_backend, postgres_backend) {
  fixture<B> f;
  // A temporary table lives as long as its session: it tells which session a lease got.
  auto has_marker = [](sql::session& s) {
    return s.query("SELECT count(*) FROM marker")[0].integer(0) >= 0;
  };
  { f.db.acquire()->exec_script("CREATE TEMP TABLE marker (x bigint)"); }
  {
    auto again = f.db.acquire();
    CHECK(has_marker(*again));
    // A second lease at the same time gets another session.
    auto other = f.db.acquire();
    CHECK_THROWS_AS(has_marker(*other), sql::error);
  }
  {
    auto s = f.db.acquire();
    CHECK(has_marker(*s));
    s->begin();  // and never ended: the pool must not hand this session out again
  }
  // The idle sessions left are the second one and (discarded) the first: whichever leases come
  // next, none of them is the first session.
  auto a = f.db.acquire();
  auto b = f.db.acquire();
  CHECK_FALSE(a->in_transaction());
  CHECK_FALSE(b->in_transaction());
  CHECK_THROWS_AS(has_marker(*a), sql::error);
  CHECK_THROWS_AS(has_marker(*b), sql::error);
  // Moving a lease moves the session, not a copy of it.
  a->exec_script("CREATE TEMP TABLE marker (x bigint)");
  auto moved = std::move(a);
  CHECK(has_marker(*moved));
}

TEST_CASE_TEMPLATE("sql: sessions work from several threads at once", B, sqlite_backend,
                   postgres_backend) {
  fixture<B> f;
  constexpr int kThreads = 4;
  constexpr int kTransactions = 25;
  constexpr int kRowsEach = 4;
  realmkit::testing::contract::thread_errors errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kTransactions; ++i) {
          auto s = f.db.acquire();
          sql::transaction txn(*s);
          std::vector<values> rows;
          for (int r = 0; r < kRowsEach; ++r) {
            rows.push_back(values{integer((t * kTransactions + i) * kRowsEach + r), integer(t)});
          }
          s->execute_many("INSERT INTO items (id, amount) VALUES ($1, $2)", rows);
          (void)s->query("SELECT count(*) FROM items WHERE amount = $1", values{integer(t)});
          txn.commit();
        }
      } catch (const std::exception& e) {
        errors.add(e.what());
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors.take().empty());
  auto s = f.db.acquire();
  CHECK(count_items(*s) == kThreads * kTransactions * kRowsEach);
  CHECK(s->query("SELECT count(DISTINCT amount) FROM items")[0].integer(0) == kThreads);
}

TEST_CASE_TEMPLATE("sql: read models are written while the event store appends", B, sqlite_backend,
                   postgres_backend) {
  using namespace realmkit::testing::contract;
  fixture<B> f;
  auto& store = *f.env.store;
  std::atomic<bool> writing_done{false};
  std::atomic<int> appends{0};
  thread_errors errors;
  std::thread appender([&] {
    try {
      while (!writing_done.load() || appends.load() < 2) {
        const int n = appends.load();
        store.append(
            write("s-" + std::to_string(n % 7), std::nullopt, {event("e-" + std::to_string(n))}));
        appends.store(n + 1);
      }
    } catch (const std::exception& e) {
      errors.add(e.what());
      appends.store(1'000'000);  // releases the wait below
    }
  });
  // Start writing once the store is appending, so the two overlap.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (appends.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  constexpr int kWrites = 150;
  try {
    for (int i = 1; i <= kWrites; ++i) {
      auto s = f.db.acquire();
      sql::transaction txn(*s);
      s->execute("INSERT INTO items (id, amount) VALUES ($1, $2)",
                 values{integer(i), integer(appends.load())});
      txn.commit();
    }
  } catch (const std::exception& e) {
    errors.add(e.what());
  }
  writing_done = true;
  appender.join();
  const auto failures = errors.take();
  CHECK_MESSAGE(failures.empty(), (failures.empty() ? "" : failures.front()));
  CHECK(count_items(*f.db.acquire()) == kWrites);
  CHECK(store.head_position() == appends.load());
}

TEST_CASE(
    "sql on SQLite: a writer waits for the lock up to its busy timeout, then fails "
    "transiently") {
  realmkit::testing::temp_dir dir;
  auto db = sql::open_sqlite_database(
      {.path = dir.path() / "rm.db", .busy_timeout = std::chrono::milliseconds(50)});
  auto holder = db->acquire();
  holder->exec_script(kCreateItems);
  holder->begin();
  holder->execute("INSERT INTO items (id) VALUES (1)");
  auto waiter = db->acquire();
  const auto e = sql_error_of([&] { waiter->begin(); });
  CHECK(e.transient());
  CHECK_FALSE(waiter->in_transaction());
  holder->commit();
  sql::transaction txn(*waiter);
  waiter->execute("INSERT INTO items (id) VALUES (2)");
  txn.commit();
  CHECK(count_items(*waiter) == 2);
}

TEST_CASE("sql on SQLite: sessions run in WAL mode, leave checkpoints alone, and have FTS5") {
  realmkit::testing::temp_dir dir;
  auto db = sql::open_sqlite_database({.path = dir.path() / "rm.db"});
  auto s = db->acquire();
  CHECK(s->query("PRAGMA journal_mode")[0].text(0) == "wal");
  CHECK(s->query("PRAGMA wal_autocheckpoint")[0].integer(0) == 0);
  CHECK(s->query("PRAGMA synchronous")[0].integer(0) == 1);  // NORMAL
  CHECK(s->query("PRAGMA foreign_keys")[0].integer(0) == 0);
  s->exec_script("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize = 'unicode61')");
  s->execute_many("INSERT INTO docs (rowid, title, body) VALUES ($1, $2, $3)",
                  std::vector<values>{{integer(1), text("Acme renewal"), text("Zoë called")},
                                      {integer(2), text("Globex"), text("renewals due")}});
  const auto hits = s->query("SELECT rowid FROM docs WHERE docs MATCH $1 ORDER BY rank",
                             values{text("renewal*")});
  CHECK(hits.size() == 2);
  CHECK(s->query("SELECT rowid FROM docs WHERE docs MATCH $1", values{text("zoe")}).size() == 1);
}

TEST_CASE("sql on SQLite: sessions checkpoint a WAL that nobody else checkpoints") {
  realmkit::testing::temp_dir dir;
  const auto path = dir.path() / "rm.db";
  auto wal_bytes = [&] {
    auto wal = path;
    wal += "-wal";
    return std::filesystem::file_size(wal);
  };
  const std::string filler(1'000, 'w');
  auto write_batches = [&](sql::database& db, std::int64_t first_id) {
    for (int batch = 0; batch < 20; ++batch) {
      std::vector<values> rows;
      for (int i = 0; i < 100; ++i) {
        rows.push_back(values{integer(first_id++), text(filler)});
      }
      db.acquire()->execute_many("INSERT INTO items (id, name) VALUES ($1, $2)", rows);
    }
  };
  // About 100 KiB per batch, 2 MiB in all.
  auto checkpointing = sql::open_sqlite_database({.path = path, .checkpoint_pages = 64});
  checkpointing->acquire()->exec_script(kCreateItems);
  write_batches(*checkpointing, 0);
  CHECK(wal_bytes() < 1'000'000);
  CHECK(count_items(*checkpointing->acquire()) == 2'000);
  // Without: every batch adds to the WAL (this database's idle session keeps the file open).
  auto never = sql::open_sqlite_database({.path = path, .checkpoint_pages = 0});
  write_batches(*never, 1'000'000);
  CHECK(wal_bytes() > 2'000'000);
}

TEST_CASE("sql on SQLite: a process's writers take turns and none waits out its busy timeout") {
  realmkit::testing::temp_dir dir;
  // Each writer holds the lock for a while; SQLite's own busy handler, polling with growing
  // sleeps, would let some writer lose race after race past the 1.5 s timeout.
  auto db = sql::open_sqlite_database(
      {.path = dir.path() / "rm.db", .busy_timeout = 1500ms, .queue_timeout = 1500ms});
  db->acquire()->exec_script(kCreateItems);
  constexpr int kWriters = 8;
  constexpr int kCommits = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kCommits; ++i) {
        try {
          auto s = db->open_session();
          sql::transaction txn(*s);
          s->execute("INSERT INTO items (id, name) VALUES ($1, 'x')",
                     values{integer(w * 1'000 + i)});
          std::this_thread::sleep_for(4ms);
          txn.commit();
        } catch (const sql::error&) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  CHECK(failures == 0);
  CHECK(count_items(*db->acquire()) == kWriters * kCommits);
}

TEST_CASE("sql on SQLite: a writer queued behind a transaction that never ends fails transiently") {
  realmkit::testing::temp_dir dir;
  auto db = sql::open_sqlite_database(
      {.path = dir.path() / "rm.db", .busy_timeout = 200ms, .queue_timeout = 200ms});
  db->acquire()->exec_script(kCreateItems);
  auto holder = db->open_session();
  holder->begin();
  holder->execute("INSERT INTO items (id) VALUES (1)", {});
  auto waiter = db->open_session();
  const auto started = std::chrono::steady_clock::now();
  const auto e = sql_error_of([&] { waiter->begin(); });
  CHECK(e.transient());
  CHECK(std::chrono::steady_clock::now() - started >= 200ms);
  CHECK_FALSE(waiter->in_transaction());
  holder->rollback();
  // The turn is free again: the waiter writes now.
  waiter->begin();
  waiter->execute("INSERT INTO items (id) VALUES (2)", {});
  waiter->commit();
  CHECK(count_items(*waiter) == 1);
}

TEST_CASE("sql on SQLite: the pool lends at most max_sessions and keeps them open") {
  realmkit::testing::temp_dir dir;
  auto db = sql::open_sqlite_database(
      {.path = dir.path() / "rm.db", .max_sessions = 2, .acquire_timeout = 300ms});
  {
    auto first = db->acquire();
    first->exec_script("CREATE TEMP TABLE marker (x bigint)");
  }
  // The returned session is lent again: its temporary table is still there.
  {
    auto again = db->acquire();
    CHECK(again->query("SELECT count(*) FROM marker")[0].integer(0) == 0);
  }

  // Another thread holding both sessions: this one waits, then fails transiently.
  std::promise<void> held;
  std::promise<void> done;
  std::thread holder([&] {
    auto a = db->acquire();
    auto b = db->acquire();
    held.set_value();
    done.get_future().wait();
  });
  held.get_future().wait();
  const auto started = std::chrono::steady_clock::now();
  const auto e = sql_error_of([&] { db->acquire(); });
  CHECK(e.transient());
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);

  // A waiter is served as soon as a session comes back.
  std::future<std::int64_t> waited = std::async(std::launch::async, [&] {
    auto s = db->acquire();
    return s->query("SELECT 1")[0].integer(0);
  });
  done.set_value();
  holder.join();
  CHECK(waited.get() == 1);
}

TEST_CASE("sql on SQLite: a thread that holds a session gets another at once, even at the bound") {
  realmkit::testing::temp_dir dir;
  auto db = sql::open_sqlite_database(
      {.path = dir.path() / "rm.db", .max_sessions = 1, .acquire_timeout = 5s});
  const auto started = std::chrono::steady_clock::now();
  auto outer = db->acquire();
  auto inner = db->acquire();
  CHECK(inner->query("SELECT 1")[0].integer(0) == 1);
  CHECK(std::chrono::steady_clock::now() - started < 1s);
}

TEST_CASE("sql on SQLite: a file that cannot be opened fails at once") {
  CHECK_THROWS_AS(sql::open_sqlite_database({.path = "/nonexistent-dir/sub/rm.db"}), sql::error);
}

namespace {

// Waits (with a deadline) until the server process `pid` has exited, so its client finds its
// socket closed rather than racing the termination.
void wait_until_gone(sql::session& s, std::int64_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (s.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", values{integer(pid)})[0]
             .integer(0) != 0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::yield();
  }
}

}  // namespace

TEST_CASE("sql on PostgreSQL: a lost connection fails transiently and is not pooled") {
  auto env = postgres_backend::make_store_and_database();
  auto& db = *env.db;
  std::int64_t pid = 0;
  {
    auto s = db.acquire();
    pid = s->query("SELECT pg_backend_pid()")[0].integer(0);
    auto killer = db.acquire();
    CHECK(killer->query("SELECT pg_terminate_backend($1)", values{integer(pid)})[0].integer(0) ==
          1);
    wait_until_gone(*killer, pid);
    const auto e = sql_error_of([&] { s->query("SELECT 1"); });
    CHECK(e.transient());
    CHECK(std::string(e.what()).find("SELECT 1") != std::string::npos);
    // Every later call fails the same way, without touching the dead connection.
    CHECK(sql_error_of([&] { s->begin(); }).transient());
    CHECK_FALSE(s->in_transaction());
  }
  // Neither lease hands out the dead session again.
  for (int i = 0; i < 3; ++i) {
    auto s = db.acquire();
    CHECK(s->query("SELECT pg_backend_pid()")[0].integer(0) != pid);
  }
}

TEST_CASE("sql on PostgreSQL: an idle pooled session the server closed is replaced") {
  auto env = postgres_backend::make_store_and_database();
  auto& db = *env.db;
  std::int64_t pid = 0;
  { pid = db.acquire()->query("SELECT pg_backend_pid()")[0].integer(0); }
  {
    // Bypasses the pool, so the idle session stays idle while the server closes it.
    auto killer = db.open_session();
    killer->query("SELECT pg_terminate_backend($1)", values{integer(pid)});
    wait_until_gone(*killer, pid);
  }
  auto s = db.acquire();
  CHECK(s->query("SELECT 1")[0].integer(0) == 1);
}

TEST_CASE("sql on PostgreSQL: a serialization failure is transient") {
  auto env = postgres_backend::make_store_and_database();
  auto& db = *env.db;
  auto a = db.acquire();
  auto b = db.acquire();
  a->exec_script(kCreateItems);
  a->execute("INSERT INTO items (id, amount) VALUES (1, 0)");
  a->begin();
  a->exec_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  CHECK(a->query("SELECT amount FROM items WHERE id = 1")[0].integer(0) == 0);
  b->execute("UPDATE items SET amount = 1 WHERE id = 1");
  const auto e = sql_error_of([&] { a->execute("UPDATE items SET amount = 2 WHERE id = 1"); });
  CHECK_MESSAGE(e.transient(), std::string(e.what()));
  CHECK(std::string(e.what()).find("40001") != std::string::npos);
  a->rollback();
  CHECK(a->query("SELECT amount FROM items WHERE id = 1")[0].integer(0) == 1);
}

TEST_CASE("sql on PostgreSQL: bulk inserts and upserts travel as arrays, others one by one") {
  auto env = postgres_backend::make_store_and_database();
  auto s = env.db->acquire();
  s->exec_script(kCreateItems);
  std::vector<values> rows;
  for (std::int64_t i = 1; i <= 100; ++i) rows.push_back(values{integer(i), text("n")});
  s->execute_many("INSERT INTO items (id, name) VALUES ($1, $2)", rows);
  s->execute_many(
      "INSERT INTO items (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = 'u'",
      rows);
  CHECK(s->query("SELECT count(*) FROM items WHERE name = 'u'")[0].integer(0) == 100);
  s->execute_many("UPDATE items SET name = $2 WHERE id = $1", rows);
  CHECK(s->query("SELECT count(*) FROM items WHERE name = 'n'")[0].integer(0) == 100);
  const auto prepared = s->query(
      "SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%unnest(%' "
      "AND statement NOT LIKE '%pg_prepared_statements%' ORDER BY statement");
  REQUIRE(prepared.size() == 2);
  CHECK(prepared[0].text(0) ==
        "INSERT INTO items (id, name) SELECT rk_rows.p1, rk_rows.p2 FROM "
        "unnest($1::bigint[], $2::text[]) AS rk_rows(p1, p2)");
  CHECK(prepared[1].text(0) ==
        "INSERT INTO items (id, name) SELECT rk_rows.p1, rk_rows.p2 FROM "
        "unnest($1::bigint[], $2::text[]) AS rk_rows(p1, p2) ON CONFLICT (id) DO UPDATE SET "
        "name = 'u'");
}

TEST_CASE("sql on PostgreSQL: integer and boolean columns come back as integers, others as text") {
  auto env = postgres_backend::make_store_and_database();
  auto s = env.db->acquire();
  const auto r = s->query(
      "SELECT 1::smallint, 2::integer, 3::bigint, true, false, 4.50::numeric, sum(x), 'a'::text "
      "FROM (VALUES (1::bigint), (2)) v(x)")[0];
  CHECK(r[0] == integer(1));
  CHECK(r[1] == integer(2));
  CHECK(r[2] == integer(3));
  CHECK(r[3] == integer(1));
  CHECK(r[4] == integer(0));
  CHECK(r[5] == text("4.50"));
  CHECK(r[6] == text("3"));  // sum(bigint) is numeric
  CHECK(r.integer(6) == 3);
  CHECK(r[7] == text("a"));
}

TEST_CASE("sql on PostgreSQL: sessions live in the store's schema; a bad schema is refused") {
  auto env = postgres_backend::make_store_and_database();
  auto s = env.db->acquire();
  // The store's own tables are visible unqualified.
  CHECK(s->query("SELECT count(*) FROM events")[0].integer(0) == 0);
  CHECK_THROWS_AS(sql::open_postgres_database(
                      {.url = realmkit::testing::postgres_test_url(), .schema = "Bad\"Schema"}),
                  std::invalid_argument);
  const auto unreachable = sql_error_of([] {
    sql::open_postgres_database({.url = "postgresql://postgres@127.0.0.1:1/none",
                                 .connect_timeout = std::chrono::seconds(2)});
  });
  CHECK(unreachable.transient());
}
