// Redis URLs, and commands, pipelines and replies on a real connection.
#include "infra/redis/redis_connection.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "infra/redis/redis_url.hpp"
#include "tests/infra/redis_test_support.hpp"

namespace rr = realmkit::infra::redis;
using realmkit::testing::redis_test_url;
using realmkit::testing::unique_redis_name;

namespace {

rr::redis_connection connect_test() {
  return rr::redis_connection({rr::parse_redis_url(redis_test_url())});
}

std::string invalid_message(const std::string& url) {
  try {
    rr::parse_redis_url(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("redis url: host alone takes the default port and db 0") {
  const auto url = rr::parse_redis_url("redis://cache.internal");
  CHECK(url.host == "cache.internal");
  CHECK(url.port == 6379);
  CHECK(url.db == 0);
  CHECK(url.user.empty());
  CHECK_FALSE(url.password.has_value());
  CHECK(url.masked() == "redis://cache.internal:6379");
}

TEST_CASE("redis url: user, password, port and db") {
  const auto url = rr::parse_redis_url("redis://app:s3cr%40t@10.0.0.5:6380/3");
  CHECK(url.host == "10.0.0.5");
  CHECK(url.port == 6380);
  CHECK(url.db == 3);
  CHECK(url.user == "app");
  CHECK(url.password == "s3cr@t");
  CHECK(url.masked() == "redis://app:***@10.0.0.5:6380/3");
}

TEST_CASE("redis url: password without user, trailing slash, IPv6") {
  const auto a = rr::parse_redis_url("redis://:pw@localhost:7000/");
  CHECK(a.user.empty());
  CHECK(a.password == "pw");
  CHECK(a.port == 7000);
  CHECK(a.db == 0);
  const auto b = rr::parse_redis_url("redis://[::1]:6390/1");
  CHECK(b.host == "::1");
  CHECK(b.port == 6390);
  CHECK(b.db == 1);
  CHECK(b.masked() == "redis://[::1]:6390/1");
}

TEST_CASE("redis url: anything else is refused with a clear message") {
  CHECK(invalid_message("http://localhost:6379").find("scheme must be redis://") !=
        std::string::npos);
  CHECK(invalid_message("rediss://localhost").find("scheme") != std::string::npos);
  CHECK(invalid_message("redis://").find("host is missing") != std::string::npos);
  CHECK(invalid_message("redis://localhost:").find("port is empty") != std::string::npos);
  CHECK(invalid_message("redis://localhost:0").find("port must be") != std::string::npos);
  CHECK(invalid_message("redis://localhost:65536").find("port must be") != std::string::npos);
  CHECK(invalid_message("redis://localhost:63a9").find("port must be") != std::string::npos);
  CHECK(invalid_message("redis://localhost/x").find("database") != std::string::npos);
  CHECK(invalid_message("redis://localhost/-1").find("database") != std::string::npos);
  CHECK(invalid_message("redis://localhost/1/2").find("database") != std::string::npos);
  CHECK(invalid_message("redis://localhost?db=1").find("query") != std::string::npos);
  CHECK(invalid_message("redis://user@localhost").find("credentials") != std::string::npos);
  CHECK(invalid_message("redis://u:@localhost").find("password is empty") != std::string::npos);
  CHECK(invalid_message("redis://[::1").find("IPv6") != std::string::npos);
}

TEST_CASE("redis url: error messages and masked forms never show the password") {
  const auto message = invalid_message("redis://u:hunter2@localhost:99999");
  CHECK(message.find("port must be") != std::string::npos);
  CHECK(message.find("hunter2") == std::string::npos);
  CHECK(rr::masked_redis_url("redis://u:hunter2@h:1/2") == "redis://u:***@h:1/2");
  CHECK(rr::masked_redis_url("redis://hunter2@h") == "redis://***@h");
  CHECK(rr::masked_redis_url("redis://h:1") == "redis://h:1");
}

TEST_CASE("redis connection: commands return owned replies of each type") {
  auto c = connect_test();
  const auto key = unique_redis_name("realmkit:test:conn:");
  CHECK(c.command({"PING"}).kind == rr::redis_reply::type::status);
  CHECK(c.command({"PING"}).str == "PONG");
  CHECK(c.command({"GET", key}).is_nil());
  // Binary safe: a NUL and a newline in the value survive.
  const std::string value("a\0b\r\nc", 6);
  CHECK(c.command({"SET", key, value, "PX", "10000"}).str == "OK");
  const auto got = c.command({"GET", key});
  CHECK(got.kind == rr::redis_reply::type::string);
  CHECK(got.str == value);
  const auto n = c.command({"INCRBY", key + ":n", "41"});
  CHECK(n.kind == rr::redis_reply::type::integer);
  CHECK(n.integer == 41);
  c.command({"RPUSH", key + ":l", "x", "y"});
  const auto list = c.command({"LRANGE", key + ":l", "0", "-1"});
  REQUIRE(list.kind == rr::redis_reply::type::array);
  REQUIRE(list.elements.size() == 2);
  CHECK(list.elements[0].str == "x");
  CHECK(list.elements[1].str == "y");
  c.command({"DEL", key, key + ":n", key + ":l"});
}

TEST_CASE("redis connection: an error reply throws redis_error and the connection stays usable") {
  auto c = connect_test();
  const auto key = unique_redis_name("realmkit:test:conn:");
  c.command({"SET", key, "text", "PX", "10000"});
  CHECK_THROWS_AS(c.command({"INCR", key}), rr::redis_error);
  CHECK_THROWS_WITH_AS(c.command({"EVAL", "return redis.error_reply('boom')", "0"}),
                       doctest::Contains("boom"), rr::redis_error);
  CHECK_FALSE(c.broken());
  CHECK(c.command({"GET", key}).str == "text");
  c.command({"DEL", key});
}

TEST_CASE("redis connection: pipelined commands reply in order, errors as values") {
  auto c = connect_test();
  const auto key = unique_redis_name("realmkit:test:pipe:");
  constexpr int kCommands = 200;
  for (int i = 0; i < kCommands; ++i) c.append({"RPUSH", key, std::to_string(i)});
  c.append({"HGET", key, "f"});  // wrong type: an error reply in the middle
  c.append({"LLEN", key});
  for (int i = 0; i < kCommands; ++i) {
    const auto reply = c.read_reply();
    REQUIRE(reply.kind == rr::redis_reply::type::integer);
    CHECK(reply.integer == i + 1);
  }
  const auto error = c.read_reply();
  CHECK(error.is_error());
  CHECK(error.str.starts_with("WRONGTYPE"));
  CHECK_THROWS_AS(error.throw_if_error(), rr::redis_error);
  CHECK(c.read_reply().integer == kCommands);
  c.command({"DEL", key});
}

TEST_CASE("redis connection: nothing to read within the wait is not an error") {
  auto c = connect_test();
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(c.read_reply_for(std::chrono::milliseconds{50}).has_value());
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds{50});
  CHECK_FALSE(c.broken());
  CHECK(c.command({"PING"}).str == "PONG");
}

TEST_CASE("redis connection: a server that is not there is redis_unavailable") {
  realmkit::testing::private_redis_server server;
  const auto url = rr::parse_redis_url(server.url());
  rr::redis_connection c({url});
  CHECK(c.command({"PING"}).str == "PONG");
  server.stop();
  CHECK_THROWS_AS(c.command({"PING"}), rr::redis_unavailable);
  CHECK(c.broken());
  CHECK_THROWS_AS(c.command({"PING"}), rr::redis_unavailable);
  CHECK_THROWS_AS(rr::redis_connection({url}), rr::redis_unavailable);
}

TEST_CASE("redis connection: AUTH and SELECT from the URL") {
  realmkit::testing::private_redis_server server;
  {
    rr::redis_connection admin({rr::parse_redis_url(server.url())});
    admin.command({"ACL", "SETUSER", "app", "on", ">pa:ss", "~*", "+@all"});
    admin.command({"CONFIG", "SET", "requirepass", "topsecret"});
  }
  // The default user's password, then a named user's, on database 2.
  rr::redis_connection a({rr::parse_redis_url(
      "redis://:topsecret@127.0.0.1:" + std::to_string(server.port()) + "/2")});
  a.command({"SET", "k", "on-db-2"});
  rr::redis_connection b({rr::parse_redis_url(
      "redis://app:pa%3Ass@127.0.0.1:" + std::to_string(server.port()) + "/2")});
  CHECK(b.command({"GET", "k"}).str == "on-db-2");
  rr::redis_connection d(
      {rr::parse_redis_url("redis://:topsecret@127.0.0.1:" + std::to_string(server.port()))});
  CHECK(d.command({"GET", "k"}).is_nil());
  CHECK_THROWS_AS(rr::redis_connection({rr::parse_redis_url("redis://:wrong@127.0.0.1:" +
                                                            std::to_string(server.port()))}),
                  rr::redis_error);
}

TEST_CASE("redis connection: a reply slower than the io timeout is redis_unavailable") {
  rr::redis_connection c({rr::parse_redis_url(redis_test_url()), std::chrono::milliseconds{1000},
                          std::chrono::milliseconds{100}});
  const auto start = std::chrono::steady_clock::now();
  // BLPOP on a list nobody fills answers after 1 s: past the 100 ms timeout.
  CHECK_THROWS_AS(c.command({"BLPOP", unique_redis_name("realmkit:test:empty:"), "1"}),
                  rr::redis_unavailable);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds{900});
  CHECK(c.broken());
}
