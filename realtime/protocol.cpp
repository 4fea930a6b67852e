#include "realtime/protocol.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace realmkit::realtime {
namespace {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

void string(writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <class Body>
std::string frame(std::string_view op, Body body) {
  rapidjson::StringBuffer buffer;
  writer w(buffer);
  w.StartObject();
  w.Key("op");
  string(w, op);
  body(w);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string_view text_member(const rapidjson::Value& o, const char* name) {
  const auto it = o.FindMember(name);
  if (it == o.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

}  // namespace

std::optional<room_name> parse_room(std::string_view room) {
  const auto colon = room.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto kind = room.substr(0, colon);
  const auto id = room.substr(colon + 1);
  if (!valid_id(id)) return std::nullopt;
  room_name out{room_kind::pipeline, std::string(id)};
  if (kind == "pipeline") {
    out.kind = room_kind::pipeline;
  } else if (kind == "deal") {
    out.kind = room_kind::deal;
  } else if (kind == "contact") {
    out.kind = room_kind::contact;
  } else if (kind == "user") {
    out.kind = room_kind::user;
  } else {
    return std::nullopt;
  }
  return out;
}

std::variant<client_message, protocol_error> parse_client_message(std::string_view text) {
  rapidjson::Document doc;
  // Iterative: a deeply nested frame cannot exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return protocol_error{"malformed",
                          std::string("not JSON: ") +
                              rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                              std::to_string(doc.GetErrorOffset()),
                          {}};
  }
  if (!doc.IsObject()) return protocol_error{"malformed", "a frame is a JSON object", {}};
  const auto op_it = doc.FindMember("op");
  if (op_it == doc.MemberEnd() || !op_it->value.IsString()) {
    return protocol_error{"malformed", "op: a string is required", {}};
  }
  const std::string_view op(op_it->value.GetString(), op_it->value.GetStringLength());
  client_message m;
  if (op == "ping") {
    m.op = client_op::ping;
    return m;
  }
  if (op == "auth") {
    m.op = client_op::auth;
    m.token = std::string(text_member(doc, "token"));
    if (m.token.empty()) return protocol_error{"malformed", "token: a string is required", {}};
    return m;
  }
  if (op != "subscribe" && op != "unsubscribe") {
    return protocol_error{"unknown_op",
                          "op: expected subscribe, unsubscribe, ping or auth, not \"" +
                              std::string(op.substr(0, 40)) + "\"",
                          {}};
  }
  m.op = op == "subscribe" ? client_op::subscribe : client_op::unsubscribe;
  const auto room_it = doc.FindMember("room");
  if (room_it == doc.MemberEnd() || !room_it->value.IsString()) {
    return protocol_error{"malformed", "room: a string is required", {}};
  }
  m.room.assign(room_it->value.GetString(), room_it->value.GetStringLength());
  if (!parse_room(m.room)) {
    protocol_error e{
        "invalid_room", "room: expected pipeline:<id>, deal:<id>, contact:<id> or user:<id>", {}};
    if (m.room.size() <= 140) e.room = m.room;
    return e;
  }
  if (m.op == client_op::subscribe) {
    if (const auto since = doc.FindMember("since"); since != doc.MemberEnd()) {
      if (!since->value.IsInt64() || since->value.GetInt64() < 0) {
        return protocol_error{"malformed", "since: a position (a non-negative integer) is required",
                              m.room};
      }
      m.since = since->value.GetInt64();
    }
  }
  return m;
}

std::string subscribed_frame(std::string_view room, std::int64_t seq, std::int64_t position) {
  return frame("subscribed", [&](writer& w) {
    w.Key("room");
    string(w, room);
    w.Key("seq");
    w.Int64(seq);
    w.Key("position");
    w.Int64(position);
  });
}

std::string unsubscribed_frame(std::string_view room) {
  return frame("unsubscribed", [&](writer& w) {
    w.Key("room");
    string(w, room);
  });
}

std::string resync_frame(std::string_view room, std::int64_t position, std::string_view reason) {
  return frame("resync", [&](writer& w) {
    if (!room.empty()) {
      w.Key("room");
      string(w, room);
    }
    w.Key("position");
    w.Int64(position);
    w.Key("reason");
    string(w, reason);
  });
}

std::string error_frame(const protocol_error& e) {
  return frame("error", [&](writer& w) {
    w.Key("code");
    string(w, e.code);
    w.Key("detail");
    string(w, e.detail);
    if (!e.room.empty()) {
      w.Key("room");
      string(w, e.room);
    }
  });
}

std::string presence_frame(std::string_view room, std::string_view action,
                           std::string_view user_id) {
  return frame("presence", [&](writer& w) {
    w.Key("room");
    string(w, room);
    w.Key("action");
    string(w, action);
    w.Key("user_id");
    string(w, user_id);
  });
}

std::string presence_list_frame(std::string_view room, const std::vector<std::string>& users) {
  return frame("presence", [&](writer& w) {
    w.Key("room");
    string(w, room);
    w.Key("action");
    w.String("here");
    w.Key("users");
    w.StartArray();
    for (const auto& u : users) string(w, u);
    w.EndArray();
  });
}

std::string pong_frame() {
  return frame("pong", [](writer&) {});
}

std::string authenticated_frame(std::int64_t expires_at) {
  return frame("authenticated", [&](writer& w) {
    w.Key("expires_at");
    w.Int64(expires_at);
  });
}

}  // namespace realmkit::realtime
