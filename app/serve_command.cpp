#include "app/serve_command.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>

#include "api/server.hpp"
#include "app/dependency_checks.hpp"
#include "app/http_api.hpp"
#include "app/merge_relinker.hpp"
#include "app/metered_event_store.hpp"
#include "app/private_log.hpp"
#include "app/read_models.hpp"
#include "app/realtime_services.hpp"
#include "app/redis_rate_limits.hpp"
#include "app/redis_revocation_list.hpp"
#include "app/reminder_scheduler.hpp"
#include "app/session_stores.hpp"
#include "app/web_root.hpp"
#include "app/webhook_dispatcher.hpp"
#include "infra/kafka/feed_consumer.hpp"
#include "infra/kafka/outbox_relay.hpp"
#include "infra/kafka/projector_feed.hpp"
#include "infra/rate_limit/rate_limit_policy.hpp"
#include "infra/redis/redis_room_bus.hpp"
#include "infra/worker_pool.hpp"
#include "projections/analytics/analytics_refresher.hpp"
#include "realtime/hub.hpp"
#include "realtime/ws_endpoint.hpp"

namespace realmkit::app {
namespace {

// Blocks the termination signals in every thread (threads inherit the mask) so that one thread
// can wait for them synchronously instead of running code inside a signal handler.
sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Forgets refresh tokens of sessions that ended a week ago, hourly, on its own thread.
class session_janitor final {
 public:
  explicit session_janitor(api::auth::token_service& tokens)
      : tokens_(tokens), thread_([this] { run(); }) {}
  ~session_janitor() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::hours{1}, [this] { return stopping_; })) {
      lock.unlock();
      try {
        if (const auto n = tokens_.purge_expired(); n > 0) {
          spdlog::info("purged {} refresh tokens of ended sessions", n);
        }
      } catch (const std::exception& e) {
        spdlog::warn("purging ended sessions failed (retried in an hour): {}", e.what());
      }
      lock.lock();
    }
  }

  api::auth::token_service& tokens_;
  std::mutex mutex_;  // guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// Lets the room bus's reconnect callback reach the hub, which is built later and destroyed
// earlier than the bus.
class hub_link final {
 public:
  void attach(realtime::hub* hub) {
    std::lock_guard lock(mutex_);
    hub_ = hub;
  }
  void check_rooms() {
    std::lock_guard lock(mutex_);
    if (hub_) hub_->check_rooms();
  }

 private:
  std::mutex mutex_;  // guards hub_
  realtime::hub* hub_ = nullptr;
};

infra::kafka::kafka_settings kafka_settings(const cluster_options& cluster) {
  infra::kafka::kafka_settings s;
  s.brokers = cluster.kafka.brokers;
  s.topic = cluster.kafka.topic;
  s.partitions = cluster.kafka.partitions;
  s.replication_factor = cluster.kafka.replication_factor;
  for (const auto& p : cluster.kafka.properties) {
    const auto eq = p.find('=');  // validate() checked there is one
    s.properties.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  return s;
}

http_api_options api_options(const serve_options& serving) {
  http_api_options o;
  o.trusted_origins = serving.cors_origins;
  o.cookie_secure = !serving.insecure_cookies;
  o.rate_limits = !serving.no_rate_limits;
  o.webhooks_allow_private = serving.webhooks_allow_private;
  auto& policy = o.limits.policy;
  if (!serving.rate_per_user.empty()) {
    policy.per_user = infra::rate_limit::parse_token_bucket(serving.rate_per_user);
  }
  if (!serving.rate_per_address.empty()) {
    policy.per_address = infra::rate_limit::parse_token_bucket(serving.rate_per_address);
  }
  if (!serving.rate_login.empty()) {
    policy.login_per_address = infra::rate_limit::parse_token_bucket(serving.rate_login);
  }
  o.inbound.secrets = {{"mailgun", serving.mailgun_signing_key},
                       {"calendly", serving.calendly_signing_key},
                       {"twilio", serving.twilio_auth_token}};
  o.inbound.public_url = serving.public_url;
  if (!serving.lead_scoring_url.empty()) {
    o.external_scoring = openai_score_options{.base_url = serving.lead_scoring_url,
                                              .model = serving.lead_scoring_model,
                                              .api_key = serving.lead_scoring_api_key};
  } else if (!serving.lead_scoring_model.empty() || !serving.lead_scoring_api_key.empty()) {
    throw std::invalid_argument(
        "--lead-scoring-model and --lead-scoring-api-key need --lead-scoring-url (the external "
        "model's endpoint)");
  }
  return o;
}

}  // namespace

