// The HTTP client of outgoing webhooks: one POST to addresses checked beforehand
// (infra/webhooks/webhook_target.hpp), never to a name resolved here, so what was checked is what
// is connected to. Plain HTTP, or HTTPS with the system's trusted certificates and the host name
// verified. Short deadlines: a receiver that stalls costs a sender thread seconds, not minutes.
// Redirects are never followed (the answer is returned as it came). Other clients of a configured
// HTTP service (an external lead scoring model) use it too, for the same checks and deadlines.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "infra/webhooks/webhook_target.hpp"

namespace realmkit::app {

struct webhook_sender_options {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};  // over every address
  // From the connection until the whole answer is read (TLS handshake included).
  std::chrono::milliseconds response_timeout{std::chrono::seconds(10)};
  std::size_t max_response_bytes = 64 * 1024;  // a longer body is cut, the status still counts
  std::string user_agent = "RealmKit-Webhooks/1.0";
  // Certificates trusted for https:// receivers, in PEM; empty: the system's.
  std::string ca_file;
};

struct webhook_post {
  infra::webhooks::target_url url;
  std::vector<infra::webhooks::ip_address> addresses;  // tried in order
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Host, UA, Content-*
};

struct webhook_answer {
  std::optional<int> status;               // nullopt when no answer came
  std::string error;                       // why none came ("connect timed out", …)
  std::optional<std::string> retry_after;  // the Retry-After header, as sent
  // The answer's body, when it was read whole within max_response_bytes; empty otherwise.
  std::string body;
  std::chrono::microseconds duration{};  // from the first connect to the last byte
};

class webhook_sender {
 public:
  explicit webhook_sender(webhook_sender_options options = {});
  ~webhook_sender();
  webhook_sender(const webhook_sender&) = delete;
  webhook_sender& operator=(const webhook_sender&) = delete;

  // Blocks the calling thread for at most connect_timeout + response_timeout. Thread-safe.
  webhook_answer post(const webhook_post& request) const;

 private:
  webhook_sender_options options_;
  struct tls;
  std::unique_ptr<tls> tls_;  // the TLS client context, shared by every https:// POST
};

}  // namespace realmkit::app
