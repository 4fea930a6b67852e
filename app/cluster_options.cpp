#include "app/cluster_options.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "app/user_command.hpp"

namespace realmkit::app {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

role_set role_set::parse(std::string_view list) {
  role_set out{false, false, false, false};
  std::size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    const auto name = trim(list.substr(pos, comma - pos));
    pos = comma + 1;
    if (name.empty()) continue;
    if (name == "all") {
      out = role_set{};
    } else if (name == "api") {
      out.api = true;
    } else if (name == "hub") {
      out.hub = true;
    } else if (name == "projector") {
      out.projector = true;
    } else if (name == "relay") {
      out.relay = true;
    } else {
      throw cli_error("unknown role '" + std::string(name) +
                      "' in --roles: use api, hub, projector, relay (any of them, "
                      "comma-separated) or all");
    }
  }
  if (out.none()) throw cli_error("--roles names no role: use api, hub, projector, relay or all");
  return out;
}

std::string role_set::to_string() const {
  std::string out;
  const std::array<std::pair<bool, const char*>, 4> roles{
      {{api, "api"}, {hub, "hub"}, {projector, "projector"}, {relay, "relay"}}};
  for (const auto& [on, name] : roles) {
    if (!on) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

bool is_secret_property(std::string_view name) {
  const auto n = lower(name);
  for (const char* secret : {"password", "secret", "key", "token", "jaas"}) {
    if (n.find(secret) != std::string::npos) return true;
  }
  return false;
}

void validate(const cluster_options& cluster, bool postgres) {
  const auto& roles = cluster.roles;
  if (roles.none()) throw cli_error("--roles names no role: use api, hub, projector, relay or all");
  if (!postgres) {
    if (!roles.all()) {
      throw cli_error("--roles " + roles.to_string() +
                      " runs part of RealmKit in this process, so other processes must share its "
                      "data: that needs PostgreSQL (--database-url postgresql://…); the embedded "
                      "SQLite store runs every role in one process");
    }
    if (cluster.distributed_bus() || cluster.shared_redis()) {
      throw cli_error(
          "Kafka and Redis connect processes that share one PostgreSQL store: set "
          "--database-url postgresql://… as well, or leave --kafka-brokers and --redis-url empty "
          "for the embedded default");
    }
  }
  if (roles.relay && !roles.all() && !cluster.distributed_bus()) {
    throw cli_error(
        "the relay role produces the events to Kafka: set --kafka-brokers (or "
        "REALMKIT_KAFKA_BROKERS)");
  }
  if (roles.hub && !roles.projector && !cluster.shared_redis()) {
    throw cli_error(
        "a hub without the projector role receives room updates from the projectors through "
        "Redis: set --redis-url (or REALMKIT_REDIS_URL), or add the projector role");
  }
  if (cluster.kafka.partitions < 1 || cluster.kafka.partitions > 10'000) {
    throw cli_error("--kafka-partitions must be between 1 and 10000");
  }
  if (cluster.kafka.topic.empty()) throw cli_error("--kafka-topic must not be empty");
  if (cluster.kafka.group.empty()) throw cli_error("--kafka-group must not be empty");
  for (const auto& p : cluster.kafka.properties) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw cli_error("--kafka-property '" + (is_secret_property(p) ? std::string("***") : p) +
                      "' is not name=value");
    }
  }
  if (cluster.shared_redis() && !cluster.redis_url.starts_with("redis://")) {
    throw cli_error("--redis-url must be redis://[:password@]host[:port][/db]");
  }
}

}  // namespace realmkit::app
