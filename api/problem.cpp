#include "api/problem.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace realmkit::api {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_member(json_writer& w, std::string_view key, std::string_view value) {
  write_string(w, key);
  write_string(w, value);
}

}  // namespace

std::string json_pointer(std::string_view field) {
  if (field.empty()) return {};
  std::string out = "/";
  for (const char c : field) {
    // Escapes of RFC 6901 for the two characters a member name may hold; '.' separates members.
    if (c == '~')
      out += "~0";
    else if (c == '.')
      out += '/';
    else
      out += c;
  }
  return out;
}

std::string to_json(const problem& p) {
  rapidjson::StringBuffer buffer;
  json_writer w(buffer);
  w.StartObject();
  write_member(w, "type", p.type);
  write_member(w, "title", p.title);
  write_string(w, "status");
  w.Int(p.status);
  if (!p.detail.empty()) write_member(w, "detail", p.detail);
  if (!p.instance.empty()) write_member(w, "instance", p.instance);
  if (!p.field.empty()) write_member(w, "field", p.field);
  std::vector<field_error> errors = p.errors;
  if (errors.empty() && !p.field.empty()) errors.push_back({p.field, p.detail});
  if (!errors.empty()) {
    write_string(w, "errors");
    w.StartArray();
    for (const auto& e : errors) {
      w.StartObject();
      write_member(w, "field", e.field);
      write_member(w, "pointer", json_pointer(e.field));
      write_member(w, "reason", e.reason);
      w.EndObject();
    }
    w.EndArray();
  }
  if (p.current_version) {
    write_string(w, "current_version");
    w.Int64(*p.current_version);
  }
  for (const auto& [name, json] : p.extensions) {
    write_string(w, name);
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

http_response to_response(problem p, std::string_view request_id) {
  if (p.instance.empty()) p.instance = std::string(request_id);
  if (p.title.empty()) p.title = std::string(status_reason(p.status));
  http_response r;
  r.status = p.status;
  r.content_type = std::string(kProblemContentType);
  r.headers = std::move(p.headers);
  p.headers.clear();
  r.body = to_json(p);
  return r;
}

}  // namespace realmkit::api
