#include "api/access_log.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <ctime>

namespace realmkit::api {
namespace {

void put(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view key,
         std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

std::string format_access_record(const access_record& r,
                                 std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(now.time_since_epoch()).count();
  const auto secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[40];
  const auto n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(ts + n, sizeof ts - n, ".%06lldZ", static_cast<long long>(us % 1'000'000));

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  put(w, "ts", ts);
  put(w, "level", "info");
  put(w, "logger", "access");
  put(w, "method", r.method);
  put(w, "route", r.route);
  put(w, "path", r.path);
  w.Key("status");
  w.Int(r.status);
  w.Key("duration_ms");
  w.Double(static_cast<double>(r.duration.count()) / 1000.0);
  w.Key("bytes_in");
  w.Uint64(r.bytes_in);
  w.Key("bytes_out");
  w.Uint64(r.bytes_out);
  put(w, "request_id", r.request_id);
  put(w, "remote", r.remote);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::shared_ptr<spdlog::logger> access_logger() {
  const std::string name(kAccessLoggerName);
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

}  // namespace realmkit::api
