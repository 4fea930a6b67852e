// The limits of one WebSocket connection (realtime/websocket_session.hpp), in a header of their own
// so that the wiring can set them without including Beast's WebSocket stream.
#pragma once

#include <chrono>
#include <cstddef>

namespace realmkit::realtime {

struct session_options {
  // A client frame larger than this closes the connection with 1009.
  std::size_t max_message_bytes = 16 * 1024;
  // What may wait for a client that reads slowly; beyond either bound it is sent `resync` and
  // closed (1013), so it never slows the others or grows memory without bound.
  std::size_t max_queue_bytes = 1024 * 1024;
  std::size_t max_queue_messages = 4096;
  // No frame (nor pong to the server's ping, sent at half of it) for this long closes the
  // connection.
  std::chrono::milliseconds idle_timeout{60'000};
  // The kernel's send buffer of each connection (SO_SNDBUF; 0: the system's default, which grows to
  // megabytes): small, so that a client that stops reading is noticed within a few hundred KiB and
  // twenty thousand connections do not pin gigabytes of kernel memory.
  int send_buffer_bytes = 64 * 1024;
  // A slow client's socket is cut this long after its resync was queued, read or not.
  std::chrono::milliseconds drop_timeout{5'000};
  // Client frames per second, with bursts up to `burst`; beyond, frames get `error`
  // ("rate_limited"), and a client that goes on (`burst` refusals in a row) is closed (1008).
  double frames_per_second = 20;
  double burst = 40;
};

}  // namespace realmkit::realtime
