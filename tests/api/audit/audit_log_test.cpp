// The line every audit read leaves: who read what, with which parameters, as one JSON object.
#include "api/audit/audit_log.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using namespace realmkit::api::audit;

TEST_CASE("format_audit_read: who read what, the parameters asked, how much came back") {
  const std::vector<std::pair<std::string, std::string>> query{
      {"as_of", "2026-11-01T00:00:00Z"}, {"note", "quote \" and \\ kept apart"}};
  const auto line = format_audit_read({.route = "audit.stream_state",
                                       .user_id = "u-1",
                                       .role = "auditor",
                                       .request_id = "req-1",
                                       .remote = "203.0.113.7",
                                       .target = "deal-d1",
                                       .query = &query,
                                       .items = 4},
                                      std::chrono::system_clock::time_point{});
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  REQUIRE_MESSAGE(doc.IsObject(), line);
  CHECK(std::string(doc["ts"].GetString()) == "1970-01-01T00:00:00.000000Z");
  CHECK(std::string(doc["logger"].GetString()) == "audit");
  CHECK(std::string(doc["event"].GetString()) == "audit.read");
  CHECK(std::string(doc["route"].GetString()) == "audit.stream_state");
  CHECK(std::string(doc["user_id"].GetString()) == "u-1");
  CHECK(std::string(doc["role"].GetString()) == "auditor");
  CHECK(std::string(doc["request_id"].GetString()) == "req-1");
  CHECK(std::string(doc["target"].GetString()) == "deal-d1");
  CHECK(std::string(doc["query"]["as_of"].GetString()) == "2026-11-01T00:00:00Z");
  CHECK(std::string(doc["query"]["note"].GetString()) == "quote \" and \\ kept apart");
  CHECK(doc["items"].GetInt() == 4);
  CHECK(line.find('\n') == std::string::npos);
}
