// What the cluster tests do to a running cluster: stage moves of the demo deals through the API
// processes from several threads (retrying conflicts with the version the 409 names), and
// WebSocket clients on the hubs that record every frame of their rooms.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace realmkit::test {
class http_connection;
}

namespace realmkit::testing::cluster {

using namespace std::chrono_literals;

struct demo_board {
  std::string pipeline;
  std::vector<std::string> stages;
  // The open deals on the board with their versions.
  std::vector<std::pair<std::string, std::int64_t>> deals;
};

// Logs in as `email` on the API at `port`; REQUIREs an access token.
std::string login(std::uint16_t port, const std::string& email, const std::string& password);
// The demo pipeline's board as the API serves it (REQUIREs one pipeline with open deals).
demo_board read_board(std::uint16_t port, const std::string& token);

// One event the API acknowledged (a 2xx that moved the deal to a new version).
struct acknowledged {
  std::string stream_id;
  std::string deal;
  std::int64_t version = 0;
  std::int64_t position = 0;
};

struct driver_options {
  std::vector<std::uint16_t> api_ports;
  std::string token;
  demo_board board;
  int commands = 1'000;  // acknowledged stage moves to make
  int threads = 6;
};

// Makes `commands` stage moves on its threads, spread over the API ports.
class command_driver {
 public:
  explicit command_driver(driver_options options);
  // Stops early if not done, and joins.
  ~command_driver();
  command_driver(const command_driver&) = delete;
  command_driver& operator=(const command_driver&) = delete;

  const std::string& pipeline() const { return options_.board.pipeline; }
  int acknowledged_count() const { return acked_.load(); }
  bool done() const { return finished_.load() == static_cast<int>(threads_.size()); }
  // Joins the threads once they finished (or the deadline passed: they are told to stop).
  bool wait(std::chrono::milliseconds timeout);
  std::chrono::milliseconds elapsed() const;

  std::vector<acknowledged> acks() const;
  std::uint64_t conflicts() const { return conflicts_.load(); }
  std::uint64_t no_ops() const { return no_ops_.load(); }
  std::uint64_t retried_errors() const { return retried_.load(); }
  // Commands given up on (an unexpected answer), with a sample of the answers.
  std::vector<std::string> failures() const;

 private:
  void run(int thread);
  // One claimed stage move, retried until acknowledged; false when given up.
  bool move_one(int thread, std::unique_ptr<test::http_connection>& link, std::uint64_t& random);

  driver_options options_;
  std::vector<std::atomic<std::int64_t>> versions_;  // the last version known per deal
  std::atomic<int> claimed_{0};
  std::atomic<int> acked_{0};
  std::atomic<int> finished_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> conflicts_{0};
  std::atomic<std::uint64_t> no_ops_{0};
  std::atomic<std::uint64_t> retried_{0};
  std::chrono::steady_clock::time_point started_;
  std::atomic<std::int64_t> finished_at_ns_{0};
  mutable std::mutex mutex_;  // guards acks_ and failures_
  std::vector<acknowledged> acks_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

// A frame of a room as a client received it.
struct delivery {
  std::int64_t seq = 0;
  std::int64_t position = 0;
  std::string kind;
};

// One WebSocket client on a hub, subscribed (since position 0, so from each room's first
// update) to its rooms, reading every frame on its own thread.
class room_watcher {
 public:
  room_watcher(std::string name, std::uint16_t port, const std::string& token,
               std::vector<std::string> rooms);
  ~room_watcher();
  room_watcher(const room_watcher&) = delete;
  room_watcher& operator=(const room_watcher&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& rooms() const { return rooms_; }
  // Waits until every room answered "subscribed"; false on an error frame or the deadline.
  bool wait_subscribed(std::chrono::milliseconds timeout);
  // Waits until each room's last received seq reached the given head.
  bool wait_heads(const std::map<std::string, std::int64_t>& heads,
                  std::chrono::milliseconds timeout);

  std::map<std::string, std::vector<delivery>> deliveries() const;
  std::vector<std::string> resyncs() const;  // the resync frames received
  std::vector<std::string> errors() const;   // error frames, and why the connection ended
  bool connected() const;

 private:
  void do_read();
  void on_frame(const std::string& text);

  std::string name_;
  std::vector<std::string> rooms_;
  struct connection;
  std::unique_ptr<connection> connection_;
  std::atomic<bool> closed_{false};
  mutable std::mutex mutex_;  // guards everything below
  std::map<std::string, std::vector<delivery>> deliveries_;
  std::map<std::string, bool> subscribed_;
  std::vector<std::string> resyncs_;
  std::vector<std::string> errors_;
  std::thread reader_;
};

}  // namespace realmkit::testing::cluster
