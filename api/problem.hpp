// Problem details (RFC 9457): the body of every HTTP error, application/problem+json.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.hpp"

namespace realmkit::api {

inline constexpr std::string_view kProblemContentType = "application/problem+json";

struct field_error {
  std::string field;   // domain style: "value.currency", "stages/0.name"
  std::string reason;  // a sentence for a human, e.g. "must be a string"
  bool operator==(const field_error&) const = default;
};

struct problem {
  int status = 500;
  std::string type = "about:blank";  // a URN naming the kind of problem, see docs/http.md
  std::string title;                 // the same for every problem of this type
  std::string detail;                // this occurrence, for a human
  std::string instance;              // the request id
  std::string field;                 // the field at fault, when there is one
  std::vector<field_error> errors;   // every field at fault (at least `field` when set)
  std::optional<std::int64_t> current_version;  // conflicts: the version to expect instead
  header_map headers;  // sent with the problem, e.g. Allow (405) or Retry-After (429, 503)
  // Extension members (RFC 9457 §3.2): name → JSON text of the value, written as is.
  std::vector<std::pair<std::string, std::string>> extensions;
};

// The problem's JSON text. Members: type, title, status, detail, instance, and when set field,
// errors [{field, pointer, reason}], current_version, then the extension members.
std::string to_json(const problem& p);

// The response carrying the problem; `request_id` fills `instance` when it is empty.
http_response to_response(problem p, std::string_view request_id);

// "stages/0.name" → "/stages/0/name": the JSON pointer (RFC 6901) of a domain-style field name.
std::string json_pointer(std::string_view field);

// Thrown by route code (and the JSON readers) to answer with a problem at once; the pipeline turns
// it into the response with the request id as instance.
class problem_error final : public std::exception {
 public:
  explicit problem_error(problem p) : problem_(std::move(p)) {}
  const problem& get() const { return problem_; }
  const char* what() const noexcept override {
    return problem_.detail.empty() ? problem_.title.c_str() : problem_.detail.c_str();
  }

 private:
  problem problem_;
};

}  // namespace realmkit::api
