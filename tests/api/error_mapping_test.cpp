// The one table from failures to problem+json: rejections, store errors, unexpected exceptions.
#include "api/error_mapping.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <functional>
#include <set>

#include "infra/event_store.hpp"

using namespace realmkit;

namespace {

api::problem from_exception(const std::function<void()>& thrower) {
  try {
    thrower();
  } catch (...) {
    return api::problem_for_current_exception("req-1");
  }
  FAIL("nothing thrown");
  return {};
}

}  // namespace

TEST_CASE("business rejections map to their statuses") {
  using domain::rejection_code;
  CHECK(api::problem_for(domain::invalid("value.currency", "unknown currency")).status == 422);
  CHECK(api::problem_for(domain::not_found("no such deal")).status == 404);
  CHECK(api::problem_for(domain::already_exists("exists")).status == 409);
  CHECK(api::problem_for(domain::invalid_state("status", "the deal is closed")).status == 409);

  const auto p = api::problem_for(domain::invalid("value.currency", "unknown currency"));
  CHECK(p.type == "urn:realmkit:problem:validation");
  CHECK(p.field == "value.currency");
  CHECK(p.detail == "unknown currency");

  const auto conflict =
      api::problem_for(domain::rejection{rejection_code::conflict, "expected_version", "stale"}, 7);
  CHECK(conflict.status == 409);
  CHECK(conflict.type == "urn:realmkit:problem:version-conflict");
  CHECK(conflict.current_version == 7);
  const auto json = api::to_json(conflict);
  CHECK(json.find("\"current_version\":7") != std::string::npos);
}

TEST_CASE("store errors map to their statuses and hide internals") {
  auto p = api::problem_for(infra::wrong_expected_version("deal-1", 3, 5));
  CHECK(p.status == 409);
  CHECK(p.current_version == 5);
  CHECK(p.field == "expected_version");

  p = api::problem_for(infra::invalid_append("events/0.data", "data is not a JSON object"));
  CHECK(p.status == 422);
  CHECK(p.field == "events/0.data");

  CHECK(api::problem_for(infra::idempotency_key_reused("k")).status == 422);

  p = api::problem_for(infra::store_unavailable("connection to 10.0.0.5 refused"));
  CHECK(p.status == 503);
  CHECK(p.headers.at("Retry-After") == "1");
  CHECK(p.detail.find("10.0.0.5") == std::string::npos);

  p = api::problem_for(infra::corrupt_event("row 17 of events has bad JSON"));
  CHECK(p.status == 500);
  CHECK(p.detail.find("row 17") == std::string::npos);
}

TEST_CASE("the current exception becomes a problem") {
  CHECK(from_exception([] { throw infra::wrong_expected_version("s", 1, 2); }).status == 409);
  CHECK(from_exception([] {
          throw api::problem_error(api::make_problem(api::problem_kind::forbidden, "no"));
        }).status == 403);
  const auto p = from_exception([] { throw std::runtime_error("password=hunter2"); });
  CHECK(p.status == 500);
  CHECK(api::to_json(p).find("hunter2") == std::string::npos);
  CHECK(from_exception([] { throw 42; }).status == 500);
}

TEST_CASE("problem+json documents are RFC 9457 shaped") {
  auto p = api::make_problem(api::problem_kind::validation, "must be a string", "stages/0.name");
  const auto response = api::to_response(p, "req-9");
  CHECK(response.status == 422);
  CHECK(response.content_type == "application/problem+json");
  rapidjson::Document d;
  d.Parse(response.body.c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["type"].GetString()) == "urn:realmkit:problem:validation");
  CHECK(std::string(d["title"].GetString()) == "The request has an invalid field");
  CHECK(d["status"].GetInt() == 422);
  CHECK(std::string(d["detail"].GetString()) == "must be a string");
  CHECK(std::string(d["instance"].GetString()) == "req-9");
  CHECK(std::string(d["field"].GetString()) == "stages/0.name");
  CHECK(std::string(d["errors"][0]["pointer"].GetString()) == "/stages/0/name");

  // Several fields at once, and extension members written as given.
  p.errors = {{"title", "is required"}, {"value.amount_minor", "must be an integer"}};
  p.extensions.emplace_back("hint", "[\"see docs\"]");
  d.Parse(api::to_json(p).c_str());
  CHECK(d["errors"].Size() == 2);
  CHECK(std::string(d["errors"][1]["pointer"].GetString()) == "/value/amount_minor");
  CHECK(std::string(d["hint"][0].GetString()) == "see docs");

  // Quotes and control characters in details cannot break the document.
  d.Parse(api::to_json(api::make_problem(api::problem_kind::validation, "\"}\n\x01")).c_str());
  CHECK_FALSE(d.HasParseError());
}

TEST_CASE("every kind has one row with a unique type") {
  std::set<std::string_view> types;
  for (const auto& row : api::problem_types()) {
    CHECK(&api::info(row.kind) == &row);
    CHECK(row.status >= 400);
    CHECK(types.insert(row.type).second);
  }
}
