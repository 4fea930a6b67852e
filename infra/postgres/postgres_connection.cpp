#include "infra/postgres/postgres_connection.hpp"

#include <poll.h>

#include <utility>

namespace realmkit::infra::postgres_detail {
namespace {

constexpr std::string_view kChannelPrefix = "realmkit_events_";

bool is_url(std::string_view text) {
  return text.starts_with("postgresql://") || text.starts_with("postgres://");
}

// Adds the settings every connection needs to the caller's URL (or key=value string) without
// overriding what the caller set.
std::string connection_string(const postgres_store_options& options, std::string_view purpose) {
  const std::string timeout = std::to_string(options.connect_timeout.count());
  std::string application = "realmkit-";
  application += purpose;
  std::string text = options.url;
  if (is_url(text)) {
    text += text.find('?') == std::string::npos ? '?' : '&';
    text += "connect_timeout=" + timeout +
            "&client_encoding=UTF8&fallback_application_name=" + application;
  } else {
    text += " connect_timeout=" + timeout +
            " client_encoding=UTF8 fallback_application_name=" + application;
  }
  return text;
}

}  // namespace

bool is_valid_schema_name(std::string_view schema) {
  if (schema.empty() || schema.size() > 63 - kChannelPrefix.size()) return false;
  if (schema.front() >= '0' && schema.front() <= '9') return false;
  for (char c : schema) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string quoted_identifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string notify_channel(std::string_view schema) {
  return std::string(kChannelPrefix) + std::string(schema);
}

std::string redacted_url(std::string_view url) {
  if (!is_url(url)) return "the configured PostgreSQL server";
  const auto scheme_end = url.find("://") + 3;
  const auto at = url.find('@', scheme_end);
  if (at == std::string_view::npos) return std::string(url);
  const auto colon = url.find(':', scheme_end);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

std::unique_ptr<pqxx::connection> open_connection(const postgres_store_options& options,
                                                  std::string_view purpose) {
  std::unique_ptr<pqxx::connection> connection;
  try {
    connection = std::make_unique<pqxx::connection>(connection_string(options, purpose));
    // set_variable (not a raw SET) so libpqxx restores it should it ever reconnect on its own.
    connection->set_variable("search_path", quoted_identifier(options.schema));
    // Every statement of the store is a short indexed one; JIT compilation would cost more
    // than it saves whenever a cost estimate crosses its threshold.
    connection->set_variable("jit", "off");
  } catch (const std::exception& e) {
    throw store_unavailable("cannot connect to PostgreSQL at " + redacted_url(options.url) + ": " +
                            e.what());
  }
  return connection;
}

void rethrow_as_store_error(std::string_view operation) {
  const std::string op(operation);
  try {
    throw;
  } catch (const store_error&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    throw store_unavailable(op + ": lost the connection to PostgreSQL: " + e.what());
  } catch (const pqxx::in_doubt_error& e) {
    throw store_unavailable(op + ": the outcome of the commit is unknown (a retry with the same " +
                            "event ids is safe): " + e.what());
  } catch (const pqxx::sql_error& e) {
    throw store_unavailable(op + " failed (SQLSTATE " + e.sqlstate() + "): " + e.what());
  } catch (const std::exception& e) {
    throw store_unavailable(op + " failed: " + e.what());
  }
}

bool connection_lost(const pqxx::connection& connection) {
  return !connection.is_open();
}

bool still_connected(pqxx::connection& connection) {
  if (connection_lost(connection)) return false;
  // An idle connection that LISTENs to nothing has nothing to read unless the server is
  // closing it (its goodbye message or EOF): treat any input as that and reconnect.
  pollfd fd{connection.sock(), POLLIN, 0};
  return fd.fd >= 0 && ::poll(&fd, 1, 0) == 0;
}

connection_pool::connection_pool(opener open, std::size_t size)
    : open_(std::move(open)), size_(size == 0 ? 1 : size) {}

connection_pool::lease::~lease() {
  if (pool_ && connection_) pool_->release(std::move(connection_));
}

connection_pool::lease connection_pool::acquire() {
  {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [&] { return !idle_.empty() || open_count_ < size_; });
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      if (still_connected(*connection)) return lease(*this, std::move(connection));
      // Closed by the server while idle (restart, idle timeout): replace it.
    } else {
      ++open_count_;
    }
  }
  try {
    return lease(*this, open_());
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      --open_count_;
    }
    released_.notify_one();
    throw;
  }
}

void connection_pool::release(std::unique_ptr<pqxx::connection> connection) {
  if (connection_lost(*connection)) {
    connection.reset();  // closed outside the lock; the next acquire opens a fresh one
    std::lock_guard lock(mutex_);
    --open_count_;
  } else {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  released_.notify_one();
}

void text_array_builder::add(std::string_view value) {
  if (!empty_) text_ += ',';
  empty_ = false;
  text_ += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
}

std::string text_array_builder::finish() {
  text_ += '}';
  return std::move(text_);
}

std::string int_array(std::span<const std::int64_t> values) {
  std::string text = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) text += ',';
    text += std::to_string(values[i]);
  }
  text += '}';
  return text;
}

}  // namespace realmkit::infra::postgres_detail
