// The JSON forms of CRM views: one free function per view, writing through json_out, so a
// response is built in one pass without a DOM. Field names follow the events' wire names.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/crm/crm_queries.hpp"

namespace realmkit::api::crm {

// A JSON text under construction (RapidJSON's writer behind the wall).
class json_out {
 public:
  json_out();
  ~json_out();
  json_out(const json_out&) = delete;
  json_out& operator=(const json_out&) = delete;

  json_out& key(std::string_view name);
  json_out& begin_object();
  json_out& end_object();
  json_out& begin_array();
  json_out& end_array();
  json_out& string(std::string_view value);
  json_out& integer(std::int64_t value);
  json_out& number(double value);  // finite; a probability, an AUC, a model weight
  json_out& boolean(bool value);
  json_out& null();
  json_out& time(domain::timestamp value);
  json_out& day(domain::date value);
  json_out& money(const domain::money& value);
  // A complete JSON text, written as is.
  json_out& raw(std::string_view json);

  template <class T>
  json_out& optional_string(const std::optional<T>& value) {
    if (!value) return null();
    if constexpr (requires { value->value; }) {
      return string(value->value);
    } else {
      return string(*value);
    }
  }

  // The text written so far; the writer is spent.
  std::string take();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Each writes one JSON object: the view's fields, then "version", "created_at", "updated_at".
void write(json_out& out, const user_view& v);
void write(json_out& out, const team_view& v);
void write(json_out& out, const company_view& v);
void write(json_out& out, const contact_view& v);
void write(json_out& out, const lead_view& v);
void write(json_out& out, const pipeline_view& v);
void write(json_out& out, const deal_view& v);
void write(json_out& out, const activity_view& v);
void write(json_out& out, const task_view& v);

void write_stages(json_out& out, const std::vector<domain::pipeline_stage>& stages);

}  // namespace realmkit::api::crm
