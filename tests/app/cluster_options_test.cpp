// The roles and distributed-mode options: what is accepted, what is refused and why.
#include "app/cluster_options.hpp"

#include <doctest/doctest.h>

#include <sstream>

#include "app/config_command.hpp"
#include "app/dependency_checks.hpp"
#include "app/user_command.hpp"
#include "infra/kafka/mock_cluster.hpp"
#include "infra/sql/sql_database.hpp"
#include "tests/infra/postgres_test_support.hpp"

namespace realmkit::testing {

using app::cluster_options;
using app::role_set;

TEST_CASE("roles: lists parse in any order and subset, all is every role") {
  CHECK(role_set::parse("all") == role_set{});
  CHECK(role_set::parse("relay, api") == role_set{true, false, false, true});
  CHECK(role_set::parse("projector,hub,projector") == role_set{false, true, true, false});
  CHECK(role_set::parse("hub,relay").to_string() == "hub,relay");
  CHECK(role_set{}.to_string() == "api,hub,projector,relay");
  CHECK_THROWS_WITH_AS(role_set::parse("api,web"), doctest::Contains("unknown role 'web'"),
                       app::cli_error);
  CHECK_THROWS_AS(role_set::parse(""), app::cli_error);
  CHECK_THROWS_AS(role_set::parse(" , "), app::cli_error);
}

TEST_CASE("roles: configurations that cannot work are refused with what to change") {
  cluster_options embedded;
  CHECK_NOTHROW(app::validate(embedded, false));

  cluster_options subset;
  subset.roles = role_set::parse("api");
  CHECK_THROWS_WITH_AS(app::validate(subset, false), doctest::Contains("needs PostgreSQL"),
                       app::cli_error);
  CHECK_NOTHROW(app::validate(subset, true));

  cluster_options kafka_on_sqlite;
  kafka_on_sqlite.kafka.brokers = "127.0.0.1:9092";
  CHECK_THROWS_AS(app::validate(kafka_on_sqlite, false), app::cli_error);

  cluster_options relay;
  relay.roles = role_set::parse("relay");
  CHECK_THROWS_WITH_AS(app::validate(relay, true), doctest::Contains("--kafka-brokers"),
                       app::cli_error);
  relay.kafka.brokers = "127.0.0.1:9092";
  CHECK_NOTHROW(app::validate(relay, true));

  cluster_options lonely_hub;
  lonely_hub.roles = role_set::parse("api,hub");
  CHECK_THROWS_WITH_AS(app::validate(lonely_hub, true), doctest::Contains("--redis-url"),
                       app::cli_error);
  lonely_hub.redis_url = "redis://127.0.0.1:6379";
  CHECK_NOTHROW(app::validate(lonely_hub, true));
  lonely_hub.redis_url = "http://127.0.0.1:6379";
  CHECK_THROWS_AS(app::validate(lonely_hub, true), app::cli_error);

  cluster_options partitions;
  partitions.kafka.brokers = "k:9092";
  partitions.kafka.partitions = 0;
  CHECK_THROWS_AS(app::validate(partitions, true), app::cli_error);

  cluster_options property;
  property.kafka.brokers = "k:9092";
  property.kafka.properties = {"sasl.password"};
  CHECK_THROWS_WITH_AS(app::validate(property, true), doctest::Contains("'***' is not name=value"),
                       app::cli_error);
}

TEST_CASE("config: the effective configuration never shows a secret") {
  infra::store_config store;
  store.database_url = "postgresql://rk:db-secret@db.internal/realmkit?password=db-secret2";
  app::serve_options serving;
  serving.cluster.roles = role_set::parse("api,hub,relay");
  serving.cluster.kafka.brokers = "k1:9092,k2:9092";
  serving.cluster.kafka.properties = {"sasl.password=kafka-secret", "linger.ms=5"};
  serving.cluster.redis_url = "redis://:redis-secret@cache:6380/1";
  serving.jwt_keys = "k2026=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  serving.mailgun_signing_key = "mailgun-signing-secret";
  serving.twilio_auth_token = "twilio-auth-secret";
  serving.lead_scoring_url = "https://models.example.com/v1";
  serving.lead_scoring_model = "scorer-large";
  serving.lead_scoring_api_key = "sk-lead-scoring-secret";
  std::ostringstream out;
  app::print_config(store, serving, out);
  const auto text = out.str();
  for (const char* secret :
       {"db-secret", "kafka-secret", "redis-secret", "AAAAAAAA", "mailgun-signing-secret",
        "twilio-auth-secret", "sk-lead-scoring-secret"}) {
    CHECK_MESSAGE(text.find(secret) == std::string::npos, secret);
  }
  CHECK(text.find("roles                           = api,hub,relay\n") != std::string::npos);
  CHECK(text.find("kafka.property.linger.ms        = 5\n") != std::string::npos);
  CHECK(text.find("jwt.keys                        = configured, signing key k2026\n") !=
        std::string::npos);
  CHECK(text.find("redis.url                       = redis://:***@cache:6380/1\n") !=
        std::string::npos);
  CHECK(text.find("integrations.mailgun            = on, secret ***\n") != std::string::npos);
  CHECK(text.find("integrations.calendly           = (off: no secret)\n") != std::string::npos);
  CHECK(text.find("integrations.twilio             = on, secret ***\n") != std::string::npos);
  CHECK(text.find("webhooks.retention_days         = 30\n") != std::string::npos);
  CHECK(text.find("lead_scoring.provider           = openai-compatible\n") != std::string::npos);
  CHECK(text.find("lead_scoring.model              = scorer-large\n") != std::string::npos);
  CHECK(text.find("lead_scoring.api_key            = ***\n") != std::string::npos);

  // Without an endpoint nothing leaves: the local model.
  std::ostringstream local;
  app::print_config(store, app::serve_options{}, local);
  CHECK(local.str().find("lead_scoring.provider           = local (nothing sent anywhere)\n") !=
        std::string::npos);
}

TEST_CASE("start-up checks: unreachable services are named, reachable ones pass") {
  CHECK_THROWS_WITH_AS(app::check_redis("redis://:pw@127.0.0.1:1"),
                       doctest::Contains("Redis at redis://:***@127.0.0.1:1 cannot be used"),
                       std::runtime_error);
  CHECK_THROWS_AS(app::check_redis("redis://127.0.0.1:notaport"), std::runtime_error);
  const char* redis = std::getenv("REALMKIT_TEST_REDIS_URL");
  REQUIRE_MESSAGE(redis, "REALMKIT_TEST_REDIS_URL is not set (scripts/test starts a server)");
  CHECK_NOTHROW(app::check_redis(redis));

  infra::kafka::kafka_settings nowhere;
  nowhere.brokers = "127.0.0.1:1";
  CHECK_THROWS_WITH_AS(app::check_kafka(nowhere, std::chrono::milliseconds(500)),
                       doctest::Contains("Kafka at 127.0.0.1:1 did not answer"),
                       std::runtime_error);
  infra::kafka::mock_cluster cluster(1);
  infra::kafka::kafka_settings mock;
  mock.brokers = cluster.bootstrap_servers();
  CHECK_NOTHROW(app::check_kafka(mock));
}

TEST_CASE("start-up checks: a PostgreSQL that may lose acknowledged commits is refused") {
  auto db = infra::sql::open_postgres_database({.url = postgres_test_url()});
  auto session = db->open_session();
  const auto fsync = session->query("SELECT current_setting('fsync')").at(0).text(0);
  const auto commit = session->query("SELECT current_setting('synchronous_commit')").at(0).text(0);
  if (fsync == "off" || commit == "off") {
    CHECK_THROWS_WITH_AS(app::check_durability(*db, false),
                         doctest::Contains("--unsafe-durability"), std::runtime_error);
    CHECK_NOTHROW(app::check_durability(*db, true));
  } else {
    CHECK_NOTHROW(app::check_durability(*db, false));
  }
}

}  // namespace realmkit::testing
