// The event envelope: exact round trips and refusals of malformed input, naming the member.
#include <doctest/doctest.h>

#include <string>

#include "infra/event_envelope.hpp"

using namespace realmkit;
using infra::decode_envelope;
using infra::encode_envelope;
using infra::envelope_error;

namespace {

infra::recorded_event sample_event() {
  infra::recorded_event e;
  e.event_id = "0193a1f2-7c1e-7000-8000-000000000001";
  e.stream_id = "deal-0193a1e0";
  e.stream_version = 4;
  e.global_position = 1817;
  e.type = "deal.stage_moved.v1";
  e.schema_version = 1;
  e.recorded_at = infra::timestamp(std::chrono::microseconds(1'795'780'800'031'234));
  e.data = R"({"deal_id":"0193a1e0","to_stage_id":"s2","nested":{"list":[1,2.5,{"x":null}]}})";
  e.metadata = R"({"actor":"u1","correlation_id":"req-7f3a","causation_id":null})";
  return e;
}

void check_same(const infra::recorded_event& a, const infra::recorded_event& b) {
  CHECK(a.event_id == b.event_id);
  CHECK(a.stream_id == b.stream_id);
  CHECK(a.stream_version == b.stream_version);
  CHECK(a.global_position == b.global_position);
  CHECK(a.type == b.type);
  CHECK(a.schema_version == b.schema_version);
  CHECK(a.recorded_at == b.recorded_at);
  CHECK(a.data == b.data);
  CHECK(a.metadata == b.metadata);
}

// The field an envelope is refused for ("" for the document as a whole).
std::string refused_field(std::string_view text) {
  try {
    decode_envelope(text);
  } catch (const envelope_error& e) {
    return e.field();
  }
  return "<accepted>";
}

// The sample's envelope text with one member's JSON value replaced.
std::string with(std::string_view member, std::string_view value) {
  const std::pair<std::string_view, std::string_view> members[] = {
      {"event_id", R"("e1")"},
      {"stream_id", R"("deal-1")"},
      {"stream_version", "4"},
      {"global_position", "1817"},
      {"type", R"("deal.stage_moved.v1")"},
      {"schema_version", "1"},
      {"recorded_at", R"("2026-11-27T12:00:00.031234Z")"},
      {"data", R"({"a":[1,{"b":2}]})"},
      {"metadata", R"({"actor":"u1"})"},
  };
  std::string text = "{";
  for (const auto& [name, raw] : members) {
    if (text.size() > 1) text += ',';
    text += '"' + std::string(name) + "\":";
    text += name == member ? value : raw;
  }
  return text + "}";
}

}  // namespace

TEST_SUITE("envelope") {
  TEST_CASE("envelope pins the wire format of ARCHITECTURE 5, members in order") {
    CHECK(
        encode_envelope(sample_event()) ==
        R"({"event_id":"0193a1f2-7c1e-7000-8000-000000000001","stream_id":"deal-0193a1e0",)"
        R"("stream_version":4,"global_position":1817,"type":"deal.stage_moved.v1",)"
        R"("schema_version":1,"recorded_at":"2026-11-27T12:00:00.031234Z",)"
        R"("data":{"deal_id":"0193a1e0","to_stage_id":"s2","nested":{"list":[1,2.5,{"x":null}]}},)"
        R"("metadata":{"actor":"u1","correlation_id":"req-7f3a","causation_id":null}})");
  }

  TEST_CASE("envelope round trip keeps every field and the data bytes exactly") {
    auto e = sample_event();
    check_same(decode_envelope(encode_envelope(e)), e);

    // Whitespace and key order inside data are the stored bytes: kept as they are.
    e.data = "{ \"b\" : 1 ,\n\t\"a\": [ ] , \"s\":\"}\\\"{\" }";
    e.metadata = "{}";
    check_same(decode_envelope(encode_envelope(e)), e);
  }

  TEST_CASE("envelope round trip of unicode, escapes and large numbers") {
    auto e = sample_event();
    e.event_id = "évent-ü-😀";
    e.stream_id = "contact-名前\"quoted\"\\back\nline\t\x01";
    e.type = "contact.renamed.v12";
    e.schema_version = 12;
    e.stream_version = 9'007'199'254'740'993;  // beyond double precision
    e.global_position = 9'223'372'036'854'775'807;
    e.recorded_at = infra::timestamp(std::chrono::microseconds(0));
    e.data = R"({"name":"Zoë 😀 \u00e9","deep":{"a":{"b":{"c":[[[]]]}}},"n":-0.5e-3})";
    e.metadata = R"({"ip":"203.0.113.7","actor":"\u0000x"})";
    const auto text = encode_envelope(e);
    CHECK(text.find("😀") != std::string::npos);  // written as UTF-8, not escaped
    check_same(decode_envelope(text), e);
  }

  TEST_CASE("envelope decoding ignores unknown members and accepts any member order") {
    const auto text =
        R"({"future":{"x":[1,{"y":2}]},"metadata":{},"data":{"k":"v"},"recorded_at":)"
        R"("2026-11-27T13:00:00+01:00","schema_version":2,"type":"deal.created.v2",)"
        R"("global_position":7,"stream_version":1,"stream_id":"deal-1","event_id":"e1","z":9e99})";
    const auto e = decode_envelope(text);
    CHECK(e.event_id == "e1");
    CHECK(e.stream_id == "deal-1");
    CHECK(e.global_position == 7);
    CHECK(e.schema_version == 2);
    CHECK(e.data == R"({"k":"v"})");
    CHECK(e.metadata == "{}");
    CHECK(e.recorded_at == infra::timestamp(std::chrono::microseconds(1'795'780'800'000'000)));
  }

  TEST_CASE("envelope refuses text that is not one JSON object") {
    CHECK(refused_field("") == "");
    CHECK(refused_field("nonsense") == "");
    CHECK(refused_field("[1,2]") == "");
    CHECK(refused_field("\"text\"") == "");
    CHECK(refused_field("42") == "");
    CHECK(refused_field("null") == "");
    const auto good = encode_envelope(sample_event());
    CHECK(refused_field(good + " {}") == "");                     // trailing document
    CHECK(refused_field(good.substr(0, good.size() - 1)) == "");  // cut short
    CHECK(refused_field(with("type", "\"\xff\xfe\"")) == "");     // invalid UTF-8
    CHECK_THROWS_WITH_AS(decode_envelope("{"), doctest::Contains("invalid JSON at offset 1"),
                         envelope_error);
  }

  TEST_CASE("envelope refuses a missing, duplicated or mistyped member, naming it") {
    for (const char* member : {"event_id", "stream_id", "stream_version", "global_position", "type",
                               "schema_version", "recorded_at", "data", "metadata"}) {
      CAPTURE(member);
      auto text = encode_envelope(sample_event());
      const auto key = "\"" + std::string(member) + "\":";
      text.replace(text.find(key), key.size(), "\"renamed_" + std::string(member) + "\":");
      CHECK(refused_field(text) == member);
    }
    CHECK_THROWS_WITH_AS(decode_envelope(R"({"event_id":"a","event_id":"b"})"),
                         "event envelope: event_id: appears twice", envelope_error);

    CHECK(refused_field(with("", "")) == "<accepted>");
    CHECK(refused_field(with("event_id", "7")) == "event_id");
    CHECK(refused_field(with("event_id", "\"\"")) == "event_id");
    CHECK(refused_field(with("stream_id", "null")) == "stream_id");
    CHECK(refused_field(with("type", "{}")) == "type");
    CHECK(refused_field(with("stream_version", "\"4\"")) == "stream_version");
    CHECK(refused_field(with("stream_version", "0")) == "stream_version");
    CHECK(refused_field(with("stream_version", "4.5")) == "stream_version");
    CHECK(refused_field(with("global_position", "-1")) == "global_position");
    CHECK(refused_field(with("global_position", "18446744073709551615")) == "global_position");
    CHECK(refused_field(with("schema_version", "true")) == "schema_version");
    CHECK(refused_field(with("schema_version", "4294967296")) == "schema_version");
    CHECK(refused_field(with("recorded_at", "\"yesterday\"")) == "recorded_at");
    CHECK(refused_field(with("recorded_at", "1795780800")) == "recorded_at");
    CHECK(refused_field(with("data", "\"{}\"")) == "data");
    CHECK(refused_field(with("data", "[1]")) == "data");
    CHECK(refused_field(with("metadata", "null")) == "metadata");
    CHECK_THROWS_WITH_AS(decode_envelope(with("recorded_at", "\"2026-13-01T00:00:00Z\"")),
                         "event envelope: recorded_at: is not an RFC 3339 date-time",
                         envelope_error);
  }

  TEST_CASE("envelope encoding refuses data or metadata that is not an object text") {
    auto e = sample_event();
    e.data = "";
    CHECK_THROWS_WITH_AS(encode_envelope(e), "event envelope: data: is not a JSON object",
                         envelope_error);
    e = sample_event();
    e.metadata = "[]";
    CHECK_THROWS_WITH_AS(encode_envelope(e), "event envelope: metadata: is not a JSON object",
                         envelope_error);
  }
}
