// `realmkit replay` and `realmkit export` through the binary on both backends: the state printed
// equals a fold of the stored events at each version and time; an export stopped anywhere and
// resumed from its last line's position gives the same lines, none twice, none missing.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>

#include "app/private_log.hpp"
#include "domain/deal/deal_state.hpp"
#include "infra/event_codec.hpp"
#include "infra/event_envelope.hpp"
#include "infra/json/json_time.hpp"
#include "tests/app/binary_runner.hpp"

using namespace realmkit;
using testing::postgres_cli_backend;
using testing::run_realmkit;
using testing::sqlite_cli_backend;
using testing::with_flags;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool same_json(const rapidjson::Value& a, const std::string& b) {
  rapidjson::Document doc;
  doc.Parse(b.c_str());
  return !doc.HasParseError() && a == doc;
}

}  // namespace

TEST_CASE_TEMPLATE("replay prints an entity's state as of a version or a time, or its events", B,
                   sqlite_cli_backend, postgres_cli_backend) {
  B backend;
  const auto seeded =
      run_realmkit(with_flags(backend, {"demo"}, {"--password", "a long enough pass phrase"}));
  REQUIRE_MESSAGE(seeded.status == 0, seeded.err);
  auto store = infra::open_event_store(backend.config());
  // The demo's deal with the longest history.
  std::map<std::string, int> lengths;
  for (const auto& e : store->read_all(0, 100'000)) {
    if (e.stream_id.starts_with("deal-")) ++lengths[e.stream_id];
  }
  const auto longest =
      std::max_element(lengths.begin(), lengths.end(),
                       [](const auto& a, const auto& b) { return a.second < b.second; });
  REQUIRE(longest != lengths.end());
  const auto stream = longest->first;
  const auto events = store->read_stream(stream);
  REQUIRE(events.size() >= 2);

  domain::deal_state state{};
  for (const auto& e : events) {
    state = domain::evolve(std::move(state), infra::decode_event<domain::deal_event>(e));
    const auto version = std::to_string(e.stream_version);
    auto r =
        run_realmkit(with_flags(backend, {"replay"}, {"--stream", stream, "--version", version}));
    REQUIRE_MESSAGE(r.status == 0, r.err);
    rapidjson::Document doc;
    doc.Parse(r.out.c_str());
    REQUIRE_MESSAGE(doc.IsObject(), r.out);
    CHECK(doc["version"].GetInt64() == e.stream_version);
    CHECK(doc["position"].GetInt64() == e.global_position);
    CHECK(same_json(doc["state"], infra::to_json(state)));

    const auto at = *infra::format_timestamp(e.recorded_at);
    r = run_realmkit(with_flags(backend, {"replay"}, {"--stream", stream, "--as-of", at}));
    REQUIRE_MESSAGE(r.status == 0, r.err);
    doc.Parse(r.out.c_str());
    // Events of one append share their time: the state at it includes all of them.
    domain::deal_state then{};
    for (const auto& x : events) {
      if (x.recorded_at > e.recorded_at) break;
      then = domain::evolve(std::move(then), infra::decode_event<domain::deal_event>(x));
    }
    CHECK(same_json(doc["state"], infra::to_json(then)));
  }

  // --events: the stored envelopes, one a line, up to the bound.
  auto r = run_realmkit(
      with_flags(backend, {"replay"}, {"--stream", stream, "--events", "--version", "2"}));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const auto printed = lines_of(r.out);
  REQUIRE(printed.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) CHECK(printed[i] == infra::encode_envelope(events[i]));

  // The whole log.
  r = run_realmkit(with_flags(backend, {"replay"}, {"--all"}));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  rapidjson::Document summary;
  summary.Parse(r.out.c_str());
  REQUIRE(summary.IsObject());
  CHECK(summary["events"].GetInt64() == store->head_position());

  // Bad input: named, nothing written.
  const auto head = store->head_position();
  const auto future =
      *infra::format_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now() + std::chrono::hours(1)));
  for (const auto& [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--stream", "deal-missing"}, "no event is stored in stream deal-missing"},
           {{"--stream", stream, "--as-of", future}, "--as-of is in the future"},
           {{"--stream", stream, "--as-of", "yesterday"}, "--as-of must be an RFC 3339"},
           {{"--stream", stream, "--version", "999"}, "--version must be from 1 to"},
           {{"--stream", stream, "--version", "1", "--as-of", "2026-01-01T00:00:00Z"}, "not both"},
           {{}, "give --stream or --all"}}) {
    r = run_realmkit(with_flags(backend, {"replay"}, args));
    CHECK(r.status == 1);
    CHECK_MESSAGE(r.err.find(message) != std::string::npos, r.err);
  }
  CHECK(store->head_position() == head);
}

