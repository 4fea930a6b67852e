// A store backend with the webhook tables beside it, and helpers to append events and subscribe.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "app/webhook_dispatcher.hpp"
#include "infra/event_metadata.hpp"
#include "infra/ids.hpp"
#include "infra/webhooks/webhook_signature.hpp"
#include "infra/webhooks/webhook_store.hpp"
#include "tests/infra/store_backends.hpp"

namespace realmkit::test::webhooks {

namespace wh = infra::webhooks;
using namespace std::chrono_literals;

inline infra::timestamp now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// Polls `done` until it holds or `timeout` passes; returns whether it held.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Quick settings for tests: 100 ms, 200 ms, 400 ms… between attempts, no jitter, short deadlines.
inline app::webhook_dispatcher_options fast_dispatch(bool allow_private = true) {
  app::webhook_dispatcher_options o;
  o.poll_interval = 20ms;
  o.batch = 100;
  o.senders = 2;
  o.retry = {.base = 100ms, .cap = 2s, .max_attempts = 5, .jitter = 0};
  o.targets.allow_private = allow_private;
  o.http.connect_timeout = 1s;
  o.http.response_timeout = 2s;
  o.lease = 10s;
  return o;
}

template <class Backend>
class webhook_env {
 public:
  webhook_env() : backend_(Backend::make_store_and_database()), store_(*backend_.db) {}

  infra::event_store& log() { return *backend_.store; }
  infra::sql::database& db() { return *backend_.db; }
  wh::webhook_store& store() { return store_; }

  // Appends one event; returns it as stored.
  infra::recorded_event append(const std::string& type, const std::string& stream,
                               const std::string& data = R"({"id":"x"})") {
    infra::new_event e{infra::new_uuid_v7(), type, 1, data,
                       infra::encode_metadata({.actor = "u-admin",
                                               .correlation_id = "req-1",
                                               .idempotency_key = "idem-1",
                                               .ip = "203.0.113.9"})};
    const auto r = log().append(infra::stream_write{stream, std::nullopt, {e}});
    return log().read_all(r.position - 1, 1).at(0);
  }

  // A subscription to `url` for `patterns`, examining the log after `position` (the head when
  // negative); returns its id, and its secret in `secret`.
  std::string subscribe(const std::string& url, std::vector<std::string> patterns,
                        std::string& secret, std::int64_t position = -1, bool active = true) {
    wh::subscription s;
    s.id = infra::new_uuid_v7();
    s.url = url;
    s.event_types = std::move(patterns);
    s.active = active;
    s.position = position < 0 ? log().head_position() : position;
    s.created_by = "u-admin";
    s.created_at = s.updated_at = now();
    secret = wh::new_secret();
    store_.create(s, secret);
    return s.id;
  }

  std::vector<wh::delivery> deliveries(const std::string& subscription,
                                       std::optional<wh::delivery_status> status = {}) {
    return store_.deliveries(subscription, status, std::nullopt, 1000).items;
  }

 private:
  testing::store_and_database backend_;
  wh::webhook_store store_;
};

}  // namespace realmkit::test::webhooks
