#include "infra/redis/room_message_codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace realmkit::infra::redis {
namespace {

using rapidjson::SizeType;

std::optional<room_message> refuse(std::string* error, std::string reason) {
  if (error != nullptr) *error = std::move(reason);
  return std::nullopt;
}

}  // namespace

std::string encode_room_message(const room_message& m) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("room");
  w.String(m.room.data(), static_cast<SizeType>(m.room.size()));
  w.Key("seq");
  w.Int64(m.seq);
  w.Key("position");
  w.Int64(m.position);
  w.Key("kind");
  w.String(m.kind.data(), static_cast<SizeType>(m.kind.size()));
  w.Key("data");
  w.RawValue(m.data.data(), m.data.size(), rapidjson::kObjectType);
  w.Key("recorded_at");
  w.Int64(m.recorded_at.time_since_epoch().count());
  if (m.team) {
    w.Key("team");
    w.String(m.team->data(), static_cast<SizeType>(m.team->size()));
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<room_message> decode_room_message(std::string_view payload, std::string* error) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(payload.data(), payload.size());
  if (doc.HasParseError()) {
    return refuse(error,
                  std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return refuse(error, "not a JSON object");

  room_message m;
  const auto room = doc.FindMember("room");
  if (room == doc.MemberEnd() || !room->value.IsString() || room->value.GetStringLength() == 0) {
    return refuse(error, "\"room\" must be a non-empty string");
  }
  m.room.assign(room->value.GetString(), room->value.GetStringLength());

  const auto seq = doc.FindMember("seq");
  if (seq == doc.MemberEnd() || !seq->value.IsInt64() || seq->value.GetInt64() < 1) {
    return refuse(error, "\"seq\" must be an integer >= 1");
  }
  m.seq = seq->value.GetInt64();

  const auto position = doc.FindMember("position");
  if (position == doc.MemberEnd() || !position->value.IsInt64() || position->value.GetInt64() < 0) {
    return refuse(error, "\"position\" must be an integer >= 0");
  }
  m.position = position->value.GetInt64();

  const auto kind = doc.FindMember("kind");
  if (kind == doc.MemberEnd() || !kind->value.IsString()) {
    return refuse(error, "\"kind\" must be a string");
  }
  m.kind.assign(kind->value.GetString(), kind->value.GetStringLength());

  const auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject()) {
    return refuse(error, "\"data\" must be an object");
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  data->value.Accept(w);
  m.data.assign(buffer.GetString(), buffer.GetSize());

  const auto recorded_at = doc.FindMember("recorded_at");
  if (recorded_at == doc.MemberEnd() || !recorded_at->value.IsInt64()) {
    return refuse(error, "\"recorded_at\" must be an integer (microseconds since the epoch)");
  }
  m.recorded_at = timestamp{std::chrono::microseconds{recorded_at->value.GetInt64()}};

  if (const auto team = doc.FindMember("team"); team != doc.MemberEnd()) {
    if (!team->value.IsString()) return refuse(error, "\"team\" must be a string when present");
    m.team.emplace(team->value.GetString(), team->value.GetStringLength());
  }
  return m;
}

}  // namespace realmkit::infra::redis
