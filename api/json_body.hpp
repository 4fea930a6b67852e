// Request bodies: parsed with RapidJSON's iterative parser (no recursion, so hostile nesting cannot
// exhaust the stack) under a depth limit, with UTF-8 validation; then read through typed readers
// that name the field at fault, so route code is a few lines and every bad input is a 400/422.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.hpp"

namespace realmkit::api {

struct json_limits {
  std::size_t max_depth = 64;  // objects and arrays nested deeper are refused
};

class json_array;

// A JSON object in a parsed body, with its place in the document. Field names follow the domain's
// style: "value.currency" for members, "stages/0" for array elements. Every reader throws
// problem_error (422, naming the field) when the member is missing or of the wrong type; the
// optional_ readers return nullopt for a missing member or null.
class json_object {
 public:
  json_object(const rapidjson::Value& value, std::string path)
      : value_(&value), path_(std::move(path)) {}

  bool has(std::string_view name) const;      // present, even as null
  bool is_null(std::string_view name) const;  // present and null

  std::string string(std::string_view name) const;
  std::optional<std::string> optional_string(std::string_view name) const;

  std::int64_t int64(std::string_view name,
                     std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                     std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  std::optional<std::int64_t> optional_int64(
      std::string_view name, std::int64_t min = std::numeric_limits<std::int64_t>::min(),
      std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;

  bool boolean(std::string_view name) const;
  std::optional<bool> optional_boolean(std::string_view name) const;

  json_object object(std::string_view name) const;
  std::optional<json_object> optional_object(std::string_view name) const;

  json_array array(std::string_view name, std::size_t max_size = 10'000) const;
  std::optional<json_array> optional_array(std::string_view name,
                                           std::size_t max_size = 10'000) const;

  // An array of strings.
  std::vector<std::string> strings(std::string_view name, std::size_t max_size = 10'000) const;
  std::optional<std::vector<std::string>> optional_strings(std::string_view name,
                                                           std::size_t max_size = 10'000) const;

  // Refuses members not in `allowed` (a field the client must not set, or a typo), naming the
  // first one.
  void allow_only(std::initializer_list<std::string_view> allowed) const;

  // The field name of a member of this object, for errors raised by route code.
  std::string field(std::string_view name) const;
  const std::string& path() const { return path_; }
  const rapidjson::Value& value() const { return *value_; }

 private:
  const rapidjson::Value* find(std::string_view name) const;  // nullptr when absent or null
  const rapidjson::Value& require(std::string_view name) const;

  const rapidjson::Value* value_;
  std::string path_;
};

class json_array {
 public:
  json_array(const rapidjson::Value& value, std::string path)
      : value_(&value), path_(std::move(path)) {}

  std::size_t size() const { return value_->Size(); }
  std::string string(std::size_t i) const;
  std::int64_t int64(std::size_t i, std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                     std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  json_object object(std::size_t i) const;

  std::string field(std::size_t i) const;  // "stages/2"
  const std::string& path() const { return path_; }
  const rapidjson::Value& value() const { return *value_; }

 private:
  const rapidjson::Value& at(std::size_t i) const {
    return (*value_)[static_cast<rapidjson::SizeType>(i)];
  }
  const rapidjson::Value* value_;
  std::string path_;
};

// A parsed request body whose root is an object. Owns the document the readers look into.
class json_body {
 public:
  // Throws problem_error: 400 malformed_json for bad syntax, invalid UTF-8 or nesting over the
  // limit; 422 validation when the root is not an object.
  static json_body parse(std::string_view text, const json_limits& limits = {});
  // Also checks the Content-Type: application/json or application/<x>+json, else 415. Requiring it
  // makes browsers send a CORS preflight for cross-origin writes.
  static json_body from_request(const http_request& request, const json_limits& limits = {});

  json_object root() const { return json_object(*document_, ""); }
  const rapidjson::Document& document() const { return *document_; }

 private:
  explicit json_body(std::unique_ptr<rapidjson::Document> d) : document_(std::move(d)) {}
  std::unique_ptr<rapidjson::Document> document_;  // on the heap: readers keep pointers into it
};

// True for application/json and application/<x>+json, with or without parameters.
bool is_json_content_type(std::string_view content_type);

}  // namespace realmkit::api
