#include "app/config_command.hpp"

#include <filesystem>
#include <ostream>
#include <string>

#include "api/auth/jwt.hpp"
#include "app/user_command.hpp"
#include "app/web_root.hpp"
#include "infra/rate_limit/rate_limit_policy.hpp"

namespace realmkit::app {
namespace {

bool is_postgres(const infra::store_config& store) {
  return store.database_url.starts_with("postgresql://") ||
         store.database_url.starts_with("postgres://");
}

// A URL's password, wherever libpq or Redis would read it: user:password@ and ?password=.
std::string masked(const std::string& url) {
  auto out = infra::masked_url(url);
  for (const char* key : {"?password=", "&password="}) {
    const auto at = out.find(key);
    if (at == std::string::npos) continue;
    const auto value = at + std::char_traits<char>::length(key);
    const auto end = out.find('&', value);
    out.replace(value, end == std::string::npos ? std::string::npos : end - value, "***");
  }
  return out;
}

std::string jwt_keys_line(const serve_options& serving, const infra::store_config& store) {
  if (serving.jwt_keys.empty()) {
    return is_postgres(store) ? "generated once and kept in the database (jwt_keys)"
                              : "generated once and kept in " +
                                    (std::filesystem::path(store.data_dir) / "jwt-keys").string();
  }
  try {
    const auto keys = api::auth::parse_jwt_keyset(serving.jwt_keys);
    return "configured, signing key " + keys.signing_key().kid;
  } catch (const std::invalid_argument& e) {
    throw cli_error(std::string("--jwt-keys: ") + e.what());
  }
}

std::string bucket_line(const std::string& configured,
                        const infra::rate_limit::token_bucket_config& fallback) {
  try {
    return infra::rate_limit::format_token_bucket(
        configured.empty() ? fallback : infra::rate_limit::parse_token_bucket(configured));
  } catch (const std::invalid_argument& e) {
    throw cli_error(e.what());
  }
}

}  // namespace

void print_config(const infra::store_config& store, const serve_options& serving,
                  std::ostream& out) {
  const bool postgres = is_postgres(store);
  if (!store.database_url.empty() && !postgres) {
    throw cli_error("unsupported database URL " + masked(store.database_url) +
                    ": use postgresql://… or leave it empty for the embedded SQLite store");
  }
  validate(serving.cluster, postgres);
  const auto& cluster = serving.cluster;
  const auto web = cluster.roles.api ? resolve_web_root(serving.web_root) : std::filesystem::path();
  const infra::rate_limit::rate_limit_policy defaults;

  auto line = [&out](std::string_view name, const std::string& value) {
    out << name;
    for (auto n = name.size(); n < 32; ++n) out << ' ';
    out << "= " << value << '\n';
  };
  line("roles", cluster.roles.to_string());
  line("store",
       postgres
           ? "postgresql " + masked(store.database_url)
           : "sqlite " + (std::filesystem::path(store.data_dir) / "realmkit.db").string() +
                 (store.sqlite_relaxed_sync ? " (synchronous=NORMAL)" : " (synchronous=FULL)"));
  if (postgres) {
    line("store.unsafe_durability", cluster.unsafe_durability ? "true" : "false");
  }
  line("listen", serving.host + ":" + std::to_string(serving.port));
  line("io_threads", std::to_string(serving.io_threads));
  line("db_threads", std::to_string(serving.db_threads));
  std::string origins;
  for (const auto& o : serving.cors_origins) origins += (origins.empty() ? "" : ",") + o;
  line("cors.origins", origins.empty() ? "(none: same-origin browsers only)" : origins);
  line("cors.credentials", serving.cors_credentials ? "true" : "false");
  line("cookies.secure", serving.insecure_cookies ? "false" : "true");
  line("jwt.keys", jwt_keys_line(serving, store));
  if (serving.no_rate_limits) {
    line("rate_limits", "off");
  } else {
    line("rate_limits.per_user", bucket_line(serving.rate_per_user, defaults.per_user));
    line("rate_limits.per_address", bucket_line(serving.rate_per_address, defaults.per_address));
    line("rate_limits.login", bucket_line(serving.rate_login, defaults.login_per_address));
    line("rate_limits.shared", cluster.shared_redis() ? "redis" : "no (per process)");
  }
  line("analytics.refresh_seconds", std::to_string(serving.analytics_refresh_seconds));
  line("webhooks.allow_private", serving.webhooks_allow_private ? "true" : "false");
  line("webhooks.retention_days", serving.webhook_retention_days == 0
                                      ? "0 (kept until their subscription is deleted)"
                                      : std::to_string(serving.webhook_retention_days));
  // Secrets are never printed: only whether each provider is enabled.
  for (const auto& [name, secret] : {std::pair{"mailgun", &serving.mailgun_signing_key},
                                     std::pair{"calendly", &serving.calendly_signing_key},
                                     std::pair{"twilio", &serving.twilio_auth_token}}) {
    line(std::string("integrations.") + name,
         secret->empty() ? "(off: no secret)" : "on, secret ***");
  }
  if (serving.lead_scoring_url.empty()) {
    line("lead_scoring.provider", "local (nothing sent anywhere)");
  } else {
    line("lead_scoring.provider", "openai-compatible");
    line("lead_scoring.url", serving.lead_scoring_url);
    line("lead_scoring.model", serving.lead_scoring_model);
    line("lead_scoring.api_key", serving.lead_scoring_api_key.empty() ? "(none)" : "***");
  }
  line("integrations.public_url", serving.public_url.empty()
                                      ? "(from the request: X-Forwarded-Proto/Host, Host)"
                                      : serving.public_url);
  if (cluster.roles.api) line("web.root", web.empty() ? "(none: no browser UI)" : web.string());
  if (cluster.distributed_bus()) {
    line("kafka.brokers", cluster.kafka.brokers);
    line("kafka.topic", cluster.kafka.topic);
    line("kafka.group", cluster.kafka.group);
    line("kafka.partitions", std::to_string(cluster.kafka.partitions));
    line("kafka.replication_factor", cluster.kafka.replication_factor < 0
                                         ? "(broker default)"
                                         : std::to_string(cluster.kafka.replication_factor));
    for (const auto& p : cluster.kafka.properties) {
      const auto eq = p.find('=');
      const auto name = p.substr(0, eq);
      line("kafka.property." + name, is_secret_property(name) ? "***" : p.substr(eq + 1));
    }
  } else {
    line("kafka.brokers", "(none: projectors follow the event store in process)");
  }
  line("redis.url", cluster.shared_redis()
                        ? masked(cluster.redis_url)
                        : "(none: room updates, limits and revocations stay in process)");
}

}  // namespace realmkit::app
