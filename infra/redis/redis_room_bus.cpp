#include "infra/redis/redis_room_bus.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "infra/redis/room_message_codec.hpp"

namespace realmkit::infra::redis {
namespace {

constexpr std::string_view kPattern = "realmkit:room:*";
// A burst bigger than this is handed over in several spans, so one handler call stays bounded.
constexpr std::size_t kMaxBatch = 512;

}  // namespace

struct redis_room_bus::handlers {
  std::mutex mutex;  // guards list and next_id; held while handlers run, so that an unsubscribe
                     // returns only once its handler can no longer run
  std::vector<std::pair<std::uint64_t, handler>> list;
  std::uint64_t next_id = 1;
};

class redis_room_bus::token final : public room_bus::subscription {
 public:
  token(std::shared_ptr<handlers> handlers, std::uint64_t id)
      : handlers_(std::move(handlers)), id_(id) {}
  ~token() override {
    std::lock_guard lock(handlers_->mutex);
    std::erase_if(handlers_->list, [&](const auto& h) { return h.first == id_; });
  }

 private:
  std::shared_ptr<handlers> handlers_;
  std::uint64_t id_;
};

redis_room_bus::redis_room_bus(redis_room_bus_options options)
    : options_(std::move(options)),
      url_(parse_redis_url(options_.url)),
      handlers_(std::make_shared<handlers>()) {
  if (options_.reconnect_backoff_min.count() <= 0 ||
      options_.reconnect_backoff_max < options_.reconnect_backoff_min) {
    throw std::invalid_argument("redis room bus: need 0 < reconnect_backoff_min <= max");
  }
  if (options_.read_timeout.count() <= 0) {
    throw std::invalid_argument("redis room bus: read_timeout must be > 0");
  }
  if (auto* m = options_.metrics) {
    constexpr auto kMessages = "realmkit_redis_room_bus_messages_total";
    constexpr auto kMessagesHelp = "Room messages through Redis, by direction and outcome";
    published_ = &m->counter_for(kMessages, kMessagesHelp, {{"outcome", "published"}});
    received_ = &m->counter_for(kMessages, kMessagesHelp, {{"outcome", "received"}});
    malformed_ = &m->counter_for(kMessages, kMessagesHelp, {{"outcome", "malformed"}});
    publish_failures_ = &m->counter_for(kMessages, kMessagesHelp, {{"outcome", "publish_failed"}});
    reconnects_ = &m->counter_for("realmkit_redis_room_bus_reconnects_total",
                                  "Times the room bus subscriber re-subscribed after losing Redis");
  }
}

redis_room_bus::~redis_room_bus() {
  {
    std::lock_guard lock(reader_mutex_);
    stop_ = true;
  }
  reader_cv_.notify_all();
  if (reader_.joinable()) reader_.join();
}

redis_connection_options redis_room_bus::connection_options() const {
  return {url_, options_.connect_timeout, options_.io_timeout};
}

void redis_room_bus::publish(std::span<const room_message> messages) {
  if (messages.empty()) return;
  std::vector<std::string> channels;
  std::vector<std::string> payloads;
  channels.reserve(messages.size());
  payloads.reserve(messages.size());
  for (const auto& m : messages) {
    channels.push_back(std::string(kRoomChannelPrefix) + m.room);
    payloads.push_back(encode_room_message(m));
  }
  std::lock_guard lock(publish_mutex_);
  for (int attempt = 0;; ++attempt) {
    try {
      if (!publisher_ || publisher_->broken()) {
        publisher_.reset();
        publisher_ = std::make_unique<redis_connection>(connection_options());
      }
      for (std::size_t i = 0; i < messages.size(); ++i) {
        publisher_->append({"PUBLISH", channels[i], payloads[i]});
      }
      // Every reply is read before any error is thrown, so the connection stays in step.
      std::optional<redis_error> first_error;
      for (std::size_t i = 0; i < messages.size(); ++i) {
        auto reply = publisher_->read_reply();
        if (reply.is_error() && !first_error) first_error.emplace("Redis PUBLISH: " + reply.str);
      }
      if (first_error) {
        if (publish_failures_) publish_failures_->inc(messages.size());
        throw *first_error;
      }
      if (published_) published_->inc(messages.size());
      return;
    } catch (const redis_unavailable& e) {
      publisher_.reset();
      if (attempt >= 1) {
        if (publish_failures_) publish_failures_->inc(messages.size());
        throw;
      }
      spdlog::debug("redis room bus: publish failed ({}), reconnecting once", e.what());
    }
  }
}

std::unique_ptr<room_bus::subscription> redis_room_bus::subscribe(handler h) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(handlers_->mutex);
    id = handlers_->next_id++;
    handlers_->list.emplace_back(id, std::move(h));
  }
  auto result = std::make_unique<token>(handlers_, id);
  std::lock_guard lock(reader_mutex_);
  if (!reader_.joinable() && !stop_) reader_ = std::thread([this] { run_reader(); });
  return result;
}

