#include "infra/append_result_codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace realmkit::infra {

std::string encode_append_result(const append_result& result) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("streams");
  w.StartArray();
  for (const auto& s : result.streams) {
    w.StartObject();
    w.Key("stream_id");
    w.String(s.stream_id.data(), static_cast<rapidjson::SizeType>(s.stream_id.size()));
    w.Key("version");
    w.Int64(s.version);
    w.Key("last_position");
    w.Int64(s.last_position);
    w.EndObject();
  }
  w.EndArray();
  w.Key("position");
  w.Int64(result.position);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

append_result decode_append_result(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  const auto bad = [] { return store_error("a stored idempotency result is corrupt"); };
  if (doc.HasParseError() || !doc.IsObject()) throw bad();
  const auto streams = doc.FindMember("streams");
  const auto position = doc.FindMember("position");
  if (streams == doc.MemberEnd() || !streams->value.IsArray() || position == doc.MemberEnd() ||
      !position->value.IsInt64()) {
    throw bad();
  }
  append_result result;
  result.position = position->value.GetInt64();
  for (const auto& s : streams->value.GetArray()) {
    if (!s.IsObject()) throw bad();
    const auto id = s.FindMember("stream_id");
    const auto version = s.FindMember("version");
    const auto last = s.FindMember("last_position");
    if (id == s.MemberEnd() || !id->value.IsString() || version == s.MemberEnd() ||
        !version->value.IsInt64() || last == s.MemberEnd() || !last->value.IsInt64()) {
      throw bad();
    }
    result.streams.push_back({std::string(id->value.GetString(), id->value.GetStringLength()),
                              version->value.GetInt64(), last->value.GetInt64()});
  }
  return result;
}

}  // namespace realmkit::infra
