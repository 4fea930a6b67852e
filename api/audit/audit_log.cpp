#include "api/audit/audit_log.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "infra/json/json_time.hpp"

namespace realmkit::api::audit {
namespace {

void put(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view key,
         std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

std::string format_audit_read(const audit_read& r, std::chrono::system_clock::time_point now) {
  const auto ts =
      infra::format_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(now));
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  put(w, "ts", ts ? *ts : std::string());
  put(w, "level", "info");
  put(w, "logger", "audit");
  put(w, "event", "audit.read");
  put(w, "route", r.route);
  put(w, "user_id", r.user_id);
  put(w, "role", r.role);
  put(w, "request_id", r.request_id);
  put(w, "remote", r.remote);
  put(w, "target", r.target);
  w.Key("query");
  w.StartObject();
  if (r.query) {
    for (const auto& [name, value] : *r.query) put(w, name, value);
  }
  w.EndObject();
  w.Key("items");
  w.Uint64(r.items);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::shared_ptr<spdlog::logger> audit_logger() {
  const std::string name(kAuditLoggerName);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger =
      std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::info);
  try {
    spdlog::register_logger(logger);
  } catch (const spdlog::spdlog_ex&) {
    // Another thread registered it first; use that one.
    if (auto existing = spdlog::get(name)) return existing;
  }
  return logger;
}

void log_audit_read(const audit_read& read) {
  audit_logger()->info(format_audit_read(read, std::chrono::system_clock::now()));
}

}  // namespace realmkit::api::audit
