// A whole distributed RealmKit on one machine for tests: a fresh PostgreSQL database, Redis (the
// test server or a private one a test may crash), librdkafka's mock cluster in this process, and
// `realmkit serve` child processes with any roles. Every child is reaped when the harness goes,
// even when an assertion failed; a failed test prints the children's logs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "infra/kafka/mock_cluster.hpp"
#include "tests/api/test_client.hpp"
#include "tests/infra/redis_test_support.hpp"

namespace realmkit::testing::cluster {

using namespace std::chrono_literals;

// One `realmkit serve` child. Killed (SIGKILL) and reaped when destroyed if still running.
class node {
 public:
  node(std::string name, std::string roles, std::filesystem::path log,
       const std::vector<std::string>& argv, const std::vector<std::string>& env);
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  const std::string& name() const { return name_; }
  const std::string& roles() const { return roles_; }
  const std::filesystem::path& log_path() const { return log_; }
  pid_t pid() const { return pid_; }
  // The HTTP port it listens on (0 until it logged it; it binds port 0, so ports never collide).
  std::uint16_t port();
  bool running();
  // The exit status once it exited (128 + signal when a signal ended it).
  std::optional<int> exit_status() const { return status_; }

  // Waits until it answers /readyz with 200; false when it exited or the deadline passed.
  bool wait_ready(std::chrono::milliseconds timeout);
  // SIGKILL, as a crash: no shutdown code runs. Reaps it.
  void kill();
  // SIGTERM and waits for the clean exit; SIGKILL after `timeout`. Returns the exit status.
  int stop(std::chrono::milliseconds timeout = 30s);

  test::http_reply get(const std::string& target);
  // The value of a Prometheus sample whose line starts with `name{` and contains every label
  // text given ("state=\"active\""); nullopt when absent or unreachable.
  std::optional<double> metric(const std::string& name, const std::vector<std::string>& labels);

 private:
  // Reaps it when it has exited (non-blocking); true once reaped.
  bool reap();

  std::string name_;
  std::string roles_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::optional<int> status_;
};

struct harness_options {
  int kafka_brokers = 3;
  int partitions = 6;
  // A redis-server of the test's own (that it may crash and restart) instead of the test server.
  bool private_redis = false;
  std::string password = "cluster-demo-password";
};

class cluster_harness {
 public:
  explicit cluster_harness(harness_options options = {});
  // Kills every node still running, prints their logs when the test failed, drops the database.
  ~cluster_harness();
  cluster_harness(const cluster_harness&) = delete;
  cluster_harness& operator=(const cluster_harness&) = delete;

  const harness_options& options() const { return options_; }
  const std::string& database_url() const { return database_url_; }
  std::string redis_url() const;
  const std::string& brokers() const { return brokers_; }
  const std::string& topic() const { return topic_; }
  infra::kafka::mock_cluster& kafka() { return *kafka_; }
  // REQUIREs options().private_redis.
  private_redis_server& private_redis();

  // Runs `realmkit <args> --database-url …` to completion; REQUIREs exit 0; returns stdout.
  std::string run(std::vector<std::string> args, std::chrono::milliseconds timeout = 300s);
  // Starts `realmkit serve --roles <roles>` with the cluster's flags (database, Kafka, Redis,
  // shared JWT keys) plus `extra`, without waiting for it.
  node& start(const std::string& name, const std::string& roles,
              const std::vector<std::string>& extra = {});
  // Waits until every running node is ready; REQUIREs it, naming the ones that are not.
  void wait_ready(std::chrono::milliseconds timeout = 120s);
  node& by_name(const std::string& name);
  std::vector<node*> with_role(const std::string& role);
  // SIGTERM to every running node, and CHECKs that each stopped cleanly (exit 0).
  void stop_all();

  // The cluster's database, for the checks.
  pqxx::connection& db() { return *db_; }
  std::int64_t query_int(const std::string& sql);
  std::int64_t head_position() { return query_int("SELECT last FROM event_position"); }
  // Waits until every projection's live generation reached `position`.
  bool wait_projected(std::int64_t position, std::chrono::milliseconds timeout);
  // Waits until the relay's checkpoint reached `position` (every event up to it acknowledged).
  bool wait_relayed(std::int64_t position, std::chrono::milliseconds timeout);

  // The last lines of every node's log on stderr.
  void print_logs(std::size_t lines = 80) const;

 private:
  harness_options options_;
  std::filesystem::path dir_;
  std::string database_name_;
  std::string database_url_;
  std::string jwt_keys_;
  std::unique_ptr<private_redis_server> redis_;
  // Declared before the nodes: the brokers outlive every client of theirs.
  std::unique_ptr<infra::kafka::mock_cluster> kafka_;
  std::string brokers_;
  std::string topic_ = "realmkit.events";
  std::unique_ptr<pqxx::connection> db_;
  std::vector<std::unique_ptr<node>> nodes_;
};

// True when an assertion of the running test case failed (CHECK or REQUIRE).
bool current_test_failed();

}  // namespace realmkit::testing::cluster
