// A WebSocket client for the hub's tests, on Beast: connects to /ws on a loopback port, sends text
// frames, and reads frames with deadlines (no sleeps). Beast stays in the .cpp.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace realmkit::test {

struct ws_handshake {
  std::vector<std::pair<std::string, std::string>> headers;  // Authorization, Origin, Cookie...
  std::vector<std::string> subprotocols;                     // offered in Sec-WebSocket-Protocol
  std::string target = "/ws";
  int receive_buffer = 0;  // SO_RCVBUF before connecting (a slow client); 0: the default
};

class ws_client {
 public:
  ~ws_client();
  ws_client(ws_client&&) noexcept;

  // The open connection, or the HTTP status and body of a refused upgrade. Throws when the
  // server cannot be reached.
  struct outcome;
  static outcome connect(std::uint16_t port, const ws_handshake& h = {});

  // The subprotocol the server selected ("" for none).
  const std::string& subprotocol() const;

  void send(const std::string& text);
  // The next frame's text; nullopt when the connection closed (see close_code()) or nothing came
  // within `timeout`.
  std::optional<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The next frame as JSON (REQUIREs one within the timeout).
  rapidjson::Document read_json(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The next frame whose "op" is `op`, skipping others (REQUIREs one).
  rapidjson::Document read_op(const std::string& op,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The close code the server sent (0 while open, or when the connection just broke).
  int close_code() const;
  bool closed() const;
  void close();

 private:
  struct impl;
  explicit ws_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

struct ws_client::outcome {
  std::optional<ws_client> client;
  int status = 0;  // of a refused upgrade
  std::string body;
};

}  // namespace realmkit::test
