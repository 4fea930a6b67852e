// Wakes readers of the PostgreSQL store on appends made by other processes: a dedicated connection
// LISTENs on the schema's channel, whose payload is the new head position.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

#include "infra/postgres/postgres_event_store.hpp"

namespace realmkit::infra::postgres_detail {

class position_listener {
 public:
  // Connects on its own thread and reconnects when the connection drops; `on_position` is called
  // from that thread with every notified head, and with the current head after each (re)connect
  // since notifications sent while disconnected are lost.
  position_listener(const postgres_store_options& options,
                    std::function<void(std::int64_t)> on_position);
  ~position_listener();

  position_listener(const position_listener&) = delete;
  position_listener& operator=(const position_listener&) = delete;

  // True while LISTEN is active (for health checks and tests).
  bool listening() const { return listening_.load(); }

 private:
  void run();
  // Waits for `fd` to be readable or the stop pipe to fire; false when stopping.
  bool wait_readable(int fd, int timeout_ms);

  const postgres_store_options& options_;
  std::function<void(std::int64_t)> on_position_;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<bool> listening_{false};
  std::thread thread_;
};

}  // namespace realmkit::infra::postgres_detail
