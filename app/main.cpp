// The realmkit binary: subcommands and their configuration from flags and environment. The work
// of each subcommand lives beside it in app/ (serve_command, user_command, demo_seed).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "app/audit_chain_commands.hpp"
#include "app/audit_commands.hpp"
#include "app/config_command.hpp"
#include "app/demo_seed.hpp"
#include "app/dev_kafka_command.hpp"
#include "app/private_log.hpp"
#include "app/rebuild_command.hpp"
#include "app/serve_command.hpp"
#include "app/user_command.hpp"
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

int migrate(const global_options& options) {
  setup_logging(options);
  auto config = options.store;
  config.apply_migrations = true;
  auto store = infra::open_event_store(config);
  spdlog::info("migrations applied; event store at position {}", store->head_position());
  return 0;
}

std::vector<std::string> split_commas(const std::string& list) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < list.size();) {
    auto comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    if (comma > pos) out.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
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

  app::serve_options serving;
  if (const char* origins = std::getenv("REALMKIT_CORS_ORIGINS")) {
    serving.cors_origins = split_commas(origins);
  }
  if (const char* keys = std::getenv("REALMKIT_JWT_KEYS")) serving.jwt_keys = keys;
  if (const char* web = std::getenv("REALMKIT_WEB_ROOT")) serving.web_root = web;
  std::string roles_text = "all";
  auto add_serve_options = [&](CLI::App* cmd) {
    add_store_options(cmd);
    cmd->add_option("--host", serving.host, "address to listen on");
    cmd->add_option("--port", serving.port, "HTTP and WebSocket port")->check(CLI::Range(0, 65535));
    cmd->add_option("--io-threads", serving.io_threads, "network threads")
        ->check(CLI::Range(1, 64));
    cmd->add_option("--db-threads", serving.db_threads,
                    "threads for database work (commands in flight at once)")
        ->check(CLI::Range(1, 256));
    cmd->add_option("--cors-origin", serving.cors_origins,
                    "an origin allowed to call the API from a browser (repeatable; env "
                    "REALMKIT_CORS_ORIGINS, comma-separated)");
    cmd->add_flag("--cors-credentials", serving.cors_credentials,
                  "let those origins send cookies (Access-Control-Allow-Credentials)");
    cmd->add_option("--jwt-keys", serving.jwt_keys,
                    "JWT signing keys kid=<base64url secret>[,kid=…], the signing key first "
                    "(env REALMKIT_JWT_KEYS; prefer the environment: flags show in ps). "
                    "Absent: a key generated once and kept with the data");
    cmd->add_option("--rate-per-user", serving.rate_per_user,
                    "token bucket per user, BURST:TOKENS/PERIOD (default 200:100/1s)");
    cmd->add_option("--rate-per-address", serving.rate_per_address,
                    "token bucket per client address (default 400:200/1s)");
    cmd->add_option("--rate-login", serving.rate_login,
                    "token bucket per client address on login and refresh (default 10:1/6s)");
    cmd->add_flag("--no-rate-limits", serving.no_rate_limits,
                  "turn rate limits off (benchmarks of the server itself)");
    cmd->add_option("--web-root", serving.web_root,
                    "the browser UI's folder, served at / (env REALMKIT_WEB_ROOT; default: "
                    "share/realmkit/web beside the binary, else the source tree's web/; none: "
                    "no UI)");
    cmd->add_flag("--insecure-cookies", serving.insecure_cookies,
                  "session cookies without Secure, for plain-HTTP development");
    cmd->add_flag("--webhooks-allow-private", serving.webhooks_allow_private,
                  "let webhooks go to private, loopback and link-local addresses (a receiver "
                  "on this machine or network; refused by default against request forgery)")
        ->envname("REALMKIT_WEBHOOKS_ALLOW_PRIVATE");
    cmd->add_option("--webhook-retention-days", serving.webhook_retention_days,
                    "forget finished webhook deliveries and their attempts after this many days "
                    "(0: keep them until their subscription is deleted; env "
                    "REALMKIT_WEBHOOK_RETENTION_DAYS)")
        ->envname("REALMKIT_WEBHOOK_RETENTION_DAYS")
        ->check(CLI::Range(0, 36'500))
        ->capture_default_str();
    cmd->add_option("--analytics-refresh-seconds", serving.analytics_refresh_seconds,
                    "refresh the analytics' materialized views this often when their facts "
                    "changed (PostgreSQL; 0: only on POST /api/analytics/refresh)")
        ->check(CLI::Range(0, 86400));
    auto& cluster = serving.cluster;
    cmd->add_option("--roles", roles_text,
                    "the roles this process runs: api, hub, projector, relay (comma-separated) "
                    "or all")
        ->envname("REALMKIT_ROLES");
    cmd->add_option("--kafka-brokers", cluster.kafka.brokers,
                    "Kafka bootstrap servers host:port,…: the relay produces the events there "
                    "(empty: projectors follow the store in process)")
        ->envname("REALMKIT_KAFKA_BROKERS");
    cmd->add_option("--kafka-topic", cluster.kafka.topic, "the events topic")
        ->envname("REALMKIT_KAFKA_TOPIC");
    cmd->add_option("--kafka-group", cluster.kafka.group, "the projectors' consumer group")
        ->envname("REALMKIT_KAFKA_GROUP");
    cmd->add_option("--kafka-partitions", cluster.kafka.partitions,
                    "partitions of the events topic when the relay creates it")
        ->envname("REALMKIT_KAFKA_PARTITIONS");
    cmd->add_option("--kafka-replication-factor", cluster.kafka.replication_factor,
                    "replicas of the events topic when the relay creates it (-1: the brokers' "
                    "default)")
        ->envname("REALMKIT_KAFKA_REPLICATION_FACTOR");
    cmd->add_option("--kafka-property", cluster.kafka.properties,
                    "a librdkafka property name=value (repeatable), e.g. security.protocol=ssl");
    cmd->add_option("--redis-url", cluster.redis_url,
                    "redis://[:password@]host[:port][/db]: room fan-out across hubs, shared rate "
                    "limits and revocations (env REALMKIT_REDIS_URL)")
        ->envname("REALMKIT_REDIS_URL");
    cmd->add_option("--mailgun-signing-key", serving.mailgun_signing_key,
                    "Mailgun's webhook signing key: enables the mailgun inbound webhook (env "
                    "REALMKIT_MAILGUN_SIGNING_KEY; prefer the environment)")
        ->envname("REALMKIT_MAILGUN_SIGNING_KEY");
    cmd->add_option("--calendly-signing-key", serving.calendly_signing_key,
                    "the Calendly webhook subscription's signing key: enables the calendly "
                    "inbound webhook (env REALMKIT_CALENDLY_SIGNING_KEY)")
        ->envname("REALMKIT_CALENDLY_SIGNING_KEY");
    cmd->add_option("--twilio-auth-token", serving.twilio_auth_token,
                    "the Twilio account's auth token: enables the twilio inbound webhook (env "
                    "REALMKIT_TWILIO_AUTH_TOKEN)")
        ->envname("REALMKIT_TWILIO_AUTH_TOKEN");
    cmd->add_option("--public-url", serving.public_url,
                    "the public base URL webhook providers call, e.g. https://crm.example.com "
                    "(env REALMKIT_PUBLIC_URL; default: from X-Forwarded-Proto/Host and Host)")
        ->envname("REALMKIT_PUBLIC_URL");
    cmd->add_option("--lead-scoring-url", serving.lead_scoring_url,
                    "score leads with an external OpenAI-compatible model at this base URL, e.g. "
                    "https://api.openai.com/v1 (env REALMKIT_LEAD_SCORING_URL; default: the local "
                    "model, which sends nothing anywhere)")
        ->envname("REALMKIT_LEAD_SCORING_URL");
    cmd->add_option("--lead-scoring-model", serving.lead_scoring_model,
                    "the external model's name (env REALMKIT_LEAD_SCORING_MODEL)")
        ->envname("REALMKIT_LEAD_SCORING_MODEL");
    cmd->add_option("--lead-scoring-api-key", serving.lead_scoring_api_key,
                    "the external endpoint's API key (env REALMKIT_LEAD_SCORING_API_KEY; prefer "
                    "the environment)")
        ->envname("REALMKIT_LEAD_SCORING_API_KEY");
    cmd->add_flag("--unsafe-durability", cluster.unsafe_durability,
                  "accept a PostgreSQL with fsync or synchronous_commit off, which may lose "
                  "acknowledged commits (throw-away test servers only)");
  };
  auto* serve_cmd =
      app.add_subcommand("serve", "run RealmKit's roles (all of them by default) in this process");
  add_serve_options(serve_cmd);
  auto* config_cmd = app.add_subcommand(
      "config",
      "print the configuration serve would run with (same flags and environment), secrets "
      "masked");
  add_serve_options(config_cmd);

  auto* migrate_cmd = app.add_subcommand("migrate", "apply the database migrations and exit");
  add_store_options(migrate_cmd);

  auto* user_cmd = app.add_subcommand("user", "manage users from the command line");
  user_cmd->require_subcommand(1);
  app::user_create_options creating;
  auto* user_create = user_cmd->add_subcommand("create", "register a user who can log in");
  add_store_options(user_create);
  user_create->add_option("--email", creating.email, "the address to log in with")->required();
  auto* password_opt = user_create->add_option(
      "--password", creating.password,
      "the password (at least 12 characters; shows in ps and shell history: prefer "
      "--password-stdin)");
  auto* stdin_opt = user_create->add_flag("--password-stdin", creating.password_stdin,
                                          "read the password from the first line of stdin");
  password_opt->excludes(stdin_opt);
  user_create->add_option("--role", creating.role, "admin, manager, sales_rep, analyst, auditor")
      ->required();
  user_create->add_option("--team", creating.team, "the id of the user's team");
  user_create->add_option("--name", creating.name,
                          "display name (default: the address's local part)");

  app::demo_options demo;
  auto* demo_cmd = app.add_subcommand(
      "demo",
      "seed a demo organisation (users of every role, pipeline, deals, contacts, …); "
      "running it again changes nothing");
  add_store_options(demo_cmd);
  demo_cmd->add_option("--password", demo.password,
                       "one password for every new demo user (default: a random one each)");

  app::rebuild_options rebuilding;
  auto* rebuild_cmd = app.add_subcommand(
      "rebuild",
      "rebuild a read model from the first event beside the live one, then switch to it (a "
      "running server keeps serving meanwhile)");
  add_store_options(rebuild_cmd);
  rebuild_cmd->add_option("projection", rebuilding.projection, "a projection's name, or all");
  bool list_only = false;
  rebuild_cmd->add_flag("--list", list_only, "print the projections' names and exit");

  app::dev_kafka_options dev_kafka;
  auto* dev_kafka_cmd = app.add_subcommand(
      "dev-kafka",
      "run a Kafka cluster for development in this process (in memory, on loopback) and print "
      "its bootstrap servers, to try the distributed mode on one machine");
  dev_kafka_cmd->add_option("--brokers", dev_kafka.brokers, "brokers in the cluster")
      ->check(CLI::Range(1, 9));
  dev_kafka_cmd->add_option("--topic", dev_kafka.topics, "a topic to create (repeatable)");
  dev_kafka_cmd->add_option("--partitions", dev_kafka.partitions, "partitions of each topic")
      ->check(CLI::Range(1, 10'000));
  std::string dev_kafka_log_level = "warn";
  dev_kafka_cmd->add_option("--log-level", dev_kafka_log_level, "trace, debug, info, warn, error");

  app::replay_options replaying;
  auto* replay_cmd = app.add_subcommand(
      "replay",
      "fold an entity's events into its state as of a time or a version and print it (or its "
      "events); --all folds the whole log");
  add_store_options(replay_cmd);
  auto* stream_opt = replay_cmd->add_option("--stream", replaying.stream, "e.g. deal-0193…");
  replay_cmd->add_flag("--all", replaying.all, "fold every entity stream, print a summary")
      ->excludes(stream_opt);
  replay_cmd->add_option("--as-of", replaying.as_of, "RFC 3339: events recorded up to then");
  replay_cmd->add_option("--version", replaying.version, "up to this stream version");
  replay_cmd->add_flag("--events", replaying.events, "print the events (NDJSON), not the state");

  app::export_options exporting;
  auto* export_cmd = app.add_subcommand(
      "export",
      "write the event log as NDJSON envelopes in global order on stdout (streamed; resume "
      "with --after-position)");
  add_store_options(export_cmd);
  export_cmd->add_option("--from", exporting.from, "RFC 3339: events recorded at or after it");
  export_cmd->add_option("--to", exporting.to, "RFC 3339: events recorded at or before it");
  export_cmd->add_option("--after-position", exporting.after_position,
                         "only events after this global position (the last line's "
                         "global_position, to resume)");

  auto* audit_cmd =
      app.add_subcommand("audit", "check the event log's hash chain and sign checkpoints of it");
  audit_cmd->require_subcommand(1);
  app::audit_verify_options verifying;
  auto* audit_verify_cmd = audit_cmd->add_subcommand(
      "verify", "recompute every link of the log's hash chain; name the first broken one");
  add_store_options(audit_verify_cmd);
  audit_verify_cmd->add_option("--checkpoint", verifying.checkpoint_file,
                               "a signed checkpoint (audit checkpoint) the log must still match");
  audit_verify_cmd->add_option("--public-key", verifying.public_key,
                               "hex: the key the checkpoint must be signed with");
  audit_verify_cmd->add_flag("--json", verifying.json, "print the report as JSON");
  app::audit_checkpoint_options checkpointing;
  auto* audit_checkpoint_cmd = audit_cmd->add_subcommand(
      "checkpoint", "verify the log, then print a signed checkpoint of its head");
  add_store_options(audit_checkpoint_cmd);
  audit_checkpoint_cmd
      ->add_option("--signing-key", checkpointing.signing_key_file, "from audit keygen")
      ->required();
  audit_checkpoint_cmd->add_option("--out", checkpointing.out_file,
                                   "write the checkpoint here instead of to stdout");
  std::string keygen_out;
  auto* audit_keygen_cmd = audit_cmd->add_subcommand(
      "keygen", "create an Ed25519 key pair for signing checkpoints (never overwrites a file)");
  audit_keygen_cmd->add_option("--out", keygen_out, "the file to keep the key pair in")->required();

  auto* version_cmd = app.add_subcommand("version", "print the version and exit");

  try {
    app.parse(argc, argv);
    if (*serve_cmd || *config_cmd) serving.cluster.roles = app::role_set::parse(roles_text);
    if (*serve_cmd) {
      setup_logging(options);
      return app::serve(options.store, serving);
    }
    if (*config_cmd) {
      app::print_config(options.store, serving, std::cout);
      return 0;
    }
    if (*migrate_cmd) return migrate(options);
    if (*user_create) {
      setup_logging(options);
      app::create_user(options.store, creating, std::cin, std::cout);
      return 0;
    }
    if (*demo_cmd) {
      setup_logging(options);
      auto stored = infra::open_event_store(options.store);
      app::private_log log(*stored, options.store);
      const auto summary = app::seed_demo(log.store(), demo, std::cout);
      std::cout << (summary.created == 0
                        ? "The demo organisation is in place already: nothing "
                          "changed.\n"
                        : "Demo organisation seeded: " + std::to_string(summary.created) +
                              " records created, " + std::to_string(summary.existing) +
                              " already there.\n");
      return 0;
    }
    if (*rebuild_cmd) {
      if (list_only) {
        app::list_projections(std::cout);
        return 0;
      }
      if (rebuilding.projection.empty()) throw app::cli_error("name a projection, or all (--list)");
      setup_logging(options);
      return app::rebuild_projections(options.store, rebuilding, std::cout);
    }
    if (*dev_kafka_cmd) {
      options.log_level = dev_kafka_log_level;
      setup_logging(options);
      return app::dev_kafka(dev_kafka);
    }
    if (*replay_cmd) {
      setup_logging(options);
      return app::replay(options.store, replaying, std::cout, std::cerr);
    }
    if (*export_cmd) {
      setup_logging(options);
      // NDJSON of a million events: stdio's buffer, not a flush per line.
      std::ios::sync_with_stdio(false);
      return app::export_log(options.store, exporting, std::cout, std::cerr);
    }
    if (*audit_verify_cmd) {
      setup_logging(options);
      return app::audit_verify(options.store, verifying, std::cout, std::cerr);
    }
    if (*audit_checkpoint_cmd) {
      setup_logging(options);
      return app::audit_checkpoint(options.store, checkpointing, std::cout, std::cerr);
    }
    if (*audit_keygen_cmd) return app::audit_keygen(keygen_out, std::cout);
    if (*version_cmd) {
      std::cout << "realmkit 0.1.0\n";
      return 0;
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const app::cli_error& e) {
    std::cerr << "realmkit: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    if (spdlog::default_logger()) spdlog::critical("{}", e.what());
    std::cerr << "realmkit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
