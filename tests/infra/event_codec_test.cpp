// The event codec: round trips, the pinned wire format, upcasting, and refusals of corrupt data.
#include "infra/event_codec.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <set>

#include "domain/activity/activity_state.hpp"
#include "domain/company/company_state.hpp"
#include "domain/contact/contact_state.hpp"
#include "domain/deal/deal_state.hpp"
#include "domain/lead/lead_state.hpp"
#include "domain/pipeline/pipeline_state.hpp"
#include "domain/task/task_state.hpp"
#include "domain/team/team_state.hpp"
#include "domain/user/user_state.hpp"
#include "infra/event_metadata.hpp"
#include "infra/json/json_time.hpp"
#include "tests/support/describe_print.hpp"

using namespace realmkit;
using namespace std::chrono;
using infra::corrupt_event;
using infra::json_error;

namespace sample {

enum class priority { low, high };

std::string_view to_string(priority p) {
  return p == priority::high ? "high" : "low";
}
bool from_string(std::string_view s, priority& p) {
  if (s == "low") {
    p = priority::low;
  } else if (s == "high") {
    p = priority::high;
  } else {
    return false;
  }
  return true;
}

struct address {
  std::string city;
  std::optional<std::string> zip;

  bool operator==(const address&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("city", self.city);
    v("zip", self.zip);
  }
};

// One field of every supported kind.
struct everything_happened {
  static constexpr std::string_view kType = "sample.everything_happened.v1";
  std::string text;
  bool flag = false;
  int small = 0;
  std::int64_t big = 0;
  std::int16_t tiny = 0;
  std::uint32_t count = 0;
  std::uint64_t huge = 0;
  domain::deal_id deal;
  domain::money value;
  domain::timestamp at{};
  domain::date due{};
  priority level = priority::low;
  std::optional<std::string> note;
  std::optional<domain::money> budget;
  std::optional<domain::timestamp> closed_at;
  std::vector<std::string> tags;
  std::vector<address> addresses;
  std::set<std::string> labels;
  std::map<std::string, std::int64_t> counters;
  address home;

  bool operator==(const everything_happened&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("text", self.text);
    v("flag", self.flag);
    v("small", self.small);
    v("big", self.big);
    v("tiny", self.tiny);
    v("count", self.count);
    v("huge", self.huge);
    v("deal_id", self.deal);
    v("value", self.value);
    v("at", self.at);
    v("due", self.due);
    v("level", self.level);
    v("note", self.note);
    v("budget", self.budget);
    v("closed_at", self.closed_at);
    v("tags", self.tags);
    v("addresses", self.addresses);
    v("labels", self.labels);
    v("counters", self.counters);
    v("home", self.home);
  }
};

struct nothing_happened {
  static constexpr std::string_view kType = "sample.nothing_happened.v1";
  bool operator==(const nothing_happened&) const = default;
  template <class Self, class V>
  static void describe(Self&, V&) {}
};

using sample_event = std::variant<everything_happened, nothing_happened>;

// The newest form of an event whose schema changed twice: v1 had "name", v2 added "source",
// v3 renamed "name" to "title".
struct renamed {
  static constexpr std::string_view kType = "sample.renamed.v3";
  std::string title;
  std::string source;

  bool operator==(const renamed&) const = default;
  template <class Self, class V>
  static void describe(Self& self, V& v) {
    v("title", self.title);
    v("source", self.source);
  }
};
using renamed_event = std::variant<renamed>;

}  // namespace sample

