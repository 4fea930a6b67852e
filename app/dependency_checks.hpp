// Start-up checks of the services a process depends on, so a misconfigured or unreachable one
// stops it with a clear message instead of failing requests later.
#pragma once

#include <chrono>
#include <string>

#include "infra/kafka/kafka_settings.hpp"
#include "infra/sql/sql_database.hpp"

namespace realmkit::app {

// Refuses (throws std::runtime_error) a PostgreSQL that may lose acknowledged commits: fsync or
// synchronous_commit off breaks "acknowledged means durable" (ARCHITECTURE §3 invariant 1).
// With `unsafe_allowed` it only warns: throw-away test servers run that way for speed.
void check_durability(infra::sql::database& db, bool unsafe_allowed);

// Connects to Redis and sends PING; throws std::runtime_error naming the (masked) URL and the
// reason when it does not answer, refuses AUTH, or the URL is malformed.
void check_redis(const std::string& url);

// Asks the Kafka brokers for metadata; throws std::runtime_error with the reason when none
// answers.
void check_kafka(const infra::kafka::kafka_settings& settings,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace realmkit::app
