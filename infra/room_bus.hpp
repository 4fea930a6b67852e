// Room messages and the bus that carries them from the projector to the real-time hubs: in-process
// in the embedded default (this file), Redis pub/sub in distributed mode. A message carries its
// room's sequence number and the global position of the event behind it, so a hub that misses
// one (Redis pub/sub is at-most-once) sees the gap and reloads from the retained room-update log.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "infra/event_store.hpp"

namespace realmkit::infra {

struct room_message {
  std::string room;           // "pipeline:<id>", "deal:<id>", "contact:<id>", "user:<id>"
  std::int64_t seq = 0;       // per room, from 1, contiguous
  std::int64_t position = 0;  // global position of the event that caused it
  std::string kind;           // the event's kind without version, "deal.stage_moved"
  std::string data;           // JSON object text
  timestamp recorded_at{};
  // Who may see it in a room shared by several teams' records (a pipeline): the team of the
  // record's owner when the event happened ("" when the owner has no team), or nullopt for a
  // message about no team-owned record. Not part of the frame.
  std::optional<std::string> team;

  bool operator==(const room_message&) const = default;
};

// The WebSocket frame of a message (ARCHITECTURE §5): {"op":"update","room":…,"seq":…,
// "position":…,"kind":…,"data":{…}}. Built once per message and shared by every session.
std::string update_frame(const room_message& message);

class room_bus {
 public:
  using handler = std::function<void(std::span<const room_message>)>;

  virtual ~room_bus() = default;
  // Hands messages (in position order, per room in seq order) to every subscriber. Never blocks
  // on a slow subscriber for long: subscribers queue, they do not process, on this thread.
  virtual void publish(std::span<const room_message> messages) = 0;

  // Keeps a subscription alive; unsubscribes when destroyed.
  class subscription {
   public:
    virtual ~subscription() = default;
  };
  // Every message of every room, on the publisher's thread (or the bus's own thread).
  [[nodiscard]] virtual std::unique_ptr<subscription> subscribe(handler h) = 0;
};

// The embedded default: subscribers are called on the publishing thread.
class in_process_room_bus final : public room_bus {
 public:
  void publish(std::span<const room_message> messages) override;
  std::unique_ptr<subscription> subscribe(handler h) override;

 private:
  class token;
  std::mutex mutex_;  // guards handlers_ and next_id_; held while publishing, so an
                      // unsubscribe returns only once its handler can no longer run
  std::vector<std::pair<std::uint64_t, handler>> handlers_;
  std::uint64_t next_id_ = 1;
};

}  // namespace realmkit::infra
