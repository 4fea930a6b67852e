// The room bus of the distributed mode: room messages over Redis pub/sub (ARCHITECTURE §5),
// channel realmkit:room:<room>, payload encoded by room_message_codec.hpp.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "infra/metrics.hpp"
#include "infra/redis/redis_connection.hpp"
#include "infra/room_bus.hpp"

namespace realmkit::infra::redis {

inline constexpr std::string_view kRoomChannelPrefix = "realmkit:room:";

struct redis_room_bus_options {
  std::string url;  // redis://…; parsed (and refused with std::invalid_argument) by the constructor
  std::chrono::milliseconds reconnect_backoff_min{50};
  std::chrono::milliseconds reconnect_backoff_max{2000};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds io_timeout{1000};  // for PUBLISH
  // How long the reader waits on the socket before it checks whether the bus is being destroyed:
  // bounds how long destruction takes.
  std::chrono::milliseconds read_timeout{200};
  metrics_registry* metrics = nullptr;  // nullable; must outlive the bus
  // Called on the reader thread each time the subscription is re-established after it was lost
  // (or after the first connection attempt failed): messages of the outage are gone (pub/sub is
  // at-most-once), so a hub checks its rooms against the room-update log here.
  std::function<void()> on_resubscribed;
};

// Publishing is best effort: the projector publishes after its transaction committed, and a hub
// that misses a message sees the gap in the room's seq (or is told by on_resubscribed) and
// reloads from the room-update log in the database. A retried PUBLISH may deliver a message
// twice; hubs drop a seq they have already seen.
class redis_room_bus final : public room_bus {
 public:
  // Connects nothing yet: the publisher connects on the first publish, the reader on the first
  // subscribe. Throws std::invalid_argument for a bad URL or backoff.
  explicit redis_room_bus(redis_room_bus_options options);
  // Stops the reader thread (within about read_timeout) and closes the connections.
  ~redis_room_bus() override;
  redis_room_bus(const redis_room_bus&) = delete;
  redis_room_bus& operator=(const redis_room_bus&) = delete;

  // One PUBLISH per message, pipelined, on the publisher connection. On a failure it reconnects
  // and retries once, then throws redis_unavailable (or redis_error for an error reply).
  void publish(std::span<const room_message> messages) override;

  // Handlers run on the bus's reader thread, one at a time, with consecutive messages that were
  // already buffered together in one span. A handler must not destroy a subscription of this bus
  // (that waits for the handlers to finish). Destroying the returned token unsubscribes: when the
  // destructor returns, the handler is not running and never runs again.
  [[nodiscard]] std::unique_ptr<subscription> subscribe(handler h) override;

  // True while the reader holds an active PSUBSCRIBE.
  bool subscribed() const { return subscribed_.load(); }
  // Waits until the reader is subscribed, at most `timeout`; false on timeout. For readiness
  // checks and tests: messages published before that are not received.
  bool wait_until_subscribed(std::chrono::milliseconds timeout) const;

 private:
  struct handlers;  // shared with the tokens, so a token may outlive the bus
  class token;

  void run_reader();
  void deliver(std::span<const room_message> messages);
  void handle_push(const redis_reply& reply, std::vector<room_message>& batch);
  redis_connection_options connection_options() const;

  redis_room_bus_options options_;
  redis_url url_;
  std::shared_ptr<handlers> handlers_;

  std::mutex publish_mutex_;  // guards publisher_
  std::unique_ptr<redis_connection> publisher_;

  // Guards starting reader_; held while stop_ or subscribed_ change, so that reader_cv_ waits
  // (the reader's backoff, wait_until_subscribed) never miss a change.
  mutable std::mutex reader_mutex_;
  mutable std::condition_variable reader_cv_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> subscribed_{false};
  std::thread reader_;

  counter* reconnects_ = nullptr;
  counter* malformed_ = nullptr;
  counter* published_ = nullptr;
  counter* publish_failures_ = nullptr;
  counter* received_ = nullptr;
};

}  // namespace realmkit::infra::redis