namespace {

domain::timestamp at(int y, unsigned m, unsigned d, int hh, int mm, int ss, int us = 0) {
  return domain::timestamp{sys_days{year{y} / month{m} / day{d}}} + hours{hh} + minutes{mm} +
         seconds{ss} + microseconds{us};
}

sample::everything_happened full_sample() {
  sample::everything_happened e;
  e.text = "Größe \"quoted\" \\ and \n newline";
  e.flag = true;
  e.small = -42;
  e.big = std::numeric_limits<std::int64_t>::min();
  e.tiny = 32767;
  e.count = 4'000'000'000U;
  e.huge = std::numeric_limits<std::uint64_t>::max();
  e.deal = domain::deal_id{"deal-1"};
  e.value = {123'456, "EUR"};
  e.at = at(2026, 11, 27, 12, 0, 0, 1);
  e.due = sys_days{2026y / 12 / 31};
  e.level = sample::priority::high;
  e.note = "a note";
  e.budget = domain::money{500, "JPY"};
  e.closed_at = at(1969, 7, 20, 20, 17, 40, 999'999);
  e.tags = {"vip", "", "b"};
  e.addresses = {{"Berlin", "10115"}, {"Oslo", std::nullopt}};
  e.labels = {"x", "a"};
  e.counters = {{"calls", 3}, {"mails", -1}};
  e.home = {"Paris", std::nullopt};
  return e;
}

infra::recorded_event recorded(std::string type, std::string data, int schema_version = 0) {
  infra::recorded_event e;
  e.event_id = "ev-1";
  e.stream_id = "sample-7";
  e.stream_version = 3;
  e.global_position = 41;
  e.schema_version = schema_version ? schema_version : infra::schema_version_of(type);
  e.type = std::move(type);
  e.data = std::move(data);
  e.metadata = "{}";
  return e;
}

infra::recorded_event as_recorded(const infra::new_event& e) {
  auto r = recorded(e.type, e.data, e.schema_version);
  r.event_id = e.event_id;
  r.metadata = e.metadata;
  return r;
}

template <class Variant>
Variant round_trip(const Variant& event) {
  return infra::decode_event<Variant>(as_recorded(infra::encode_event(event, "ev-1", "")));
}

// The data of a valid everything_happened with one member replaced (or removed when value is
// empty), so each refusal test changes exactly one thing.
std::string sample_with(std::string_view member, std::string_view value) {
  rapidjson::Document d;
  const std::string text = infra::to_json(full_sample());
  d.Parse(text.c_str());
  REQUIRE(d.HasMember(member.data()));
  if (value.empty()) {
    d.RemoveMember(member.data());
  } else {
    rapidjson::Document v(&d.GetAllocator());
    v.Parse(value.data(), value.size());
    REQUIRE_MESSAGE(!v.HasParseError(), value);
    d[member.data()] = rapidjson::Value(v, d.GetAllocator());
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  d.Accept(writer);
  return buffer.GetString();
}

// The corrupt_event message of decoding `data` as an everything_happened.
std::string decode_error(std::string data) {
  try {
    infra::decode_event<sample::sample_event>(
        recorded(std::string(sample::everything_happened::kType), std::move(data)));
  } catch (const corrupt_event& error) {
    return error.what();
  }
  FAIL("decoding succeeded");
  return {};
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string rename_member(std::string_view data, const char* from, const char* to,
                          const char* add_name = nullptr, const char* add_value = nullptr) {
  rapidjson::Document d;
  d.Parse(data.data(), data.size());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("not a JSON object");
  if (!d.HasMember(from)) throw std::runtime_error(std::string("no member ") + from);
  rapidjson::Value value(d[from], d.GetAllocator());
  d.RemoveMember(from);
  d.AddMember(rapidjson::Value(to, d.GetAllocator()), value, d.GetAllocator());
  if (add_name) {
    d.AddMember(rapidjson::Value(add_name, d.GetAllocator()),
                rapidjson::Value(add_value, d.GetAllocator()), d.GetAllocator());
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  d.Accept(writer);
  return buffer.GetString();
}

// Registered once per process: registrations are global and refuse duplicates.
void register_sample_upcasters() {
  static const bool registered = [] {
    infra::register_upcaster("sample.renamed.v1", "sample.renamed.v2", [](std::string_view data) {
      return rename_member(data, "name", "name", "source", "v1 import");
    });
    infra::register_upcaster("sample.renamed.v2", "sample.renamed.v3", [](std::string_view data) {
      return rename_member(data, "name", "title");
    });
    return true;
  }();
  (void)registered;
}

// Gives every field reached through describe() a distinct non-default value, so a round trip
// of any event proves each field has its own wire name and comes back intact.
struct filler {
  int next = 1;

  template <class T>
  void fill(T& value) {
    using namespace infra::detail;
    const int n = next++;
    if constexpr (std::is_same_v<T, bool>) {
      value = true;
    } else if constexpr (wire_integer<T>) {
      value = static_cast<T>(n % 100 + 1);
    } else if constexpr (std::is_same_v<T, std::string>) {
      value = "s" + std::to_string(n) + " é";
    } else if constexpr (is_id<T>::value) {
      value.value = "id-" + std::to_string(n);
    } else if constexpr (std::is_same_v<T, domain::money>) {
      value = {n * 100, "EUR"};
    } else if constexpr (std::is_same_v<T, domain::timestamp>) {
      value = at(2026, 1, 1, 0, 0, 0) + days{n} + microseconds{n};
    } else if constexpr (std::is_same_v<T, domain::date>) {
      value = sys_days{2026y / 1 / 1} + days{n};
    } else if constexpr (is_optional<T>::value) {
      value.emplace();
      fill(*value);
    } else if constexpr (is_vector<T>::value || is_set<T>::value) {
      for (int i = 0; i < 2; ++i) {
        typename T::value_type element{};
        fill(element);
        value.insert(value.end(), std::move(element));
      }
    } else if constexpr (is_string_map<T>::value) {
      for (int i = 0; i < 2; ++i) fill(value["k" + std::to_string(n) + "_" + std::to_string(i)]);
    } else if constexpr (named_enum<T>) {
      // The second enumerator when there is one: the first equals the default.
      const auto candidate = static_cast<T>(1);
      T back{};
      if (from_string(to_string(candidate), back) && back == candidate) value = candidate;
    } else if constexpr (describable<T>) {
      std::set<std::string_view> names;
      member_filler members{*this, names};
      T::describe(value, members);
    } else {
      static_assert(kUnsupported<T>, "filler: unknown field type");
    }
  }

  struct member_filler {
    filler& parent;
    std::set<std::string_view>& names;
    template <class U>
    void operator()(std::string_view name, U& value) {
      CAPTURE(name);
      CHECK_MESSAGE(names.insert(name).second, "wire name used twice");
      CHECK_MESSAGE(infra::detail::is_name_segment(name), "wire names are snake_case");
      parent.fill(value);
    }
  };
};

// Every event of the aggregate, filled, survives encode and decode; its type name belongs to
// the aggregate's category.
template <class Aggregate>
void check_every_event_round_trips() {
  using event = typename Aggregate::event;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          std::variant_alternative_t<I, event> alternative{};
          filler{}.fill(alternative);
          const event original{alternative};
          CAPTURE(testing::to_debug_string(original));
          CHECK(infra::event_kind(infra::event_type(original))
                    .starts_with(std::string(Aggregate::kCategory) + "."));
          CHECK(round_trip(original) == original);
          CHECK(round_trip(event{std::variant_alternative_t<I, event>{}}) ==
                event{std::variant_alternative_t<I, event>{}});
        }(),
        ...);
  }
  (std::make_index_sequence<std::variant_size_v<event>>{});
}

}  // namespace

TEST_SUITE("event codec") {
  TEST_CASE("type names follow <aggregate>.<past_tense>.v<N>") {
    CHECK(infra::schema_version_of("deal.stage_moved.v1") == 1);
    CHECK(infra::schema_version_of("deal.created.v12") == 12);
    CHECK(infra::event_kind("deal.stage_moved.v1") == "deal.stage_moved");
    for (std::string_view bad :
         {"deal.created", "deal.created.v0", "deal.created.v01", "Deal.created.v1", "deal..v1",
          ".created.v1", "deal.created.1", "deal.created.vx", "deal.stage-moved.v1",
          "deal.created.v1.x", "", "deal.created.v99999999"}) {
      CAPTURE(bad);
      CHECK_FALSE(infra::is_valid_event_type(bad));
    }
    static_assert(infra::schema_version_of(sample::renamed::kType) == 3);
  }

  TEST_CASE("every field kind survives a round trip") {
    const sample::sample_event event = full_sample();
    CHECK(round_trip(event) == event);

    sample::everything_happened empty;
    empty.value.currency = "EUR";
    CHECK(round_trip(sample::sample_event{empty}) == sample::sample_event{empty});
    CHECK(round_trip(sample::sample_event{sample::nothing_happened{}}) ==
          sample::sample_event{sample::nothing_happened{}});
  }

  TEST_CASE("the wire format of an event is pinned") {
    CHECK(infra::to_json(full_sample()) ==
          R"({"text":"Größe \"quoted\" \\ and \n newline","flag":true,"small":-42,)"
          R"("big":-9223372036854775808,"tiny":32767,"count":4000000000,)"
          R"("huge":18446744073709551615,"deal_id":"deal-1",)"
          R"("value":{"amount_minor":123456,"currency":"EUR"},)"
          R"("at":"2026-11-27T12:00:00.000001Z","due":"2026-12-31","level":"high",)"
          R"("note":"a note","budget":{"amount_minor":500,"currency":"JPY"},)"
          R"("closed_at":"1969-07-20T20:17:40.999999Z","tags":["vip","","b"],)"
          R"("addresses":[{"city":"Berlin","zip":"10115"},{"city":"Oslo","zip":null}],)"
          R"("labels":["a","x"],"counters":{"calls":3,"mails":-1},)"
          R"("home":{"city":"Paris","zip":null}})");
  }

  TEST_CASE("encode_event fills the envelope") {
    const sample::sample_event event = sample::nothing_happened{};
    const auto e = infra::encode_event(event, "ev-9", R"({"actor":"u1"})");
    CHECK(e.event_id == "ev-9");
    CHECK(e.type == "sample.nothing_happened.v1");
    CHECK(e.schema_version == 1);
    CHECK(e.data == "{}");
    CHECK(e.metadata == R"({"actor":"u1"})");
    CHECK(infra::encode_event(event, "ev-9", "").metadata == "{}");
    CHECK(infra::event_type(event) == "sample.nothing_happened.v1");
    CHECK(infra::event_type(sample::everything_happened{}) == "sample.everything_happened.v1");
  }

  TEST_CASE("pipeline events round trip, and their wire format is pinned") {
    const domain::pipeline_id p{"p1"};
    const domain::pipeline_stage lead{domain::stage_id{"s1"}, "Lead", 10};
    const std::vector<domain::pipeline_event> events{
        domain::pipeline_created{p, "Sales", {lead, {domain::stage_id{"s2"}, "Won", 100}}},
        domain::pipeline_renamed{p, "Sales EU"},
        domain::pipeline_stage_added{p, {domain::stage_id{"s3"}, "Lost", 0}, 1},
        domain::pipeline_stage_renamed{p, domain::stage_id{"s1"}, "Lead in"},
        domain::pipeline_stage_probability_changed{p, domain::stage_id{"s1"}, 20},
        domain::pipeline_stages_reordered{
            p, {domain::stage_id{"s3"}, domain::stage_id{"s1"}, domain::stage_id{"s2"}}},
        domain::pipeline_stage_removed{p, domain::stage_id{"s3"}},
        domain::pipeline_archived{p},
    };
    std::set<std::string_view> types;
    for (const auto& event : events) {
      CAPTURE(testing::to_debug_string(event));
      CHECK(round_trip(event) == event);
      types.insert(infra::event_type(event));
    }
    CHECK(types.size() == std::variant_size_v<domain::pipeline_event>);

    const auto e = infra::encode_event(events[0], "ev-1", "");
    CHECK(e.type == "pipeline.created.v1");
    CHECK(e.data == R"({"pipeline_id":"p1","name":"Sales","stages":[{"id":"s1","name":"Lead",)"
                    R"("probability":10},{"id":"s2","name":"Won","probability":100}]})");
  }

  TEST_CASE("optional members may be null or absent; unknown members are ignored") {
    using sample::everything_happened;
    auto expected = full_sample();
    expected.note.reset();
    const auto null_note = infra::decode_event<sample::sample_event>(
        recorded(std::string(everything_happened::kType), sample_with("note", "null")));
    CHECK(null_note == sample::sample_event{expected});
    const auto no_note = infra::decode_event<sample::sample_event>(
        recorded(std::string(everything_happened::kType), sample_with("note", "")));
    CHECK(no_note == sample::sample_event{expected});

    const auto extra = infra::decode_event<sample::sample_event>(
        recorded(std::string(everything_happened::kType),
                 R"({"added_in_a_later_release":{"deep":[1,2,{"x":null}]},)" +
                     infra::to_json(full_sample()).substr(1)));
    CHECK(extra == sample::sample_event{full_sample()});
  }

  TEST_CASE("an unknown type is refused with the event's coordinates") {
    const auto pipeline = infra::encode_event(
        domain::pipeline_event{domain::pipeline_archived{domain::pipeline_id{"p1"}}}, "ev-1", "");
    try {
      infra::decode_event<sample::sample_event>(as_recorded(pipeline));
      FAIL("decoded a pipeline event as a sample event");
    } catch (const corrupt_event& error) {
      const std::string message = error.what();
      CHECK(contains(message, "pipeline.archived.v1"));
      CHECK(contains(message, "position 41"));
      CHECK(contains(message, "\"sample-7\" version 3"));
      CHECK(contains(message, "unknown event type"));
    }
    CHECK_THROWS_AS(
        infra::decode_event<sample::sample_event>(recorded("sample.unheard_of.v1", "{}")),
        corrupt_event);
    CHECK_THROWS_AS(infra::decode_event<sample::sample_event>(recorded("not a type", "{}", 1)),
                    corrupt_event);
    CHECK_FALSE(infra::can_decode<sample::sample_event>("pipeline.archived.v1"));
    CHECK(infra::can_decode<domain::pipeline_event>("pipeline.archived.v1"));
  }

  TEST_CASE("a schema_version that contradicts the type is refused") {
    const std::string message = [] {
      try {
        infra::decode_event<sample::sample_event>(recorded("sample.nothing_happened.v1", "{}", 2));
      } catch (const corrupt_event& error) {
        return std::string(error.what());
      }
      return std::string("no error");
    }();
    CHECK(contains(message, "schema_version 2"));
  }

  TEST_CASE("missing required members are refused, naming the field") {
    CHECK(contains(decode_error(sample_with("text", "")), "field text: is missing"));
    CHECK(contains(decode_error(sample_with("value", R"({"currency":"EUR"})")),
                   "field value.amount_minor: is missing"));
    CHECK(contains(decode_error(sample_with("addresses", R"([{"city":"A"},{"zip":"1"}])")),
                   "field addresses/1.city: is missing"));
    CHECK(contains(decode_error("{}"), "field text: is missing"));
  }

  TEST_CASE("values of the wrong JSON type are refused, naming the field") {
    const std::vector<std::tuple<std::string_view, std::string_view, std::string_view>> cases{
        {"text", "1", "field text: expected a string, got a number"},
        {"text", "null", "field text: expected a string, got null"},
        {"flag", "1", "field flag: expected a boolean, got a number"},
        {"flag", R"("true")", "field flag: expected a boolean, got a string"},
        {"small", R"("1")", "field small: expected an integer, got a string"},
        {"small", "1.5", "field small: expected an integer from"},
        {"small", "1e2", "field small: expected an integer from"},
        {"deal_id", "7", "field deal_id: expected a string, got a number"},
        {"value", R"("12.00 EUR")", "field value: expected an object, got a string"},
        {"value", R"({"amount_minor":"12","currency":"EUR"})",
         "field value.amount_minor: expected an integer, got a string"},
        {"tags", R"("vip")", "field tags: expected an array, got a string"},
        {"tags", R"(["a",2])", "field tags/1: expected a string, got a number"},
        {"home", "[]", "field home: expected an object, got an array"},
        {"counters", R"({"calls":true})",
         "field counters.calls: expected an integer, got a boolean"},
        {"labels", R"(["a","a"])", "field labels/1: is a duplicate element"},
        {"level", R"("urgent")", "field level: unknown value \"urgent\""},
        {"level", "1", "field level: expected a string, got a number"},
        {"budget", "5", "field budget: expected an object, got a number"},
    };
    for (const auto& [member, value, expected] : cases) {
      CAPTURE(member);
      CAPTURE(value);
      const std::string message = decode_error(sample_with(member, value));
      CHECK_MESSAGE(contains(message, expected), message);
      CHECK(contains(message, "sample.everything_happened.v1"));
    }
  }

  TEST_CASE("integers out of the field's range are refused, however large") {
    const std::vector<std::pair<std::string_view, std::string_view>> cases{
        {"small", "2147483648"},
        {"small", "-2147483649"},
        {"tiny", "32768"},
        {"count", "-1"},
        {"count", "4294967296"},
        {"big", "9223372036854775808"},
        {"big", "-9223372036854775809"},
        {"huge", "18446744073709551616"},
        {"huge", "-1"},
        {"big", "123456789012345678901234567890123456789012345678901234567890"},
    };
    for (const auto& [member, value] : cases) {
      CAPTURE(member);
      CAPTURE(value);
      const std::string message = decode_error(sample_with(member, value));
      CHECK_MESSAGE(
          contains(message, "field " + std::string(member) + ": expected an integer from"),
          message);
    }
    // Beyond the range of a double, the text is not accepted as JSON at all.
    const std::string message = decode_error(R"({"small":1e400})");
    CHECK_MESSAGE(contains(message, "invalid JSON"), message);
  }

  TEST_CASE("invalid timestamps and dates are refused") {
    for (std::string_view bad :
         {R"("2026-02-30T12:00:00.000000Z")", R"("2026-11-27 12:00:00.000000Z")",
          R"("2026-11-27T24:00:00Z")", R"("2026-11-27T12:00:60Z")", R"("2026-11-27T12:00:00")",
          R"("2026-11-27T12:00:00.1234567Z")", R"("2026-11-27T12:00:00.Z")",
          R"("2026-11-27T12:00:00+0100")", R"("1764244800")", R"("")"}) {
      CAPTURE(bad);
      const std::string message = decode_error(sample_with("at", bad));
      CHECK_MESSAGE(contains(message, "field at: expected an RFC 3339 timestamp"), message);
    }
    CHECK(contains(decode_error(sample_with("at", "1764244800")),
                   "field at: expected a string, got a number"));
    for (std::string_view bad : {R"("2026-13-01")", R"("2025-02-29")", R"("2026-1-01")",
                                 R"("2026-01-01T00:00:00Z")", R"("26-01-01")", R"("2026/01/01")"}) {
      CAPTURE(bad);
      const std::string message = decode_error(sample_with("due", bad));
      CHECK_MESSAGE(contains(message, "field due: expected a date"), message);
    }
  }

  TEST_CASE("malformed JSON is refused, whatever its nesting depth") {
    CHECK(contains(decode_error(""), "invalid JSON at offset 0"));
    CHECK(contains(decode_error(R"({"text":"a")"), "invalid JSON"));
    CHECK(contains(decode_error("{} {}"), "invalid JSON"));
    CHECK(contains(decode_error("[]"), "data: expected an object, got an array"));
    CHECK(contains(decode_error("null"), "data: expected an object, got null"));
    CHECK(contains(decode_error("{\"text\":\"\xff\"}"), "invalid JSON"));

    // Far deeper than any call stack would survive if parsing or freeing recursed.
    constexpr std::size_t kDepth = 1'000'000;
    const std::string deep = std::string(kDepth, '[') + std::string(kDepth, ']');
    CHECK(contains(decode_error(deep), "data: expected an object"));
    const auto ignored = infra::decode_event<sample::sample_event>(
        recorded(std::string(sample::everything_happened::kType),
                 "{\"x\":" + deep + "," + infra::to_json(full_sample()).substr(1)));
    CHECK(ignored == sample::sample_event{full_sample()});  // an unknown deep member is skipped
    std::string deep_tag = infra::to_json(full_sample());
    deep_tag.insert(deep_tag.find(R"("tags":[)") + 8, deep + ",");
    CHECK(contains(decode_error(deep_tag), "field tags/0: expected a string, got an array"));
    std::string unclosed = "{\"x\":" + std::string(kDepth, '[');
    CHECK(contains(decode_error(unclosed), "invalid JSON"));
  }

  TEST_CASE("values that JSON cannot carry are refused when encoding, naming the field") {
    auto e = full_sample();
    e.addresses[1].city = "Ber\xc3lin";
    try {
      (void)infra::encode_event(sample::sample_event{e}, "ev-1", "");
      FAIL("encoded invalid UTF-8");
    } catch (const json_error& error) {
      CHECK(error.field() == "addresses/1.city");
      CHECK(contains(error.what(), "sample.everything_happened.v1"));
      CHECK(contains(error.what(), "UTF-8"));
    }
    e = full_sample();
    e.at = domain::timestamp{sys_days{year{10000} / 1 / 1}};
    CHECK_THROWS_WITH_AS(infra::to_json(e), doctest::Contains("at: timestamp lies outside"),
                         json_error);
    e = full_sample();
    e.due = sys_days{year{-1} / 12 / 31};
    CHECK_THROWS_WITH_AS(infra::to_json(e), doctest::Contains("due: date lies outside"),
                         json_error);
  }

  TEST_CASE("the time formats") {
    CHECK(infra::format_timestamp(at(2026, 11, 27, 12, 0, 0)) == "2026-11-27T12:00:00.000000Z");
    CHECK(infra::format_timestamp(domain::timestamp{}) == "1970-01-01T00:00:00.000000Z");
    CHECK(infra::format_timestamp(at(1969, 12, 31, 23, 59, 59, 999'999)) ==
          "1969-12-31T23:59:59.999999Z");
    CHECK(infra::format_timestamp(at(0, 1, 1, 0, 0, 0)) == "0000-01-01T00:00:00.000000Z");
    CHECK(infra::format_timestamp(at(9999, 12, 31, 23, 59, 59, 999'999)) ==
          "9999-12-31T23:59:59.999999Z");
    CHECK_FALSE(infra::format_timestamp(at(10000, 1, 1, 0, 0, 0)));
    CHECK_FALSE(infra::format_timestamp(at(-1, 12, 31, 23, 59, 59, 999'999)));

    CHECK(infra::parse_timestamp("2026-11-27T12:00:00Z") == at(2026, 11, 27, 12, 0, 0));
    CHECK(infra::parse_timestamp("2026-11-27t12:00:00.5z") == at(2026, 11, 27, 12, 0, 0, 500'000));
    CHECK(infra::parse_timestamp("2026-11-27T13:30:00.000001+01:30") ==
          at(2026, 11, 27, 12, 0, 0, 1));
    CHECK(infra::parse_timestamp("2026-11-27T00:00:00-05:00") == at(2026, 11, 27, 5, 0, 0));
    CHECK(infra::parse_timestamp("2024-02-29T00:00:00Z") == at(2024, 2, 29, 0, 0, 0));
    CHECK_FALSE(infra::parse_timestamp("2026-11-27T12:00:00+24:00"));
    CHECK_FALSE(infra::parse_timestamp("2026-11-27T12:00:00Z "));
    CHECK_FALSE(infra::parse_timestamp("+2026-11-27T12:00:00Z"));

    // Every microsecond of a sample round-trips exactly.
    for (std::int64_t us : {-86'400'000'001LL, -1LL, 0LL, 1LL, 1'764'244'800'123'456LL}) {
      const domain::timestamp t{microseconds{us}};
      CHECK(infra::parse_timestamp(*infra::format_timestamp(t)) == t);
    }

    CHECK(infra::format_date(sys_days{2026y / 1 / 5}) == "2026-01-05");
    CHECK(infra::parse_date("2024-02-29") == sys_days{2024y / 2 / 29});
    CHECK_FALSE(infra::parse_date("2026-02-29"));
    CHECK_FALSE(infra::parse_date("2026-00-10"));
    CHECK_FALSE(infra::parse_date("2026-01-5"));
  }

  TEST_CASE("old schemas are upcast through every step before decoding") {
    register_sample_upcasters();
    const auto v1 = infra::decode_event<sample::renamed_event>(
        recorded("sample.renamed.v1", R"({"name":"Acme","ignored":1})"));
    CHECK(v1 == sample::renamed_event{sample::renamed{"Acme", "v1 import"}});
    const auto v2 = infra::decode_event<sample::renamed_event>(
        recorded("sample.renamed.v2", R"({"name":"Acme","source":"web"})"));
    CHECK(v2 == sample::renamed_event{sample::renamed{"Acme", "web"}});
    const auto v3 = infra::decode_event<sample::renamed_event>(
        recorded("sample.renamed.v3", R"({"title":"Acme","source":"api"})"));
    CHECK(v3 == sample::renamed_event{sample::renamed{"Acme", "api"}});

    CHECK(infra::can_decode<sample::renamed_event>("sample.renamed.v1"));
    CHECK_FALSE(infra::can_decode<sample::renamed_event>("sample.renamed.v4"));
    CHECK_FALSE(infra::can_decode<sample::sample_event>("sample.renamed.v1"));

    const auto newest = infra::upcast("sample.renamed.v1", R"({"name":"Acme"})");
    CHECK(newest.type == "sample.renamed.v3");
    CHECK(newest.data == R"({"source":"v1 import","title":"Acme"})");
    CHECK(infra::upcast("pipeline.created.v1", "{}").type == "pipeline.created.v1");
  }

  TEST_CASE("a failing upcaster or bad upcast data is a corrupt event") {
    register_sample_upcasters();
    try {
      infra::decode_event<sample::renamed_event>(recorded("sample.renamed.v1", R"({"title":1})"));
      FAIL("upcast data without a name");
    } catch (const corrupt_event& error) {
      CHECK(contains(error.what(), "upcasting sample.renamed.v1 to sample.renamed.v2 failed"));
      CHECK(contains(error.what(), "no member name"));
    }
    try {
      infra::decode_event<sample::renamed_event>(recorded("sample.renamed.v1", R"({"name":1})"));
      FAIL("decoded a number as a title");
    } catch (const corrupt_event& error) {
      CHECK(contains(error.what(), "upcast to sample.renamed.v3"));
      CHECK(contains(error.what(), "field title: expected a string, got a number"));
    }
  }

  TEST_CASE("upcaster registrations are checked") {
    register_sample_upcasters();
    const auto identity = [](std::string_view data) { return std::string(data); };
    CHECK_THROWS_AS(infra::register_upcaster("sample.renamed.v1", "sample.renamed.v4", identity),
                    std::invalid_argument);  // v1 already has a step
    CHECK_THROWS_AS(infra::register_upcaster("sample.other.v2", "sample.other.v1", identity),
                    std::invalid_argument);
    CHECK_THROWS_AS(infra::register_upcaster("sample.other.v2", "sample.other.v2", identity),
                    std::invalid_argument);
    CHECK_THROWS_AS(infra::register_upcaster("sample.other", "sample.other.v2", identity),
                    std::invalid_argument);
    CHECK_THROWS_AS(infra::register_upcaster("sample.other.v1", "sample.other.v2", nullptr),
                    std::invalid_argument);
    CHECK_FALSE(infra::can_decode<sample::renamed_event>("sample.other.v1"));
  }

  TEST_CASE("from_json reads any describable value and names the bad field") {
    const auto a = infra::from_json<sample::address>(R"({"city":"Rome"})");
    CHECK(a == sample::address{"Rome", std::nullopt});
    CHECK_THROWS_WITH_AS(infra::from_json<sample::address>(R"({"city":"Rome","zip":5})"),
                         "zip: expected a string, got a number", json_error);
    try {
      infra::from_json<sample::address>(R"({})");
      FAIL("no city");
    } catch (const json_error& error) {
      CHECK(error.field() == "city");
      CHECK(error.reason() == "is missing");
    }
  }
}

TEST_SUITE("event codec") {
  TEST_CASE("the filler reaches every field kind") {
    sample::everything_happened e;
    filler{}.fill(e);
    CHECK(e.note.has_value());
    CHECK(e.level == sample::priority::high);
    CHECK(e.labels.size() == 2);
    CHECK(e.addresses.size() == 2);
    CHECK(e.addresses[1].zip.has_value());
    CHECK(round_trip(sample::sample_event{e}) == sample::sample_event{e});
  }

  TEST_CASE("every event of every aggregate round trips with all its fields set") {
    check_every_event_round_trips<domain::activity_aggregate>();
    check_every_event_round_trips<domain::company_aggregate>();
    check_every_event_round_trips<domain::contact_aggregate>();
    check_every_event_round_trips<domain::deal_aggregate>();
    check_every_event_round_trips<domain::lead_aggregate>();
    check_every_event_round_trips<domain::pipeline_aggregate>();
    check_every_event_round_trips<domain::task_aggregate>();
    check_every_event_round_trips<domain::team_aggregate>();
    check_every_event_round_trips<domain::user_aggregate>();
  }
}

TEST_SUITE("event metadata") {
  TEST_CASE("metadata round trips and its wire format is pinned") {
    const infra::event_metadata full{"user-1", "corr-1", "cmd-1", "key-1", "2001:db8::1"};
    const std::string text = infra::encode_metadata(full);
    CHECK(text == R"({"actor":"user-1","correlation_id":"corr-1","causation_id":"cmd-1",)"
                  R"("idempotency_key":"key-1","ip":"2001:db8::1"})");
    CHECK(infra::decode_metadata(text) == full);

    const infra::event_metadata sparse{"user-1", "", "", "", ""};
    CHECK(infra::encode_metadata(sparse) ==
          R"({"actor":"user-1","correlation_id":null,"causation_id":null,)"
          R"("idempotency_key":null,"ip":null})");
    CHECK(infra::decode_metadata(infra::encode_metadata(sparse)) == sparse);
  }

  TEST_CASE("metadata decoding tolerates absence and new members") {
    CHECK(infra::decode_metadata("{}") == infra::event_metadata{});
    CHECK(infra::decode_metadata(R"({"actor":"u","user_agent":"curl","ip":null})") ==
          infra::event_metadata{"u", "", "", "", ""});
  }

  TEST_CASE("corrupt metadata is refused, naming the field") {
    CHECK_THROWS_WITH_AS(infra::decode_metadata(R"({"actor":7})"),
                         doctest::Contains("actor: expected a string, got a number"),
                         corrupt_event);
    CHECK_THROWS_WITH_AS(infra::decode_metadata("[]"), doctest::Contains("expected an object"),
                         corrupt_event);
    CHECK_THROWS_WITH_AS(infra::decode_metadata("{"), doctest::Contains("invalid JSON"),
                         corrupt_event);
  }

  TEST_CASE("invalid UTF-8 from request headers is replaced, never refused") {
    infra::event_metadata m;
    m.correlation_id = "ab\xff\xc3(";
    m.ip = "\xed\xa0\x80";  // an encoded surrogate
    const auto decoded = infra::decode_metadata(infra::encode_metadata(m));
    CHECK(decoded.correlation_id == "ab\xEF\xBF\xBD\xEF\xBF\xBD(");
    CHECK(decoded.ip == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    m.actor = "Ünïcode ✓ 😀";
    CHECK(infra::decode_metadata(infra::encode_metadata(m)).actor == m.actor);
  }
}
