#include "infra/logging.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <memory>

namespace realmkit::infra {
namespace {

// spdlog's pattern formatter does not escape the message, so JSON lines are written with RapidJSON.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using namespace std::chrono;
    const auto us = duration_cast<microseconds>(msg.time.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[40];
    const auto n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts + n, sizeof ts - n, ".%06lldZ", static_cast<long long>(us % 1'000'000));

    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("ts");
    w.String(ts);
    w.Key("level");
    const auto level = spdlog::level::to_string_view(msg.level);
    w.String(level.data(), static_cast<rapidjson::SizeType>(level.size()));
    if (msg.logger_name.size() > 0) {
      w.Key("logger");
      w.String(msg.logger_name.data(), static_cast<rapidjson::SizeType>(msg.logger_name.size()));
    }
    w.Key("msg");
    w.String(msg.payload.data(), static_cast<rapidjson::SizeType>(msg.payload.size()));
    w.Key("thread");
    w.Uint64(msg.thread_id);
    w.EndObject();
    dest.append(buffer.GetString(), buffer.GetString() + buffer.GetSize());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

}  // namespace

bool parse_log_format(std::string_view text, log_format& out) {
  if (text == "auto")
    out = log_format::automatic;
  else if (text == "json")
    out = log_format::json;
  else if (text == "text")
    out = log_format::text;
  else
    return false;
  return true;
}

void init_logging(log_format format, std::string_view level) {
  auto logger = spdlog::stderr_color_mt("realmkit");
  if (format == log_format::automatic) {
    format = isatty(STDERR_FILENO) ? log_format::text : log_format::json;
  }
  if (format == log_format::json) {
    logger->set_formatter(std::make_unique<json_formatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace realmkit::infra
