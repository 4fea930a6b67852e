// /api/audit/… over HTTP on both backends: a stream's events with their metadata, the global feed
// with filters and cursors, what one request caused, an entity's state as of versions and times
// (equal to a fold of the raw events), its field changes, the board and forecast as of past times
// (equal to the live ones captured then), the board's changes between two times, and refusals.
#include <doctest/doctest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <set>

#include "domain/deal/deal_state.hpp"
#include "infra/event_codec.hpp"
#include "infra/event_metadata.hpp"
#include "infra/json/json_time.hpp"
#include "tests/api/crm/crm_fixture.hpp"
#include "tests/infra/store_backends.hpp"

using namespace realmkit;
using namespace realmkit::test::crm;
using testing::postgres_backend;
using testing::sqlite_backend;

namespace {

domain::timestamp now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// The current time, after which every later event is recorded strictly: a moment to ask about.
domain::timestamp moment() {
  const auto t = now();
  while (now() <= t) {
  }
  return t;
}

std::string text(domain::timestamp t) {
  return *infra::format_timestamp(t);
}

bool same_json(const rapidjson::Value& a, std::string_view b) {
  rapidjson::Document doc;
  doc.Parse(b.data(), b.size());
  return !doc.HasParseError() && a == doc;
}

// The deal's state folded from its stored events, as far as `keep` says.
template <class Keep>
std::string folded_deal(infra::event_store& store, const std::string& stream, Keep keep) {
  domain::deal_state state{};
  for (const auto& e : store.read_stream(stream)) {
    if (!keep(e)) break;
    state = domain::evolve(std::move(state), infra::decode_event<domain::deal_event>(e));
  }
  return infra::to_json(state);
}

std::vector<std::int64_t> positions_of(const reply& r) {
  std::vector<std::int64_t> out;
  for (const auto& e : r.json["items"].GetArray()) out.push_back(e["global_position"].GetInt64());
  return out;
}

std::string encoded(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == ':') {
      out += "%3A";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("audit history over HTTP: stream events, feed, changes, correlation, refusals",
                   B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto deal = f.make_deal(f.a.rep, "Anvils");
  const auto stream = "deal-" + deal;
  REQUIRE(f.call("POST", "/api/deals/" + deal + "/stage", f.a.rep,
                 R"({"stage_id":")" + f.stages[1] + R"("})")
              .status == 200);
  REQUIRE(f.call("POST", "/api/deals/" + deal + "/value", f.a.manager,
                 R"({"value":{"amount_minor":1250000,"currency":"EUR"}})")
              .status == 200);
  const auto other = f.make_deal(f.b.rep, "Rockets");

  // A stream's events, in order, with their metadata.
  auto r = f.call("GET", "/api/audit/streams/" + stream + "/events", f.a.auditor);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.str("kind") == "deal");
  CHECK(r.integer("version") == 3);
  const auto& items = r.json["items"];
  REQUIRE(items.Size() == 3);
  CHECK(std::string(items[0]["type"].GetString()) == "deal.created.v1");
  CHECK(std::string(items[1]["type"].GetString()) == "deal.stage_moved.v1");
  CHECK(std::string(items[0]["metadata"]["actor"].GetString()) == f.a.rep);
  CHECK(std::string(items[2]["metadata"]["actor"].GetString()) == f.a.manager);
  CHECK(items[2]["metadata"]["correlation_id"].IsString());
  CHECK(items[0]["recorded_at"].IsString());
  CHECK(r.json["next_cursor"].IsNull());
  // Paging a stream: one event a page, the cursor leads on without gaps.
  r = f.call("GET", "/api/audit/streams/" + stream + "/events?limit=2", f.admin);
  REQUIRE(r.status == 200);
  CHECK(r.json["items"].Size() == 2);
  r = f.call("GET",
             "/api/audit/streams/" + stream + "/events?limit=2&cursor=" + r.str("next_cursor"),
             f.admin);
  REQUIRE(r.json["items"].Size() == 1);
  CHECK(r.json["items"][0]["stream_version"].GetInt64() == 3);

  // Field changes: who changed the value from what to what.
  r = f.call("GET", "/api/audit/streams/" + stream + "/changes", f.a.auditor);
  REQUIRE(r.status == 200);
  REQUIRE(r.json["items"].Size() == 3);
  const auto& valued = r.json["items"][2];
  CHECK(std::string(valued["actor"].GetString()) == f.a.manager);
  bool value_seen = false;
  for (const auto& c : valued["changes"].GetArray()) {
    if (std::string(c["field"].GetString()) != "value") continue;
    value_seen = true;
    CHECK(c["from"]["amount_minor"].GetInt64() == 100000);
    CHECK(c["to"]["amount_minor"].GetInt64() == 1250000);
    CHECK(std::string(c["to"]["currency"].GetString()) == "EUR");
  }
  CHECK(value_seen);
  bool stage_seen = false;
  for (const auto& c : r.json["items"][1]["changes"].GetArray()) {
    if (std::string(c["field"].GetString()) != "stage_id") continue;
    stage_seen = true;
    CHECK(std::string(c["from"].GetString()) == f.stages[0]);
    CHECK(std::string(c["to"].GetString()) == f.stages[1]);
  }
  CHECK(stage_seen);

  // The global feed, filtered, a page at a time: exactly the stored events that match.
  std::vector<std::int64_t> expected, seen;
  for (const auto& e : f.store().read_all(0, 100'000)) {
    if (e.type.starts_with("deal.") && infra::decode_metadata(e.metadata).actor == f.a.rep) {
      expected.push_back(e.global_position);
    }
  }
  REQUIRE(expected.size() == 2);
  std::string target = "/api/audit/events?stream_prefix=deal-&actor=" + f.a.rep + "&limit=1";
  for (int pages = 0; pages < 10; ++pages) {
    r = f.call("GET", target, f.a.auditor);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    for (auto p : positions_of(r)) seen.push_back(p);
    if (r.json["next_cursor"].IsNull()) break;
    target = "/api/audit/events?stream_prefix=deal-&actor=" + f.a.rep +
             "&limit=1&cursor=" + r.str("next_cursor");
  }
  CHECK(seen == expected);
  r = f.call("GET", "/api/audit/events?type=deal.created", f.a.auditor);
  REQUIRE(r.json["items"].Size() == 2);
  CHECK(std::string(r.json["items"][1]["stream_id"].GetString()) == "deal-" + other);
  r = f.call("GET", "/api/audit/events?type=deal.created.v1&limit=1000", f.a.auditor);
  CHECK(r.json["items"].Size() == 2);

  // Everything one request caused: the events carrying its correlation id.
  const auto correlation =
      infra::decode_metadata(f.store().read_stream(stream).back().metadata).correlation_id;
  REQUIRE(!correlation.empty());
  r = f.call("GET", "/api/audit/correlations/" + correlation + "/events", f.a.auditor);
  REQUIRE(r.status == 200);
  REQUIRE(r.json["items"].Size() == 1);
  CHECK(r.json["items"][0]["stream_version"].GetInt64() == 3);

  // Refusals: no audit:view, an unknown stream, bad parameters. Nothing is written by any.
  const auto head = f.head();
  for (const auto& who : {f.a.rep, f.a.manager, f.a.analyst}) {
    r = f.call("GET", "/api/audit/streams/" + stream + "/events", who);
    check_problem(r, 403, "forbidden");
    r = f.call("GET", "/api/audit/events", who);
    check_problem(r, 403, "forbidden");
  }
  check_problem(f.call("GET", "/api/audit/streams/deal-nope/events", f.a.auditor), 404, "not-found",
                "stream_id");
  check_problem(f.call("GET", "/api/audit/streams/deal-nope/changes", f.a.auditor), 404,
                "not-found", "stream_id");
  check_problem(
      f.call("GET", "/api/audit/streams/" + stream + "/events?from_version=0", f.a.auditor), 422,
      "validation", "from_version");
  check_problem(f.call("GET", "/api/audit/streams/" + stream + "/events?cursor=junk", f.a.auditor),
                422, "validation", "cursor");
  check_problem(f.call("GET", "/api/audit/events?cursor=junk", f.a.auditor), 422, "validation",
                "cursor");
  check_problem(f.call("GET", "/api/audit/events?limit=0", f.a.auditor), 422, "validation",
                "limit");
  check_problem(f.call("GET", "/api/audit/events?colour=red", f.a.auditor), 422, "validation",
                "colour");
  check_problem(f.call("GET", "/api/audit/events?from=yesterday", f.a.auditor), 422, "validation",
                "from");
  CHECK(f.head() == head);
}

TEST_CASE_TEMPLATE(
    "audit time travel over HTTP: an entity's state as of each version and time "
    "equals a fold of its raw events",
    B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const auto before_all = moment();
  const auto deal = f.make_deal(f.a.rep, "Anvils");
  const auto stream = "deal-" + deal;
  std::vector<domain::timestamp> moments{moment()};
  REQUIRE(f.call("POST", "/api/deals/" + deal + "/stage", f.a.rep,
                 R"({"stage_id":")" + f.stages[1] + R"("})")
              .status == 200);
  moments.push_back(moment());
  REQUIRE(f.call("POST", "/api/deals/" + deal + "/value", f.a.rep,
                 R"({"value":{"amount_minor":1250000,"currency":"EUR"}})")
              .status == 200);
  REQUIRE(f.call("POST", "/api/deals/" + deal + "/stage", f.a.rep,
                 R"({"stage_id":")" + f.stages[2] + R"("})")
              .status == 200);
  moments.push_back(moment());
  REQUIRE(f.call("POST", "/api/deals/" + deal + "/win", f.a.rep).status == 200);
  moments.push_back(moment());

  const auto versions = f.store().stream_version(stream);
  REQUIRE(versions == 5);
  for (std::int64_t v = 1; v <= versions; ++v) {
    const auto r = f.call(
        "GET", "/api/audit/streams/" + stream + "/state?version=" + std::to_string(v), f.a.auditor);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.integer("version") == v);
    CHECK(r.integer("stream_version") == versions);
    CHECK(same_json(r.json["state"], folded_deal(f.store(), stream, [&](const auto& e) {
                      return e.stream_version <= v;
                    })));
  }
  for (const auto t : moments) {
    const auto r =
        f.call("GET", "/api/audit/streams/" + stream + "/state?as_of=" + text(t), f.admin);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(same_json(r.json["state"], folded_deal(f.store(), stream, [&](const auto& e) {
                      return e.recorded_at <= t;
                    })));
  }
  // Before the deal existed: its initial state, at version 0.
  auto r = f.call("GET", "/api/audit/streams/" + stream + "/state?as_of=" + text(before_all),
                  f.a.auditor);
  REQUIRE(r.status == 200);
  CHECK(r.integer("version") == 0);
  CHECK(r.json["exists"].IsFalse());

  // Bad input, each named.
  const auto base = "/api/audit/streams/" + stream + "/state";
  check_problem(f.call("GET", base + "?as_of=" + text(now() + std::chrono::hours(1)), f.a.auditor),
                422, "validation", "as_of");
  check_problem(f.call("GET", base + "?as_of=2026-13-01T00:00:00Z", f.a.auditor), 422, "validation",
                "as_of");
  check_problem(f.call("GET", base + "?as_of=tomorrow", f.a.auditor), 422, "validation", "as_of");
  check_problem(f.call("GET", base + "?version=0", f.a.auditor), 422, "validation", "version");
  check_problem(f.call("GET", base + "?version=6", f.a.auditor), 422, "validation", "version");
  check_problem(f.call("GET", base + "?version=2&as_of=" + text(moments[0]), f.a.auditor), 422,
                "validation", "version");
  check_problem(f.call("GET", "/api/audit/streams/deal-missing/state", f.a.auditor), 404,
                "not-found", "stream_id");
  check_problem(f.call("GET", base, f.a.rep), 403, "forbidden");
}

TEST_CASE_TEMPLATE(
    "audit board as of a past time equals the live board captured then; its "
    "changes between two times; the forecast then",
    B, sqlite_backend, postgres_backend) {
  crm_fixture f(B::make_store_and_database());
  const std::string live = "/api/pipelines/" + f.pipeline + "/board";
  const std::string past = "/api/audit/pipelines/" + f.pipeline + "/board";
  const std::string forecast = "/api/analytics/forecast?pipeline=" + f.pipeline;
  struct capture {
    domain::timestamp at;
    std::string board;
    std::string forecast_items;
  };
  std::vector<capture> captured;
  auto snapshot = [&] {
    const auto head = std::to_string(f.head());
    const auto board = f.call("GET", live + "?min_position=" + head, f.a.auditor);
    REQUIRE_MESSAGE(board.status == 200, board.body);
    const auto fc = f.call("GET", forecast + "&min_position=" + head, f.admin);
    REQUIRE_MESSAGE(fc.status == 200, fc.body);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    fc.json["items"].Accept(writer);
    captured.push_back({moment(), board.body, buffer.GetString()});
  };

  const auto d1 = f.make_deal(f.a.rep, "Anvils");
  const auto d2 = f.make_deal(f.a.rep2, "Rockets");
  REQUIRE(f.call("PATCH", "/api/deals/" + d1, f.a.rep, R"({"expected_close_date":"2027-01-15"})")
              .status == 200);
  snapshot();
  const auto d3 = f.make_deal(f.b.rep, "Magnets");
  REQUIRE(f.call("POST", "/api/deals/" + d1 + "/stage", f.a.rep,
                 R"({"stage_id":")" + f.stages[1] + R"("})")
              .status == 200);
  REQUIRE(f.call("POST", "/api/deals/" + d2 + "/value", f.a.rep2,
                 R"({"value":{"amount_minor":250000,"currency":"EUR"}})")
              .status == 200);
  snapshot();
  REQUIRE(f.call("POST", "/api/deals/" + d2 + "/win", f.a.rep2).status == 200);
  REQUIRE(f.call("POST", "/api/deals/" + d1 + "/stage", f.a.rep,
                 R"({"stage_id":")" + f.stages[2] + R"("})")
              .status == 200);
  REQUIRE(f.call("PATCH", "/api/deals/" + d3, f.b.rep, R"({"expected_close_date":"2027-02-01"})")
              .status == 200);
  snapshot();

  for (const auto& c : captured) {
    const auto r = f.call("GET", past + "?as_of=" + text(c.at), f.a.auditor);
    INFO(r.body);
    INFO(c.board);
    REQUIRE(r.status == 200);
    CHECK(same_json(r.json, c.board));
    const auto fc = f.call(
        "GET", "/api/audit/forecast?pipeline=" + f.pipeline + "&as_of=" + text(c.at), f.a.auditor);
    REQUIRE_MESSAGE(fc.status == 200, fc.body);
    CHECK(same_json(fc.json["items"], c.forecast_items));
  }
  // The same parameters as the live board: one stage, a page of it.
  auto r = f.call("GET", past + "?limit=1&stage=" + f.stages[0] + "&as_of=" + text(captured[0].at),
                  f.a.auditor);
  REQUIRE(r.status == 200);
  CHECK(r.json["stages"].Size() == 1);
  CHECK(r.json["stages"][0]["deals"].Size() == 1);
  CHECK(r.json["stages"][0]["next_cursor"].IsString());

  // What changed on the board between the first and the last moment.
  r = f.call("GET", past + "/changes?from=" + text(captured[0].at) + "&to=" + text(captured[2].at),
             f.a.auditor);
  INFO(r.body);
  REQUIRE(r.status == 200);
  REQUIRE(r.json["entered"].Size() == 1);
  CHECK(std::string(r.json["entered"][0]["id"].GetString()) == d3);
  REQUIRE(r.json["left"].Size() == 1);
  CHECK(std::string(r.json["left"][0]["id"].GetString()) == d2);
  CHECK(std::string(r.json["left"][0]["reason"].GetString()) == "won");
  REQUIRE(r.json["moved"].Size() == 1);
  CHECK(std::string(r.json["moved"][0]["id"].GetString()) == d1);
  CHECK(std::string(r.json["moved"][0]["from_stage_id"].GetString()) == f.stages[0]);
  CHECK(std::string(r.json["moved"][0]["to_stage_id"].GetString()) == f.stages[2]);
  CHECK(r.json["value_changed"].Size() == 0);  // d2 changed value, but left the board
  r = f.call("GET", past + "/changes?from=" + text(captured[0].at) + "&to=" + text(captured[1].at),
             f.a.auditor);
  REQUIRE(r.json["value_changed"].Size() == 1);
  CHECK(r.json["value_changed"][0]["from"]["amount_minor"].GetInt64() == 100000);
  CHECK(r.json["value_changed"][0]["to"]["amount_minor"].GetInt64() == 250000);

  // Refusals, each naming its field; none writes an event.
  const auto head = f.head();
  check_problem(f.call("GET", past + "?as_of=" + text(captured[0].at), f.a.rep), 403, "forbidden");
  check_problem(f.call("GET", past, f.a.auditor), 422, "validation", "as_of");
  check_problem(f.call("GET", past + "?as_of=" + text(now() + std::chrono::hours(24)), f.a.auditor),
                422, "validation", "as_of");
  check_problem(f.call("GET", past + "?as_of=2026-11-27", f.a.auditor), 422, "validation", "as_of");
  check_problem(
      f.call("GET", past + "/changes?from=" + text(captured[2].at) + "&to=" + text(captured[0].at),
             f.a.auditor),
      422, "validation", "from");
  check_problem(
      f.call("GET", "/api/audit/forecast?as_of=" + encoded("2026-11-27T25:00:00Z"), f.a.auditor),
      422, "validation", "as_of");
  check_problem(
      f.call("GET", "/api/audit/pipelines/nope/board?as_of=" + text(captured[0].at), f.a.auditor),
      404, "not-found");
  CHECK(f.head() == head);
}
