// A webhook receiver inside the test: an HTTP server on 127.0.0.1 at an ephemeral port that
// records every request it gets (headers, body, when it came) and answers as the test scripts it:
// a status per request in order (the last one repeats), optionally after a delay; or as a
// function of the request, for a test server of another protocol (an OpenAI-compatible model).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace realmkit::test::webhooks {

struct received {
  std::string target;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::chrono::steady_clock::time_point at;
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct scripted_answer {
  int status = 200;
  std::chrono::milliseconds delay{0};  // before answering
  std::map<std::string, std::string> headers;
  std::string body = "ok";
};

using responder = std::function<scripted_answer(const received&)>;

class local_receiver {
 public:
  explicit local_receiver(std::vector<scripted_answer> script = {{}});
  explicit local_receiver(responder respond);
  ~local_receiver();
  local_receiver(const local_receiver&) = delete;
  local_receiver& operator=(const local_receiver&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Waits until `count` requests have come, at most `timeout`; returns what came.
  std::vector<received> wait_for(std::size_t count, std::chrono::milliseconds timeout);
  std::vector<received> requests();

 private:
  void serve();

  struct impl;
  std::unique_ptr<impl> impl_;
  std::uint16_t port_ = 0;
  std::vector<scripted_answer> script_;
  responder respond_;
  std::mutex mutex_;  // guards requests_, respond_ and stopping_
  std::condition_variable changed_;
  std::vector<received> requests_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace realmkit::test::webhooks
