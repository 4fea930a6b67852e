#include "infra/postgres/postgres_listener.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <charconv>
#include <memory>
#include <system_error>

#include "infra/postgres/postgres_connection.hpp"

namespace realmkit::infra::postgres_detail {
namespace {

constexpr int kReconnectDelayMs = 1000;

class head_receiver final : public pqxx::notification_receiver {
 public:
  head_receiver(pqxx::connection& connection, const std::string& channel,
                const std::function<void(std::int64_t)>& on_position)
      : pqxx::notification_receiver(connection, channel), on_position_(on_position) {}

  void operator()(const std::string& payload, int) override {
    std::int64_t head = 0;
    const auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), head);
    // A payload we did not write still means "something was appended": report it as such.
    on_position_(ec == std::errc() && end == payload.data() + payload.size() ? head : -1);
  }

 private:
  const std::function<void(std::int64_t)>& on_position_;
};

}  // namespace

position_listener::position_listener(const postgres_store_options& options,
                                     std::function<void(std::int64_t)> on_position)
    : options_(options), on_position_(std::move(on_position)) {
  if (::pipe(stop_pipe_) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe for the listener");
  }
  thread_ = std::thread([this] { run(); });
}

position_listener::~position_listener() {
  const char byte = 1;
  [[maybe_unused]] const auto written = ::write(stop_pipe_[1], &byte, 1);
  thread_.join();
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

bool position_listener::wait_readable(int fd, int timeout_ms) {
  pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {fd, POLLIN, 0}};
  const int count = fd >= 0 ? 2 : 1;
  while (::poll(fds, count, timeout_ms) < 0) {
    if (errno != EINTR) return false;
  }
  return (fds[0].revents & POLLIN) == 0;
}

void position_listener::run() {
  const std::string channel = notify_channel(options_.schema);
  bool degraded = false;  // logged once per outage, not once per reconnect attempt
  for (;;) {
    std::unique_ptr<pqxx::connection> connection;
    std::unique_ptr<head_receiver> receiver;
    try {
      connection = open_connection(options_, "listener");
      receiver = std::make_unique<head_receiver>(*connection, channel, on_position_);
      listening_ = true;
      {
        pqxx::nontransaction tx(*connection, "listener head");
        on_position_(tx.exec1("SELECT last FROM event_durable_position")[0].as<std::int64_t>());
      }
      if (degraded) spdlog::info("PostgreSQL listener for schema {} is back", options_.schema);
      degraded = false;
      for (;;) {
        if (!wait_readable(connection->sock(), -1)) break;
        connection->get_notifs();
        if (connection_lost(*connection)) throw pqxx::broken_connection("listener connection lost");
      }
      listening_ = false;
      return;  // stopping: the receiver (UNLISTEN) goes before its connection
    } catch (const std::exception& e) {
      listening_ = false;
      if (!degraded) {
        spdlog::warn(
            "PostgreSQL listener for schema {} is down ({}); waiters poll every {} ms until it "
            "reconnects",
            options_.schema, e.what(), options_.poll_interval.count());
      }
      degraded = true;
      receiver.reset();
      connection.reset();
      if (!wait_readable(-1, kReconnectDelayMs)) return;
    }
  }
}

}  // namespace realmkit::infra::postgres_detail
