// Builds librdkafka configurations from kafka_settings, reporting refused properties by name.
#include "infra/kafka/kafka_settings.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

namespace realmkit::infra::kafka {

kafka_config_error::kafka_config_error(std::string property, const std::string& reason)
    : std::invalid_argument("kafka property " + property + ": " + reason),
      property_(std::move(property)) {}

namespace {

std::string_view trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

void set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char reason[512] = "";
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), reason, sizeof reason) !=
      RD_KAFKA_CONF_OK) {
    throw kafka_config_error(name, reason);
  }
}

}  // namespace

void detail::conf_deleter::operator()(rd_kafka_conf_s* conf) const noexcept {
  rd_kafka_conf_destroy(conf);
}

kafka_properties parse_kafka_properties(std::string_view text) {
  kafka_properties out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = trimmed(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw kafka_config_error(std::string(item), "expected key=value");
    }
    const auto key = trimmed(item.substr(0, eq));
    if (key.empty()) throw kafka_config_error(std::string(item), "empty property name");
    out.emplace_back(std::string(key), std::string(trimmed(item.substr(eq + 1))));
  }
  return out;
}

namespace {

// Every client logs through spdlog, named by its handle ("realmkit#producer-1"), so the relay's
// and the consumers' lines can be told apart. syslog levels: 0-3 errors, 4 warning, 5-7 detail.
void log_to_spdlog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const char* client = rd_kafka_name(rk);
  if (level <= 3) {
    spdlog::error("kafka {} [{}] {}", client, facility, message);
  } else if (level == 4) {
    spdlog::warn("kafka {} [{}] {}", client, facility, message);
  } else {
    spdlog::debug("kafka {} [{}] {}", client, facility, message);
  }
}

}  // namespace

conf_ptr make_conf(const kafka_settings& settings, const kafka_properties& defaults,
                   const kafka_properties& required) {
  conf_ptr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_to_spdlog);
  if (!settings.brokers.empty()) set(conf.get(), "bootstrap.servers", settings.brokers);
  if (!settings.client_id.empty()) set(conf.get(), "client.id", settings.client_id);
  for (const auto& [name, value] : defaults) set(conf.get(), name, value);
  for (const auto& [name, value] : settings.properties) set(conf.get(), name, value);
  for (const auto& [name, value] : required) set(conf.get(), name, value);
  return conf;
}

}  // namespace realmkit::infra::kafka
