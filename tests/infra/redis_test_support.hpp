// What the Redis tests share: the server from REALMKIT_TEST_REDIS_URL (a test fails, never passes
// silently, when it is not set), key prefixes no other test uses, a private redis-server that a
// test may stop and restart, and waiting on a condition with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>

namespace realmkit::testing {

// The server URL; FAILs the running test when REALMKIT_TEST_REDIS_URL is not set.
std::string redis_test_url();
// A random name (hex), for limiter names, user ids and rooms no other test or run shares.
std::string unique_redis_name(const std::string& prefix);

// Polls `condition` until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds{5});

// A redis-server of the test's own, on a free loopback port in a temporary directory, for tests
// that take Redis away. Runs as a child process so it is always reaped; killed when destroyed.
class private_redis_server {
 public:
  private_redis_server();  // starts it and waits until it answers
  ~private_redis_server();
  private_redis_server(const private_redis_server&) = delete;
  private_redis_server& operator=(const private_redis_server&) = delete;

  // Kills it (SIGKILL: a crash, every connection drops) and waits until it is gone.
  void stop();
  // Starts it again on the same port and waits until it answers.
  void start();
  bool running() const { return pid_ > 0; }
  std::string url() const;
  int port() const { return port_; }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace realmkit::testing
