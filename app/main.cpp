// The realmkit binary: subcommands, configuration from flags and environment, and the wiring of
// long-lived services, which main owns and passes by reference.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "infra/logging.hpp"
#include "infra/store_factory.hpp"

using namespace realmkit;

namespace {

struct global_options {
  std::string log_format = "auto";
  std::string log_level = "info";
  infra::store_config store;
};

void setup_logging(const global_options& options) {
  infra::log_format format{};
  if (!infra::parse_log_format(options.log_format, format)) {
    throw CLI::ValidationError("--log-format", "must be auto, json or text");
  }
  infra::init_logging(format, options.log_level);
}

// Blocks the termination signals in every thread (threads inherit the mask) so that one thread can
// wait for them synchronously instead of running code inside a signal handler.
sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int serve(const global_options& options, int port) {
  const sigset_t signals = block_termination_signals();
  setup_logging(options);
  auto store = infra::open_event_store(options.store);
  spdlog::info("event store ready: {} at position {}",
               options.store.database_url.empty()
                   ? "sqlite " + options.store.data_dir + "/realmkit.db"
                   : "postgresql " + infra::masked_url(options.store.database_url),
               store->head_position());
  (void)port;  // the HTTP and WebSocket listeners bind it once the api and hub roles are wired
  spdlog::info("realmkit running; SIGTERM or Ctrl-C stops it");
  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  store.reset();  // completes in-flight appends and closes the database cleanly
  spdlog::info("stopped");
  return 0;
}

int migrate(const global_options& options) {
  setup_logging(options);
  auto config = options.store;
  config.apply_migrations = true;
  auto store = infra::open_event_store(config);
  spdlog::info("migrations applied; event store at position {}", store->head_position());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"RealmKit: an event-sourced CRM backend with real-time push"};
  app.require_subcommand(1);
  global_options options;
  if (const char* url = std::getenv("REALMKIT_DATABASE_URL")) options.store.database_url = url;
  if (const char* dir = std::getenv("REALMKIT_DATA_DIR")) options.store.data_dir = dir;

  auto add_store_options = [&](CLI::App* cmd) {
    cmd->add_option(
        "--database-url", options.store.database_url,
        "postgresql://… to use PostgreSQL (env REALMKIT_DATABASE_URL); SQLite when empty");
    cmd->add_option("--data-dir", options.store.data_dir,
                    "folder of the embedded SQLite database (env REALMKIT_DATA_DIR)");
    cmd->add_flag("--sqlite-relaxed-sync", options.store.sqlite_relaxed_sync,
                  "SQLite synchronous=NORMAL: faster, but a power loss may lose the last "
                  "acknowledged commits");
    cmd->add_option("--log-format", options.log_format, "auto, json or text");
    cmd->add_option("--log-level", options.log_level, "trace, debug, info, warn, error");
  };

  int port = 8080;
  auto* serve_cmd = app.add_subcommand("serve", "run every role of RealmKit in this process");
  add_store_options(serve_cmd);
  serve_cmd->add_option("--port", port, "HTTP and WebSocket port")->check(CLI::Range(0, 65535));

  auto* migrate_cmd = app.add_subcommand("migrate", "apply the database migrations and exit");
  add_store_options(migrate_cmd);

  auto* version_cmd = app.add_subcommand("version", "print the version and exit");

  try {
    app.parse(argc, argv);
    if (*serve_cmd) return serve(options, port);
    if (*migrate_cmd) return migrate(options);
    if (*version_cmd) {
      std::cout << "realmkit 0.1.0\n";
      return 0;
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    if (spdlog::default_logger()) spdlog::critical("{}", e.what());
    std::cerr << "realmkit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
