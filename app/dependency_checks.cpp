#include "app/dependency_checks.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

#include "infra/kafka/kafka_probe.hpp"
#include "infra/redis/redis_connection.hpp"
#include "infra/redis/redis_url.hpp"

namespace realmkit::app {

void check_durability(infra::sql::database& db, bool unsafe_allowed) {
  if (db.dialect() != infra::sql::dialect::postgres) return;
  auto session = db.open_session();
  const auto rows =
      session->query("SELECT current_setting('fsync'), current_setting('synchronous_commit')");
  const auto fsync = rows.at(0).text(0);
  const auto synchronous_commit = rows.at(0).text(1);
  std::string unsafe;
  if (fsync == "off") unsafe = "fsync is off";
  if (synchronous_commit == "off") {
    unsafe += (unsafe.empty() ? "" : " and ") + std::string("synchronous_commit is off");
  }
  if (unsafe.empty()) return;
  if (unsafe_allowed) {
    spdlog::warn("PostgreSQL {}: acknowledged commits may be lost (--unsafe-durability)", unsafe);
    return;
  }
  throw std::runtime_error(
      "PostgreSQL " + unsafe +
      ": a crash could lose events after their commands were acknowledged. Turn it on in "
      "postgresql.conf, or pass --unsafe-durability for a throw-away test server");
}

void check_redis(const std::string& url) {
  try {
    infra::redis::redis_connection c({.url = infra::redis::parse_redis_url(url),
                                      .connect_timeout = std::chrono::seconds(3),
                                      .io_timeout = std::chrono::seconds(3)});
    const auto reply = c.command({"PING"});
    reply.throw_if_error();
  } catch (const std::exception& e) {
    throw std::runtime_error("Redis at " + infra::redis::masked_redis_url(url) +
                             " cannot be used: " + e.what());
  }
}

void check_kafka(const infra::kafka::kafka_settings& settings, std::chrono::milliseconds timeout) {
  try {
    infra::kafka::check_brokers(settings, timeout);
  } catch (const std::exception& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace realmkit::app
