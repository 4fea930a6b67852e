#include "infra/room_bus.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace realmkit::infra {

std::string update_frame(const room_message& m) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("op");
  w.String("update");
  w.Key("room");
  w.String(m.room.data(), static_cast<rapidjson::SizeType>(m.room.size()));
  w.Key("seq");
  w.Int64(m.seq);
  w.Key("position");
  w.Int64(m.position);
  w.Key("kind");
  w.String(m.kind.data(), static_cast<rapidjson::SizeType>(m.kind.size()));
  w.Key("data");
  w.RawValue(m.data.data(), m.data.size(), rapidjson::kObjectType);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

class in_process_room_bus::token final : public room_bus::subscription {
 public:
  token(in_process_room_bus& bus, std::uint64_t id) : bus_(bus), id_(id) {}
  ~token() override {
    std::lock_guard lock(bus_.mutex_);
    std::erase_if(bus_.handlers_, [&](const auto& h) { return h.first == id_; });
  }

 private:
  in_process_room_bus& bus_;
  std::uint64_t id_;
};

void in_process_room_bus::publish(std::span<const room_message> messages) {
  if (messages.empty()) return;
  std::lock_guard lock(mutex_);
  for (const auto& [id, h] : handlers_) h(messages);
}

std::unique_ptr<room_bus::subscription> in_process_room_bus::subscribe(handler h) {
  std::lock_guard lock(mutex_);
  const auto id = next_id_++;
  handlers_.emplace_back(id, std::move(h));
  return std::make_unique<token>(*this, id);
}

}  // namespace realmkit::infra
