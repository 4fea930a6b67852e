#include "infra/event_store.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <atomic>
#include <set>
#include <thread>

namespace realmkit::infra {
namespace {

std::string describe_expected(expected_version expected) {
  if (!expected) return "any";
  if (*expected == kNoStream) return "no stream";
  return std::to_string(*expected);
}

bool is_json_object(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return !doc.HasParseError() && doc.IsObject();
}

bool is_valid_name(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7F) return false;  // no spaces or control characters
  }
  return true;
}

// Reads batches with read_all and parks in wait_for_append when caught up; one position cursor
// makes the catch-up to live handover gap-free and duplicate-free by construction.
class polling_subscription final : public subscription {
 public:
  polling_subscription(event_store& store, std::int64_t after, event_handler on_event,
                       error_handler on_error)
      : store_(store),
        position_(after),
        on_event_(std::move(on_event)),
        on_error_(std::move(on_error)) {
    thread_ = std::thread([this] { run(); });
  }
  ~polling_subscription() override {
    stop_ = true;
    thread_.join();
  }
  std::int64_t position() const override { return position_.load(); }

 private:
  void run() {
    constexpr std::size_t kBatch = 512;
    constexpr std::chrono::milliseconds kPark{100};
    try {
      while (!stop_) {
        auto batch = store_.read_all(position_.load(), kBatch);
        for (const auto& event : batch) {
          if (stop_) return;
          on_event_(event);
          position_ = event.global_position;
        }
        if (batch.size() < kBatch && !stop_) store_.wait_for_append(position_.load(), kPark);
      }
    } catch (...) {
      if (on_error_) on_error_(std::current_exception());
    }
  }

  event_store& store_;
  std::atomic<std::int64_t> position_;
  event_handler on_event_;
  error_handler on_error_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

wrong_expected_version::wrong_expected_version(std::string stream_id, expected_version expected,
                                               std::int64_t actual)
    : store_error("stream " + stream_id + " is at version " + std::to_string(actual) +
                  ", expected " + describe_expected(expected)),
      stream_id_(std::move(stream_id)),
      expected_(expected),
      actual_(actual) {}

void validate_writes(std::span<const stream_write> writes) {
  if (writes.empty()) throw invalid_append("streams", "an append needs at least one stream");
  std::size_t total = 0;
  std::set<std::string_view> streams;
  std::set<std::string_view> ids;
  for (std::size_t w = 0; w < writes.size(); ++w) {
    const auto& write = writes[w];
    const std::string at = "streams/" + std::to_string(w);
    if (!is_valid_name(write.stream_id, 200)) {
      throw invalid_append(at + ".stream_id", "stream id must be 1-200 printable characters");
    }
    if (!streams.insert(write.stream_id).second) {
      throw invalid_append(at + ".stream_id", "stream " + write.stream_id + " appears twice");
    }
    if (write.expected && *write.expected < 0) {
      throw invalid_append(at + ".expected_version", "expected version must not be negative");
    }
    if (write.events.empty()) {
      throw invalid_append(at + ".events", "a stream write needs at least one event");
    }
    total += write.events.size();
    for (std::size_t i = 0; i < write.events.size(); ++i) {
      const auto& e = write.events[i];
      const std::string field = at + ".events/" + std::to_string(i);
      if (!is_valid_name(e.event_id, 64)) {
        throw invalid_append(field + ".event_id", "event id must be 1-64 printable characters");
      }
      if (!ids.insert(e.event_id).second) {
        throw invalid_append(field + ".event_id", "event id " + e.event_id + " appears twice");
      }
      if (!is_valid_name(e.type, 100)) {
        throw invalid_append(field + ".type", "event type must be 1-100 printable characters");
      }
      if (e.schema_version < 1) {
        throw invalid_append(field + ".schema_version", "schema version must be at least 1");
      }
      if (e.data.size() > kMaxEventDataBytes) {
        throw invalid_append(field + ".data", "event data is " + std::to_string(e.data.size()) +
                                                  " bytes, over the limit of " +
                                                  std::to_string(kMaxEventDataBytes));
      }
      if (e.metadata.size() > kMaxEventMetadataBytes) {
        throw invalid_append(field + ".metadata", "event metadata is over the limit of " +
                                                      std::to_string(kMaxEventMetadataBytes) +
                                                      " bytes");
      }
      if (!is_json_object(e.data)) {
        throw invalid_append(field + ".data", "event data must be a JSON object");
      }
      if (!is_json_object(e.metadata)) {
        throw invalid_append(field + ".metadata", "event metadata must be a JSON object");
      }
    }
  }
  if (total > kMaxEventsPerAppend) {
    throw invalid_append(
        "events", "an append holds at most " + std::to_string(kMaxEventsPerAppend) + " events");
  }
}

std::unique_ptr<subscription> event_store::subscribe_all(std::int64_t after_position,
                                                         event_handler on_event,
                                                         error_handler on_error) {
  return std::make_unique<polling_subscription>(*this, after_position, std::move(on_event),
                                                std::move(on_error));
}

}  // namespace realmkit::infra
