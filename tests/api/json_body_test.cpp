// Request bodies: hostile JSON refused cleanly, typed readers naming the field at fault.
#include "api/json_body.hpp"

#include <doctest/doctest.h>

#include <functional>

#include "api/problem.hpp"

using namespace realmkit;

namespace {

// The problem a body or a reader raises; fails the test when none is raised.
api::problem problem_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const api::problem_error& e) {
    return e.get();
  }
  FAIL("no problem raised");
  return {};
}

api::json_body body(std::string_view text) {
  return api::json_body::parse(text);
}

}  // namespace

TEST_CASE("hostile documents are refused with 400, never a crash") {
  SUBCASE("100,000 nested arrays") {
    const auto p = problem_of([] { body(std::string(100'000, '[')); });
    CHECK(p.status == 400);
    CHECK(p.type == "urn:realmkit:problem:malformed-json");
    CHECK(p.detail == "JSON nested deeper than 64 levels");
  }
  SUBCASE("100,000 nested objects") {
    std::string text;
    for (int i = 0; i < 100'000; ++i) text += "{\"a\":";
    CHECK(problem_of([&] { body(text); }).status == 400);
  }
  SUBCASE("the depth limit is exact") {
    auto nested = [](int depth) {
      std::string text = "{\"a\":";
      for (int i = 1; i < depth; ++i) text += "[";
      text += "1";
      for (int i = 1; i < depth; ++i) text += "]";
      return text + "}";
    };
    CHECK_NOTHROW(body(nested(64)));
    CHECK(problem_of([&] { body(nested(65)); }).status == 400);
  }
  SUBCASE("invalid UTF-8") {
    const auto p = problem_of([] { body("{\"name\":\"caf\xc3\"}"); });
    CHECK(p.status == 400);
    CHECK(p.detail.find("Invalid encoding") != std::string::npos);
    CHECK(problem_of([] { body("{\"name\":\"\xed\xa0\x80\"}"); }).status == 400);  // a surrogate
  }
  SUBCASE("syntax errors say where") {
    auto p = problem_of([] { body("{\"a\": 1,}"); });
    CHECK(p.status == 400);
    CHECK(p.detail.find("at byte") != std::string::npos);
    CHECK(problem_of([] { body(""); }).detail == "the request body is empty");
    CHECK(problem_of([] { body("{} {}"); }).status == 400);  // trailing content
    CHECK(problem_of([] { body("{\"a\":NaN}"); }).status == 400);
    CHECK(problem_of([] { body("{\"a\":1e999}"); }).status == 400);
  }
  SUBCASE("the root must be an object") {
    const auto p = problem_of([] { body("[1,2]"); });
    CHECK(p.status == 422);
    CHECK(p.type == "urn:realmkit:problem:validation");
  }
}

TEST_CASE("typed readers return values and name the field at fault") {
  const auto b = body(R"({
    "title": "Big deal", "count": 3, "big": 9007199254740993, "flag": true, "none": null,
    "value": {"amount_minor": 125000, "currency": "EUR"},
    "stages": [{"name": "Lead"}, {"name": 7}],
    "tags": ["a", "b"], "neg": -5, "frac": 1.5, "huge": 18446744073709551615
  })");
  const auto root = b.root();
  CHECK(root.string("title") == "Big deal");
  CHECK(root.int64("count") == 3);
  CHECK(root.int64("big") == 9007199254740993);  // no detour through double
  CHECK(root.boolean("flag"));
  CHECK(root.optional_string("missing") == std::nullopt);
  CHECK(root.optional_string("none") == std::nullopt);
  CHECK(root.has("none"));
  CHECK(root.is_null("none"));
  CHECK_FALSE(root.has("missing"));
  CHECK(root.object("value").int64("amount_minor") == 125000);
  CHECK(root.strings("tags") == std::vector<std::string>{"a", "b"});
  CHECK(root.array("stages").object(0).string("name") == "Lead");

  auto p = problem_of([&] { root.string("missing"); });
  CHECK(p.status == 422);
  CHECK(p.field == "missing");
  CHECK(p.detail == "is required");
  CHECK(api::to_json(p).find(
            R"("errors":[{"field":"missing","pointer":"/missing","reason":"is required"}])") !=
        std::string::npos);

  CHECK(problem_of([&] { root.string("none"); }).detail == "is required");
  CHECK(problem_of([&] { root.string("count"); }).detail == "must be a string");
  CHECK(problem_of([&] { root.int64("title"); }).detail == "must be an integer");
  CHECK(problem_of([&] { root.int64("frac"); }).detail == "must be an integer");
  CHECK(problem_of([&] { root.int64("huge"); }).detail ==
        "must be between -9223372036854775808 and 9223372036854775807");
  CHECK(problem_of([&] { root.int64("neg", 0, 100); }).detail == "must be between 0 and 100");
  CHECK(problem_of([&] { root.boolean("count"); }).detail == "must be true or false");
  CHECK(problem_of([&] { root.object("tags"); }).detail == "must be an object");
  CHECK(problem_of([&] { root.array("value"); }).detail == "must be an array");
  CHECK(problem_of([&] { root.strings("tags", 1); }).detail == "must have at most 1 elements");

  p = problem_of([&] { root.object("value").string("amount_minor"); });
  CHECK(p.field == "value.amount_minor");
  CHECK(api::json_pointer(p.field) == "/value/amount_minor");

  p = problem_of([&] { root.array("stages").object(1).string("name"); });
  CHECK(p.field == "stages/1.name");
  CHECK(api::json_pointer(p.field) == "/stages/1/name");

  p = problem_of([&] { root.array("tags").int64(1); });
  CHECK(p.field == "tags/1");
}

TEST_CASE("allow_only refuses fields a client must not set") {
  const auto b = body(R"({"title": "x", "owner_id": "someone-else"})");
  CHECK_NOTHROW(b.root().allow_only({"title", "owner_id"}));
  const auto p = problem_of([&] { b.root().allow_only({"title"}); });
  CHECK(p.status == 422);
  CHECK(p.field == "owner_id");
}

TEST_CASE("from_request insists on a JSON content type") {
  api::http_request r;
  r.body = "{}";
  CHECK(problem_of([&] { api::json_body::from_request(r); }).status == 415);
  r.headers.emplace("Content-Type", "text/plain");
  CHECK(problem_of([&] { api::json_body::from_request(r); }).status == 415);
  r.headers["Content-Type"] = "application/json; charset=utf-8";
  CHECK_NOTHROW(api::json_body::from_request(r));
  CHECK(api::is_json_content_type("application/merge-patch+json"));
  CHECK(api::is_json_content_type("Application/JSON"));
  CHECK_FALSE(api::is_json_content_type("application/jsonx"));
  CHECK_FALSE(api::is_json_content_type("application/+json"));
}