bool redis_room_bus::wait_until_subscribed(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(reader_mutex_);
  return reader_cv_.wait_for(lock, timeout, [&] { return subscribed_.load() || stop_.load(); }) &&
         subscribed_.load();
}

void redis_room_bus::deliver(std::span<const room_message> messages) {
  if (messages.empty()) return;
  if (received_) received_->inc(messages.size());
  std::lock_guard lock(handlers_->mutex);
  for (const auto& [id, h] : handlers_->list) {
    try {
      h(messages);
    } catch (const std::exception& e) {
      // One failing subscriber must not stop delivery to the others nor kill the reader.
      spdlog::error("redis room bus: a subscriber threw: {}", e.what());
    }
  }
}

// A pushed reply: ["pmessage", pattern, channel, payload]. Subscription confirmations and other
// pushes are not messages.
void redis_room_bus::handle_push(const redis_reply& reply, std::vector<room_message>& batch) {
  if (reply.kind != redis_reply::type::array || reply.elements.size() != 4 ||
      reply.elements[0].str != "pmessage") {
    return;
  }
  const auto& channel = reply.elements[2].str;
  const auto& payload = reply.elements[3].str;
  std::string error;
  auto message = decode_room_message(payload, &error);
  if (message && channel != std::string(kRoomChannelPrefix) + message->room) {
    message.reset();
    error = "the room does not match the channel";
  }
  if (!message) {
    if (malformed_) malformed_->inc();
    spdlog::warn("redis room bus: skipped a malformed message on {}: {}", channel, error);
    return;
  }
  batch.push_back(std::move(*message));
}

void redis_room_bus::run_reader() {
  auto backoff = options_.reconnect_backoff_min;
  bool ever_failed = false;    // on_resubscribed is for re-subscriptions only
  bool outage_logged = false;  // one warning per outage, not one per attempt
  while (!stop_) {
    try {
      redis_connection connection(connection_options());
      const std::string_view psubscribe[] = {"PSUBSCRIBE", kPattern};
      connection.append(psubscribe);
      // The confirmation may come after the first messages are buffered; wait for it only.
      for (;;) {
        if (stop_) return;
        auto reply = connection.read_reply_for(options_.read_timeout);
        if (!reply) continue;
        if (reply->is_error()) throw redis_error("PSUBSCRIBE: " + reply->str);
        if (reply->kind == redis_reply::type::array && !reply->elements.empty() &&
            reply->elements[0].str == "psubscribe") {
          break;
        }
      }
      {
        std::lock_guard lock(reader_mutex_);
        subscribed_ = true;
      }
      reader_cv_.notify_all();
      if (ever_failed) {
        if (reconnects_) reconnects_->inc();
        spdlog::info("redis room bus: subscribed again to {} at {}", kPattern, url_.masked());
        if (options_.on_resubscribed) {
          try {
            options_.on_resubscribed();
          } catch (const std::exception& e) {
            spdlog::error("redis room bus: on_resubscribed threw: {}", e.what());
          }
        }
      }
      backoff = options_.reconnect_backoff_min;
      outage_logged = false;

      std::vector<room_message> batch;
      while (!stop_) {
        auto reply = connection.read_reply_for(options_.read_timeout);
        if (!reply) continue;
        handle_push(*reply, batch);
        // What has already arrived goes out in the same call, so a burst costs one handler call.
        while (batch.size() < kMaxBatch) {
          auto more = connection.buffered_reply();
          if (!more) break;
          handle_push(*more, batch);
        }
        deliver(batch);
        batch.clear();
      }
      return;
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(reader_mutex_);
        subscribed_ = false;
      }
      ever_failed = true;
      if (!outage_logged) {
        spdlog::warn(
            "redis room bus: lost the subscription at {} ({}); retrying from {} ms up to {} ms",
            url_.masked(), e.what(), options_.reconnect_backoff_min.count(),
            options_.reconnect_backoff_max.count());
        outage_logged = true;
      }
    }
    std::unique_lock lock(reader_mutex_);
    reader_cv_.wait_for(lock, backoff, [&] { return stop_.load(); });
    backoff = std::min(backoff * 2, options_.reconnect_backoff_max);
  }
}

}  // namespace realmkit::infra::redis
