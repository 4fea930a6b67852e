#include "tests/infra/redis_test_support.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "infra/redis/redis_connection.hpp"

extern char** environ;

namespace realmkit::testing {
namespace {

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool answers(const std::string& url) {
  try {
    infra::redis::redis_connection connection({infra::redis::parse_redis_url(url),
                                               std::chrono::milliseconds{200},
                                               std::chrono::milliseconds{200}});
    return connection.command({"PING"}).str == "PONG";
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string redis_test_url() {
  const char* url = std::getenv("REALMKIT_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') {
    FAIL(
        "REALMKIT_TEST_REDIS_URL is not set: the Redis tests need a server, e.g. "
        "redis://127.0.0.1:6379 (scripts/test starts one and sets it)");
  }
  return url;
}

std::string unique_redis_name(const std::string& prefix) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::ostringstream name;
  name << prefix << std::hex << random();
  return name.str();
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
}

private_redis_server::private_redis_server() {
  std::string templ = (std::filesystem::temp_directory_path() / "rk_redis_XXXXXX").string();
  REQUIRE(::mkdtemp(templ.data()) != nullptr);
  dir_ = templ;
  port_ = free_loopback_port();
  start();
}

private_redis_server::~private_redis_server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string private_redis_server::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_);
}

void private_redis_server::start() {
  REQUIRE(pid_ <= 0);
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--dir",
                                   dir_,
                                   "--logfile",
                                   dir_ + "/redis.log"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  REQUIRE(::posix_spawnp(&pid, "redis-server", nullptr, nullptr, argv.data(), environ) == 0);
  pid_ = pid;
  const bool up = eventually([&] { return answers(url()); }, std::chrono::seconds{5});
  REQUIRE_MESSAGE(
      up, "redis-server did not answer on port " << port_ << " (see " << dir_ << "/redis.log)");
}

void private_redis_server::stop() {
  REQUIRE(pid_ > 0);
  ::kill(pid_, SIGKILL);
  REQUIRE(::waitpid(pid_, nullptr, 0) == pid_);
  pid_ = -1;
}

}  // namespace realmkit::testing