TEST_CASE_TEMPLATE("export writes the log as NDJSON and resumes after any position", B,
                   sqlite_cli_backend, postgres_cli_backend) {
  B backend;
  const auto seeded =
      run_realmkit(with_flags(backend, {"demo"}, {"--password", "a long enough pass phrase"}));
  REQUIRE_MESSAGE(seeded.status == 0, seeded.err);
  auto raw = infra::open_event_store(backend.config());
  // The export is the log as the CRM reads it: personal fields opened (stored, they are sealed).
  app::private_log log(*raw, backend.config());
  auto* store = &log.store();
  const auto head = store->head_position();
  REQUIRE(head > 20);

  const auto full = run_realmkit(with_flags(backend, {"export"}));
  REQUIRE_MESSAGE(full.status == 0, full.err);
  const auto lines = lines_of(full.out);
  REQUIRE(lines.size() == static_cast<std::size_t>(head));
  const auto stored = store->read_all(0, 100'000);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // Each line is the stored event, carrying its position.
    CHECK(lines[i] == infra::encode_envelope(stored[i]));
    CHECK(infra::decode_envelope(lines[i]).global_position == static_cast<std::int64_t>(i + 1));
  }
  CHECK(full.out.find("\"first_name\":\"Wile\"") != std::string::npos);
  for (const auto& e : raw->read_all(0, 100'000)) CHECK(e.data.find("Wile") == std::string::npos);

  // Stopped after any line, resumed from that line's position: the same lines, no duplicate, no
  // gap.
  for (const std::size_t stop :
       {std::size_t{1}, lines.size() / 3, lines.size() - 1, lines.size()}) {
    const auto last = infra::decode_envelope(lines[stop - 1]).global_position;
    const auto rest =
        run_realmkit(with_flags(backend, {"export"}, {"--after-position", std::to_string(last)}));
    REQUIRE_MESSAGE(rest.status == 0, rest.err);
    std::vector<std::string> joined(lines.begin(), lines.begin() + static_cast<long>(stop));
    for (auto& l : lines_of(rest.out)) joined.push_back(std::move(l));
    CHECK(joined == lines);
  }

  // A time range: the events recorded within it, and only those.
  const auto& middle = stored[stored.size() / 2];
  const auto to = *infra::format_timestamp(middle.recorded_at);
  const auto until = run_realmkit(with_flags(backend, {"export"}, {"--to", to}));
  REQUIRE_MESSAGE(until.status == 0, until.err);
  std::size_t expected = 0;
  for (const auto& e : stored) expected += e.recorded_at <= middle.recorded_at ? 1 : 0;
  CHECK(lines_of(until.out).size() == expected);
  const auto since = run_realmkit(with_flags(backend, {"export"}, {"--from", to}));
  REQUIRE_MESSAGE(since.status == 0, since.err);
  std::size_t later = 0;
  for (const auto& e : stored) later += e.recorded_at >= middle.recorded_at ? 1 : 0;
  CHECK(lines_of(since.out).size() == later);

  const auto bad = run_realmkit(with_flags(backend, {"export"}, {"--from", "soon"}));
  CHECK(bad.status == 1);
  CHECK(bad.err.find("--from must be an RFC 3339") != std::string::npos);
  CHECK(store->head_position() == head);
}
