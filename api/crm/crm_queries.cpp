#include "api/crm/crm_queries.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "infra/crypto/encoding.hpp"

namespace realmkit::api::crm {

std::string_view to_string(sort_field field) {
  switch (field) {
    case sort_field::created_at:
      return "created_at";
    case sort_field::updated_at:
      return "updated_at";
    case sort_field::name:
      return "name";
    case sort_field::score:
      return "score";
  }
  return {};
}

bool from_string(std::string_view text, sort_field& out) {
  return domain::parse_enum(
      text, out,
      {sort_field::created_at, sort_field::updated_at, sort_field::name, sort_field::score});
}

// The cursor is JSON inside base64url: opaque to clients, and readable again whatever bytes a
// sort key holds.
std::string encode_cursor(const cursor& c) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("s");
  const auto sort = to_string(c.sort);
  w.String(sort.data(), static_cast<rapidjson::SizeType>(sort.size()));
  w.Key("d");
  w.Bool(c.descending);
  w.Key("k");
  w.String(c.key.data(), static_cast<rapidjson::SizeType>(c.key.size()));
  w.Key("i");
  w.String(c.id.data(), static_cast<rapidjson::SizeType>(c.id.size()));
  w.EndObject();
  return infra::crypto::base64url_encode(std::string_view(buffer.GetString(), buffer.GetSize()));
}

std::optional<cursor> decode_cursor(std::string_view text) {
  if (text.empty() || text.size() > 4096) return std::nullopt;
  const auto json = infra::crypto::base64url_decode(text);
  if (!json) return std::nullopt;
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(json->data(),
                                                                                  json->size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  auto string_member = [&](const char* name) -> std::optional<std::string> {
    const auto it = d.FindMember(name);
    if (it == d.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
  };
  const auto sort = string_member("s");
  const auto key = string_member("k");
  const auto id = string_member("i");
  const auto descending = d.FindMember("d");
  if (!sort || !key || !id || descending == d.MemberEnd() || !descending->value.IsBool()) {
    return std::nullopt;
  }
  cursor c;
  if (!from_string(*sort, c.sort)) return std::nullopt;
  c.descending = descending->value.GetBool();
  c.key = *key;
  c.id = *id;
  return c;
}

}  // namespace realmkit::api::crm
