// What the PostgreSQL tests share: the server from REALMKIT_TEST_POSTGRES_URL (a test fails,
// never passes silently, when it is not set), throw-away schemas, raw SQL for tests that corrupt
// or inspect tables, and processes of the writer tool (tests/tools/postgres_writer.cpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "infra/postgres/postgres_event_store.hpp"

namespace realmkit::testing {

// The server URL; FAILs the running test when REALMKIT_TEST_POSTGRES_URL is not set.
std::string postgres_test_url();
// A schema name no other store uses (random, so leftovers of a crashed run never collide).
std::string unique_postgres_schema();
// Options for a store in a new schema that is dropped when the store is destroyed.
infra::postgres_store_options fresh_postgres_options();
// Runs SQL (one or more statements) in the schema.
void postgres_exec(const std::string& schema, const std::string& sql);
// The first column of the first row of a query run in the schema, as text ("" for no row/NULL).
std::string postgres_query_value(const std::string& schema, const std::string& sql);
// Drops the schema if it exists (for schemas no store drops itself).
void drop_postgres_schema(const std::string& schema);

// A running realmkit_pg_writer (or another tool); killed and reaped if still running when destroyed.
class writer_process {
 public:
  // Runs the tool with these arguments; its standard output goes to stdout_path when given.
  explicit writer_process(const std::vector<std::string>& args,
                          const std::string& stdout_path = "");
  // Runs another program (a path) with these arguments.
  writer_process(const std::string& program, const std::vector<std::string>& args,
                 const std::string& stdout_path = "");
  ~writer_process();
  writer_process(const writer_process&) = delete;
  writer_process& operator=(const writer_process&) = delete;

  // The exit code once exited (128 + signal when killed by one), nullopt while running. Waits at
  // most `timeout` for the exit.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<int> exit_code_;
};

// Runs the tool to completion (at most 60 s) and returns its standard output; FAILs the test when
// it exits with an error.
std::string run_writer(const std::vector<std::string>& args);

// A temporary file path removed when destroyed.
class temp_file {
 public:
  temp_file();
  ~temp_file();
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  const std::string& path() const { return path_; }
  std::string read() const;

 private:
  std::string path_;
};

}  // namespace realmkit::testing
