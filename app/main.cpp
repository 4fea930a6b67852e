// The realmkit binary: subcommands, configuration from flags and environment, and the wiring of
// long-lived services, which main owns and passes by reference.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "api/health_routes.hpp"
#include "api/http_pipeline.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "infra/logging.hpp"
#include "infra/metrics.hpp"
#include "infra/store_factory.hpp"
#include "infra/worker_pool.hpp"

using namespace realmkit;

namespace {

struct global_options {
  std::string log_format = "auto";
  std::string log_level = "info";
  infra::store_config store;
};

struct serve_options {
  std::string host = "0.0.0.0";
  int port = 8080;
  std::size_t io_threads = 2;
  std::size_t db_threads = 8;
  std::vector<std::string> cors_origins;
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

int serve(const global_options& options, const serve_options& serving) {
  const sigset_t signals = block_termination_signals();
  setup_logging(options);
  auto store = infra::open_event_store(options.store);
  spdlog::info("event store ready: {} at position {}",
               options.store.database_url.empty()
                   ? "sqlite " + options.store.data_dir + "/realmkit.db"
                   : "postgresql " + infra::masked_url(options.store.database_url),
               store->head_position());

  // Owned here and passed by reference; destroyed in reverse order after the server stops.
  infra::metrics_registry metrics;
  infra::worker_pool pool({.name = "db", .threads = serving.db_threads, .queue_limit = 4096},
                          &metrics);
  api::router routes;
  api::readiness ready;
  ready.add("store", [&store]() -> std::optional<std::string> {
    store->head_position();
    return std::nullopt;
  });
  api::add_health_routes(routes, ready, metrics);
  api::http_pipeline pipeline(routes, metrics, {.cors = {.allowed_origins = serving.cors_origins}});
  api::server server({.host = serving.host,
                      .port = static_cast<std::uint16_t>(serving.port),
                      .io_threads = serving.io_threads},
                     pipeline, pool, metrics);
  server.start();
  spdlog::info("listening on http://{}:{} (roles: all)", serving.host, server.port());

  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  server.stop();  // stop accepting, drain in-flight requests
  pool.stop();
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

  serve_options serving;
  if (const char* origins = std::getenv("REALMKIT_CORS_ORIGINS")) {
    std::string list = origins;
    for (std::size_t pos = 0; pos < list.size();) {
      auto comma = list.find(',', pos);
      if (comma == std::string::npos) comma = list.size();
      if (comma > pos) serving.cors_origins.push_back(list.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  auto* serve_cmd = app.add_subcommand("serve", "run every role of RealmKit in this process");
  add_store_options(serve_cmd);
  serve_cmd->add_option("--host", serving.host, "address to listen on");
  serve_cmd->add_option("--port", serving.port, "HTTP and WebSocket port")
      ->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--io-threads", serving.io_threads, "network threads")
      ->check(CLI::Range(1, 64));
  serve_cmd->add_option("--db-threads", serving.db_threads, "threads for database work")
      ->check(CLI::Range(1, 256));
  serve_cmd->add_option("--cors-origin", serving.cors_origins,
                        "an origin allowed to call the API from a browser (repeatable; env "
                        "REALMKIT_CORS_ORIGINS, comma-separated)");

  auto* migrate_cmd = app.add_subcommand("migrate", "apply the database migrations and exit");
  add_store_options(migrate_cmd);

  auto* version_cmd = app.add_subcommand("version", "print the version and exit");

  try {
    app.parse(argc, argv);
    if (*serve_cmd) return serve(options, serving);
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