int serve(const infra::store_config& store_config, const serve_options& serving) {
  const sigset_t signals = block_termination_signals();
  const auto& cluster = serving.cluster;
  const auto& roles = cluster.roles;
  const bool postgres = !store_config.database_url.empty();
  validate(cluster, postgres);          // refuses a configuration that cannot work
  auto options = api_options(serving);  // and bad flags, before anything is opened
  options.crm_routes = roles.api;
  if (roles.api) options.web_root = resolve_web_root(serving.web_root);

  auto raw_store = infra::open_event_store(store_config);
  spdlog::info("event store ready: {} at position {}",
               store_config.database_url.empty()
                   ? "sqlite " + store_config.data_dir + "/realmkit.db"
                   : "postgresql " + infra::masked_url(store_config.database_url),
               raw_store->head_position());
  auto read_db = open_read_database(store_config);
  check_durability(*read_db, cluster.unsafe_durability);
  // The shared services must answer before this process joins the cluster.
  const auto kafka = kafka_settings(cluster);
  if (cluster.distributed_bus()) check_kafka(kafka);
  if (cluster.shared_redis()) check_redis(cluster.redis_url);
  auto refresh_tokens = open_refresh_token_store(store_config);
  auto keys = resolve_jwt_keys(store_config, serving.jwt_keys);
  // The kid names the key; the secret is never logged.
  spdlog::info("JWT signing key {} ({})", keys.keys.signing_key().kid,
               api::auth::to_string(keys.source));
  if (roles.api && !options.rate_limits) spdlog::warn("rate limits are off (--no-rate-limits)");
  if (roles.api && !options.cookie_secure) spdlog::warn("session cookies are sent without Secure");

  // Owned here and passed by reference; destroyed in reverse order after the server stops.
  infra::metrics_registry metrics;
  metered_event_store store(*raw_store, metrics);
  // Commands, queries and projections see personal fields opened; the relay and the hash chain's
  // check see the log as stored, sealed.
  private_log opened(store, store_config);
  infra::worker_pool pool({.name = "db", .threads = serving.db_threads, .queue_limit = 4096},
                          &metrics);
  api::readiness ready;
  ready.add("store", [&store]() -> std::optional<std::string> {
    store.head_position();
    return std::nullopt;
  });
  // Room updates reach the hubs through Redis when it is configured (every hub process hears
  // every projector), else in this process. After a Redis outage the hub checks its rooms
  // against the room-update log, since pub/sub dropped what was sent meanwhile.
  hub_link link;
  std::shared_ptr<infra::room_bus> room_bus;
  if (cluster.shared_redis()) {
    room_bus = std::make_shared<infra::redis::redis_room_bus>(infra::redis::redis_room_bus_options{
        .url = cluster.redis_url, .metrics = &metrics, .on_resubscribed = [&link] {
          link.check_rooms();
        }});
  } else {
    room_bus = std::make_shared<infra::in_process_room_bus>();
  }
  // With Kafka, this process's projectors read the events the projector group consumed from the
  // topic (in global order, from the feed) instead of following the store directly.
  std::unique_ptr<infra::sql::database> feed_db;
  std::optional<infra::kafka::feed_log> feed;
  std::optional<infra::kafka::feed_consumer> consumer;
  std::optional<infra::privacy::private_event_store> opened_feed;
  infra::event_store* projected = &opened.store();
  if (roles.projector && cluster.distributed_bus()) {
    feed_db = open_read_database(store_config);
    feed.emplace(store, *feed_db);
    consumer.emplace(*feed_db,
                     infra::kafka::feed_consumer_options{.settings = kafka,
                                                         .group = cluster.kafka.group,
                                                         .metrics = &metrics,
                                                         .on_commit = [&feed] { feed->notify(); }});
    // The topic carries the log as stored: its events are opened here, with the same keys.
    projected = &opened_feed.emplace(*feed, opened.keys());
    ready.add("kafka",
              [&consumer]() -> std::optional<std::string> { return consumer->status().error; });
  }
  // The read models live beside the events. With the projector role this process keeps them
  // current and hands committed room updates to the hubs through the room bus; without it, it
  // follows the checkpoints that other processes' projectors commit.
  read_models reads(*projected, std::move(read_db), {.metrics = &metrics},
                    {.rooms = roles.projector ? room_bus : nullptr});
  if (consumer) consumer->start();
  if (roles.projector) {
    reads.start();
  } else {
    reads.projector().observe();
  }
  // The relay produces the store's events to Kafka; one process at a time is active.
  std::unique_ptr<infra::sql::database> relay_db;
  std::optional<infra::kafka::outbox_relay> relay;
  if (roles.relay && cluster.distributed_bus()) {
    relay_db = open_read_database(store_config);
    relay.emplace(store, *relay_db,
                  infra::kafka::outbox_relay_options{.kafka = kafka, .metrics = &metrics});
    relay->start();
  } else if (roles.relay && postgres) {
    spdlog::info("relay: no Kafka brokers configured, nothing to relay");
  }
  if (cluster.shared_redis()) {
    ready.add("redis", [url = cluster.redis_url]() -> std::optional<std::string> {
      check_redis(url);
      return std::nullopt;
    });
  }
  // The refresher exists only when scheduled; a refresh on demand needs none.
  std::optional<projections::analytics::analytics_refresher> refresher;
  if (roles.projector && serving.analytics_refresh_seconds > 0) {
    refresher.emplace(reads.database(),
                      projections::analytics::refresher_options{
                          .interval = std::chrono::seconds(serving.analytics_refresh_seconds),
                          .metrics = &metrics});
    refresher->start();
  }
  // With Redis, rate limits hold across API processes and a logout refuses the session's access
  // tokens in every process before they expire.
  std::unique_ptr<redis_revocation_list> revocations;
  if (cluster.shared_redis()) {
    // Hubs check tokens at the upgrade too: a revoked session must not open a WebSocket.
    revocations = std::make_unique<redis_revocation_list>(
        infra::redis::redis_revocations_options{.url = cluster.redis_url, .metrics = &metrics});
    options.revocations = revocations.get();
    options.limits.make_limiter =
        redis_limiter_factory({.url = cluster.redis_url, .metrics = &metrics});
  }
  http_api api(std::move(options), opened.store(), reads, *refresh_tokens, std::move(keys.keys),
               metrics, ready);
  api::http_pipeline pipeline(
      api.routes(), metrics,
      {.cors = {.allowed_origins = serving.cors_origins,
                .allow_credentials = serving.cors_credentials,
                .allowed_headers = {"Authorization", "Content-Type", "Idempotency-Key", "If-Match",
                                    "X-Request-Id", "X-Requested-With"}}});
  api.install_guards(pipeline);
  // What named a merged contact follows the merge to its survivor: work of the projector role,
  // which keeps the read model of what is owed.
  std::optional<merge_relinker> relinker;
  std::optional<reminder_scheduler> reminders;
  if (roles.projector) {
    relinker.emplace(api.commands(), reads.database(), reads.projector(),
                     merge_relinker_options{.metrics = &metrics});
    relinker->start();
    reminders.emplace(api.commands(), reads.database(), reads.projector(),
                      reminder_scheduler_options{.metrics = &metrics});
    reminders->start();
    api.scorer().start();  // trains at once, then rescores every 15 minutes, retrains daily
  }
  // Outgoing webhooks follow the log as the API shows it: work of the projector role, like the
  // read models. Several projector processes share the work safely (docs/webhooks.md).
  std::optional<infra::webhooks::webhook_store> webhook_tables;
  std::optional<webhook_dispatcher> webhooks;
  if (roles.projector) {
    webhook_tables.emplace(reads.database());
    webhooks.emplace(
        opened.store(), *webhook_tables,
        webhook_dispatcher_options{
            .targets = {.allow_private = serving.webhooks_allow_private},
            .keep_finished = std::chrono::hours(24 * serving.webhook_retention_days),
            .metrics = &metrics});
    webhooks->start();
    if (serving.webhooks_allow_private) {
      spdlog::warn("webhooks may go to private and loopback addresses (--webhooks-allow-private)");
    }
  }
  std::optional<session_janitor> janitor;
  if (roles.api) janitor.emplace(api.tokens());

  if (roles.api && api.has_no_users()) {
    spdlog::warn(
        "no users yet: create the first admin with `realmkit user create --email you@example.com "
        "--role admin --password-stdin` (same --data-dir / --database-url), or seed a demo "
        "organisation with `realmkit demo`");
  }

  // Every connection holds a file descriptor: the open-files limit bounds them, not a guess.
  rlimit files{};
  std::size_t max_connections = 10'000;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY &&
      files.rlim_cur > 1'000) {
    max_connections = static_cast<std::size_t>(files.rlim_cur) - 500;
  }
  // The hub shares the API's port: /ws upgrades go to it.
  sql_room_log room_log(reads.database());
  crm_room_access room_access(api.queries());
  std::optional<realtime::hub> hub;
  std::optional<realtime::ws_endpoint> ws;
  if (roles.hub) {
    hub.emplace(*room_bus, room_log, room_access, pool, realtime::hub_options{.metrics = &metrics});
    link.attach(&*hub);
    ws.emplace(*hub, api.tokens(),
               realtime::endpoint_options{.allowed_origins = serving.cors_origins,
                                          .max_connections = max_connections},
               realtime::session_options{}, &metrics);
  }

  api::server server({.host = serving.host,
                      .port = static_cast<std::uint16_t>(serving.port),
                      .io_threads = serving.io_threads,
                      .max_connections = max_connections},
                     pipeline, pool, metrics);
  if (ws) server.add_upgrade_handler("/ws", *ws);
  server.start();
  spdlog::info("listening on http://{}:{} (roles: {})", serving.host, server.port(),
               roles.to_string());

  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("received {}, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  if (ws) ws->close_all(std::chrono::seconds(2));  // 1001: clients reconnect to another process
  server.stop();                                   // stop accepting, drain in-flight requests
  link.attach(nullptr);
  pool.stop();
  if (relinker) relinker->stop();
  if (reminders) reminders->stop();
  api.scorer().stop();
  if (webhooks) webhooks->stop();  // after the attempts in flight are recorded
  if (relay) relay->stop();        // its last acknowledged position is checkpointed
  if (refresher) refresher->stop();
  reads.stop();                    // the projector finishes its batch and stops following the store
  if (consumer) consumer->stop();  // leaves the group: its partitions go to the others
  raw_store.reset();               // completes in-flight appends and closes the database cleanly
  spdlog::info("stopped");
  return 0;
}

}  // namespace realmkit::app
